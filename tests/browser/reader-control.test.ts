/**
 * The reader's product in a real browser: the title page's way out to read the comic and its author and genre
 * links, and the reader's control of their data (remove one title, clear everything with a confirmation, undo),
 * offline and in Korean.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launch, serveDist, trackErrors } from './harness.ts';
import { putRawHistory } from './helpers/raw-history.ts';

let browser: Browser;
let server: Awaited<ReturnType<typeof serveDist>>;
let items: Array<{ id: string; title: string; author?: string; genres: string[]; sourceUrl?: string }>;

beforeAll(async () => {
  [browser, server] = await Promise.all([launch(), serveDist()]);
  items = JSON.parse(await readFile(path.join(server.root, 'snapshot/items.json'), 'utf8'));
});
afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

async function like(page: Page, id: string) {
  await page.goto(`${server.url}#/title/${id}`);
  await page.getByTestId('act-like').click();
  await page.locator('[data-testid="act-like"][aria-pressed="true"]').waitFor();
}

const shownIds = (page: Page) => page.getByTestId('history-entry').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!).sort());

describe('the title page', () => {
  it('links out to read the title on its site, and to browse by its author and genres', async () => {
    const ctx = await browser.newContext({ locale: 'en-US' });
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    const t = items.find((x) => x.sourceUrl && x.author && items.filter((y) => y.author === x.author).length >= 2)!;
    await page.goto(`${server.url}#/title/${t.id}`);
    const readOn = page.getByTestId('read-on');
    await readOn.waitFor();
    expect(await readOn.getAttribute('href')).toBe(t.sourceUrl);
    expect(await readOn.getAttribute('target')).toBe('_blank');
    expect(await readOn.getAttribute('rel')).toContain('noopener');
    expect(await readOn.textContent()).toBe(`Read on ${new URL(t.sourceUrl!).hostname} ↗`);

    await page.getByTestId('author-link').click();
    await page.getByTestId('title-filter').waitFor();
    expect(await page.getByTestId('title-filter').inputValue()).toBe(t.author);
    const byAuthor = items.filter((x) => x.title.includes(t.author!) || x.author?.includes(t.author!)).length;
    await page.getByTestId('result-count').filter({ hasText: `${byAuthor} / ${items.length}` }).waitFor();

    await page.goto(`${server.url}#/title/${t.id}`);
    await page.getByTestId('genre-link').first().click();
    const genre = t.genres[0];
    await page.locator(`[data-testid="genre-chip"][aria-pressed="true"][data-genre="${genre}"]`).waitFor();
    const inGenre = items.filter((x) => x.genres.includes(genre)).length;
    await page.getByTestId('result-count').filter({ hasText: `${inGenre} / ${items.length}` }).waitFor();
    expect(errors).toEqual([]);
    await ctx.close();
  });
});

describe('review notes', () => {
  it('reads a note’s mood in the sentiment worker, loaded only when the first note is saved, and keeps it', async () => {
    const ctx = await browser.newContext({ locale: 'ko-KR' });
    const models: string[] = [];
    ctx.on('request', (r) => { if (r.url().includes('/models/sentiment/')) models.push(new URL(r.url()).pathname); });
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    const [a, b] = [items[30], items[31]];
    await page.goto(`${server.url}#/title/${a.id}`);
    await page.getByTestId('note-input').waitFor();
    expect(models).toEqual([]);
    await page.getByTestId('note-input').fill('그림체 최고! 매주 기다려져요');
    await page.getByTestId('note-save').click();
    const mood = page.getByTestId('note-mood');
    await mood.filter({ hasText: '긍정적 메모로 읽힙니다' }).waitFor();
    expect(Number(await mood.getAttribute('data-sentiment'))).toBeGreaterThan(0.7);
    expect(models.sort()).toEqual(['/models/sentiment/sentiment.i8', '/models/sentiment/sentiment.json']);
    await page.goto(`${server.url}#/title/${b.id}`);
    await page.getByTestId('note-input').fill('스토리 늘어지고 시간 낭비였음 최악');
    await page.getByTestId('note-save').click();
    await page.getByTestId('note-mood').filter({ hasText: '부정적 메모로 읽힙니다' }).waitFor();
    expect(models).toHaveLength(2); // one model load for the page's notes

    await page.goto(`${server.url}#/history`);
    await page.reload();
    await page.locator(`[data-testid="history-entry"][data-id="${a.id}"]`, { hasText: '메모, 긍정' }).waitFor();
    await page.locator(`[data-testid="history-entry"][data-id="${b.id}"]`, { hasText: '메모, 부정' }).waitFor();
    await page.goto(`${server.url}#/title/${a.id}`);
    expect(await page.getByTestId('note-input').inputValue()).toBe('그림체 최고! 매주 기다려져요');
    expect(errors).toEqual([]);
    await ctx.close();
  });
});

describe('the style map', () => {
  it('has a legend of its style groups and shows where the reader’s taste lies', async () => {
    const ctx = await browser.newContext({ locale: 'en-US' });
    const squares: string[] = [];
    // The page's own requests (the service worker's fetch on its behalf is the same download).
    ctx.on('request', (r) => { if (r.url().includes('/covers64/') && !r.serviceWorker()) squares.push(new URL(r.url()).pathname); });
    const page = await ctx.newPage();
    await page.goto(`${server.url}#/`);
    await page.getByTestId('card').first().waitFor();
    const liked = items.slice(50, 54).map((t) => t.id);
    for (const id of liked) await like(page, id);
    await page.goto(`${server.url}#/style-map`);
    await page.getByTestId('style-point').first().waitFor();
    const groups = await page.locator('[data-testid="style-legend"] li').count();
    expect(groups).toBeGreaterThan(1);
    // Every group in the legend names its size, and the sizes add up to the titles placed in a group.
    const sizes = await page.locator('[data-testid="style-legend"] li').evaluateAll((els) => els.map((e) => Number(/· (\d+) titles/.exec(e.textContent ?? '')?.[1])));
    expect(sizes.every((n) => n > 0)).toBe(true);
    const mine = await page.locator('[data-testid="style-point"][data-mine]').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')).sort());
    expect(mine).toEqual([...liked].sort());
    // Every cover drawn from the one sprite: a single request for the map's 969 covers.
    expect(await page.getByTestId('sprite-cell').count()).toBe(await page.getByTestId('style-point').count());
    await page.waitForFunction(() => performance.getEntriesByType('resource').some((e) => e.name.endsWith('/covers64/sprite.webp')));
    expect(squares).toEqual(['/snapshot/covers64/sprite.webp']);
    const taste = await page.getByTestId('style-taste').textContent();
    expect(taste).toMatch(/^Where your taste lies: style group \d+ holds [1-4] of the 4 titles you read/);
    await ctx.close();
  });
});

describe('browse', () => {
  it('sorts by popularity, rating and title, and keeps only completed titles when asked', async () => {
    const ctx = await browser.newContext({ locale: 'en-US' });
    const page = await ctx.newPage();
    await page.goto(`${server.url}#/`);
    await page.getByTestId('card').first().waitFor();
    const first = () => page.getByTestId('card').first().getAttribute('data-id');
    const full = items as Array<(typeof items)[number] & { rating?: number; popularity: number; completed?: boolean }>;
    await page.getByTestId('browse-sort').selectOption('rating');
    const best = Math.max(...full.map((t) => t.rating ?? -Infinity));
    await page.locator(`[data-testid="card"]:first-child[data-id="${full.find((t) => t.rating === best)!.id}"]`).waitFor();
    await page.getByTestId('browse-sort').selectOption('popular');
    const top = full.reduce((a, b) => (b.popularity > a.popularity ? b : a));
    await page.locator(`[data-testid="card"]:first-child[data-id="${top.id}"]`).waitFor();
    await page.getByTestId('browse-sort').selectOption('title');
    const byTitle = [...full].sort((a, b) => a.title.localeCompare(b.title, 'en'))[0];
    await page.locator(`[data-testid="card"]:first-child[data-id="${byTitle.id}"]`).waitFor();
    expect(await first()).toBe(byTitle.id);
    await page.getByTestId('completed-only').check();
    const done = full.filter((t) => t.completed === true).length;
    await page.getByTestId('result-count').filter({ hasText: `${done} / ${items.length}` }).waitFor();
    await ctx.close();
  });
});

describe('the reader’s control of their data', () => {
  it('removes one title, clears everything after a confirmation, and undoes both — offline, in Korean', async () => {
    const ctx = await browser.newContext({ locale: 'ko-KR' });
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    await page.goto(`${server.url}#/`);
    await page.getByTestId('card').first().waitFor();
    const ids = items.slice(10, 13).map((t) => t.id);
    for (const id of ids) await like(page, id);
    // Wait for the service worker to control the page, then go offline: everything below needs no network.
    await page.evaluate(() => navigator.serviceWorker.ready);
    await ctx.setOffline(true);

    await page.goto(`${server.url}#/history`);
    await page.getByTestId('history-entry').first().waitFor();
    expect(await shownIds(page)).toEqual([...ids].sort());
    await page.locator(`[data-testid="history-entry"][data-id="${ids[0]}"] [data-testid="remove-entry"]`).click();
    await page.getByTestId('undo-bar').filter({ hasText: '기록에서 1개 작품을 지웠습니다.' }).waitFor();
    expect(await shownIds(page)).toEqual(ids.slice(1).sort());
    await page.getByTestId('undo').click();
    await page.locator(`[data-testid="history-entry"][data-id="${ids[0]}"]`).waitFor();
    expect(await page.getByTestId('undo-bar').count()).toBe(0);

    // Clear: nothing happens before the confirmation; cancel keeps everything.
    await page.getByTestId('clear').click();
    const confirm = page.getByTestId('clear-confirm');
    await confirm.filter({ hasText: '기록 3개를 모두 지울까요?' }).waitFor();
    await confirm.getByRole('button', { name: '취소' }).click();
    expect(await shownIds(page)).toEqual([...ids].sort());
    await page.getByTestId('clear').click();
    await page.getByTestId('clear-yes').click();
    await page.getByTestId('undo-bar').filter({ hasText: '3개 작품' }).waitFor();
    expect(await page.getByTestId('history-entry').count()).toBe(0);
    // Gone from IndexedDB too (a reload reads it again) …
    await page.reload();
    await page.getByRole('heading', { name: '내 기록' }).waitFor();
    expect(await page.getByTestId('history-entry').count()).toBe(0);
    // … and a removal can be undone only within the page that made it: clear again from a fresh state, then undo.
    for (const id of ids) await like(page, id);
    await page.goto(`${server.url}#/history`);
    await page.getByTestId('clear').click();
    await page.getByTestId('clear-yes').click();
    await page.getByTestId('undo').click();
    await page.locator('[data-testid="history-entry"]').nth(2).waitFor();
    expect(await shownIds(page)).toEqual([...ids].sort());
    expect(errors.filter((e) => !/Failed to load resource|ERR_INTERNET_DISCONNECTED/.test(e))).toEqual([]);
    await ctx.close();
  });

  it('keeps a title the catalog no longer lists, and says so', async () => {
    const ctx = await browser.newContext({ locale: 'en-US' });
    const page = await ctx.newPage();
    await page.goto(`${server.url}#/`);
    await page.getByTestId('card').first().waitFor();
    await putRawHistory(page, [{ id: 'retired-title', likedAt: 1700000000000, readAt: 1700000000000 }]);
    await page.goto(`${server.url}#/history`);
    await page.reload();
    await page.locator('[data-testid="history-entry"][data-id="retired-title"]', { hasText: 'no longer in the catalog' }).waitFor();
    await ctx.close();
  });
});
