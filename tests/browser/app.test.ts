import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFile, writeFile, cp } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { clearSnapshotFiles, launch, serveDist, trackErrors } from './harness.ts';
import { storedHistory } from './helpers/raw-history.ts';

let browser: Browser;
let server: Awaited<ReturnType<typeof serveDist>>;
let items: Array<{ id: string; title: string; synopsis: string }>;

beforeAll(async () => {
  [browser, server] = await Promise.all([launch(), serveDist()]);
  items = JSON.parse(await readFile(path.join(server.root, 'snapshot/items.json'), 'utf8'));
});
afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

const idOf = (title: string) => items.find((t) => t.title === title)!.id;
const ZOMBIES = ['좀비딸', '데드라이프', '위아더좀비'];

async function open(page: Page, hash = '', query = '') {
  await page.goto(`${server.url}${query}#${hash}`);
}

async function historyIds(page: Page): Promise<string[]> {
  await page.goto(`${server.url}#/history`);
  await page.getByRole('heading', { name: 'My history' }).waitFor();
  return page.getByTestId('history-entry').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!).sort());
}

async function likeTitles(page: Page, titles: string[]) {
  for (const t of titles) {
    await open(page, `/title/${idOf(t)}`);
    await page.getByTestId('title-heading').filter({ hasText: t }).waitFor();
    await page.getByTestId('act-like').click();
    await page.locator('[data-testid="act-like"][aria-pressed="true"]').waitFor();
  }
}

describe('the app in a real browser', () => {
  it('browses the demo catalog: Korean text, covers, genre and title filters, catalog text never parsed as HTML', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    await open(page);
    await page.getByTestId('card').first().waitFor();
    expect(await page.getByTestId('result-count').textContent()).toBe('969 / 969');
    const firstCover = page.locator('[data-testid="card"] img').first();
    await firstCover.evaluate((img: HTMLImageElement) => img.decode());
    expect(await firstCover.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(120);

    // The English UI names the catalog's Korean genres in English; the filter keeps the catalog's name.
    const fantasy = page.locator('[data-testid="genre-chip"][data-genre="판타지"]');
    expect(await fantasy.textContent()).toBe('Fantasy');
    await fantasy.click();
    const count = Number((await page.getByTestId('result-count').textContent())!.split(' / ')[0]);
    expect(count).toBeGreaterThan(10);
    expect(count).toBeLessThan(969);
    // Korean glyphs really render (not tofu boxes): two different syllables draw different pixels
    // in the card's own font.
    const differ = await page.getByTestId('card-title').first().evaluate((el) => {
      const font = getComputedStyle(el).font;
      const draw = (ch: string) => {
        const c = document.createElement('canvas');
        c.width = c.height = 40;
        const g = c.getContext('2d')!;
        g.font = font;
        g.fillText(ch, 4, 30);
        return Array.from(g.getImageData(0, 0, 40, 40).data).join(',');
      };
      return draw('좀') !== draw('딸') && draw('좀') !== draw('\uE000');
    });
    expect(differ).toBe(true);
    await page.getByRole('button', { name: 'All genres' }).click();
    await page.getByTestId('title-filter').fill('좀비딸');
    await page.getByTestId('card-title').filter({ hasText: '좀비딸' }).waitFor();
    expect(await page.getByTestId('card').count()).toBe(1);

    // A synopsis that contains "<일상날개짓>" must show those characters, not become an element.
    await open(page, `/title/${idOf('일상날개짓')}`);
    const synopsis = page.getByTestId('synopsis');
    await synopsis.waitFor();
    expect(await synopsis.textContent()).toContain('<일상날개짓>');
    expect(await synopsis.locator('*').count()).toBe(0);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('shows popular titles and a prompt to a new reader (cold start)', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await open(page, '/for-you');
    await page.getByTestId('cold-start').waitFor();
    expect(await page.getByTestId('card').count()).toBe(24);
    await ctx.close();
  });

  it('likes three titles, recommends others with reasons, and keeps the history across a reload', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    await likeTitles(page, ZOMBIES);
    await open(page, '/for-you');
    await page.getByTestId('reason').first().waitFor();
    const recIds = await page.getByTestId('card').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    expect(recIds.length).toBe(24);
    for (const t of ZOMBIES) expect(recIds).not.toContain(idOf(t));
    // Every card explains itself: a history title behind it, or (serendipity) the category it was drawn from.
    const reasons = await page.getByTestId('reason').allTextContents();
    expect(reasons).toHaveLength(24);
    expect(reasons.every((r) => ZOMBIES.some((z) => r.includes(`“${z}”`)) || r.startsWith('A surprise'))).toBe(true);
    expect(await page.getByTestId('content-only').count()).toBe(1);

    // The serendipity control: 0 gives no surprises, 1 gives some; the setting survives a reload.
    const surprises = () => page.locator('[data-testid="card"] .badge').count();
    await page.getByTestId('serendipity').fill('0');
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="card"] .badge').length === 0);
    await page.getByTestId('serendipity').fill('1');
    await page.locator('[data-testid="card"] .badge').first().waitFor();
    expect(await surprises()).toBeGreaterThan(0);
    await page.reload();
    await page.getByTestId('reason').first().waitFor();
    expect(await page.getByTestId('serendipity').inputValue()).toBe('1');
    await page.getByTestId('serendipity').fill('0.5');
    await page.locator('[data-testid="for-you"][data-level="0.5"]').waitFor();
    expect(await page.getByTestId('card').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')))).toEqual(recIds);

    await page.reload();
    await page.getByTestId('reason').first().waitFor();
    const again = await page.getByTestId('card').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    expect(again).toEqual(recIds);
    expect(await historyIds(page)).toEqual(ZOMBIES.map(idOf).sort());

    // The top recommendation's title page charts why: a signed bar per space, and the history behind it.
    await open(page, `/title/${recIds[0]}`);
    const chart = page.getByTestId('why-chart');
    await chart.waitFor();
    const spaces = await chart.getByTestId('why-value').evaluateAll((els) => els.map((e) => e.getAttribute('data-space')));
    expect(spaces).toEqual(expect.arrayContaining(['genre', 'lexical']));
    const text = (await chart.textContent())!;
    expect(ZOMBIES.some((z) => text.includes(z))).toBe(true);
    // A title the reader has read has no "why".
    await open(page, `/title/${idOf(ZOMBIES[0])}`);
    await page.getByTestId('title-heading').waitFor();
    expect(await page.getByTestId('why-chart').count()).toBe(0);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('exports the history and imports it into a fresh profile; a malformed import changes nothing', async () => {
    const a = await browser.newContext({ acceptDownloads: true });
    const pa = await a.newPage();
    await likeTitles(pa, ZOMBIES);
    await pa.goto(`${server.url}#/history`);
    const [download] = await Promise.all([pa.waitForEvent('download'), pa.getByTestId('export').click()]);
    const exported = await readFile((await download.path())!, 'utf8');
    expect(JSON.parse(exported).format).toBe('toonpick-history');
    await a.close();

    const b = await browser.newContext();
    const pb = await b.newPage();
    expect(await historyIds(pb)).toEqual([]);
    await pb.getByTestId('import').setInputFiles({ name: 'history.json', mimeType: 'application/json', buffer: Buffer.from(exported) });
    await pb.getByTestId('notice').filter({ hasText: 'Imported 3 titles' }).waitFor();
    expect(await historyIds(pb)).toEqual(ZOMBIES.map(idOf).sort());

    // A file that is half valid: the bad entry must stop the whole import.
    const bad = JSON.parse(exported);
    bad.entries.push({ id: 'new-one', readAt: 5 }, { id: 'broken', rating: 9, ratedAt: 1 });
    await pb.getByTestId('import').setInputFiles({ name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(bad)) });
    const notice = pb.getByTestId('notice').filter({ hasText: 'Import refused' });
    await notice.waitFor();
    expect(await notice.textContent()).toContain('item broken, field "rating"');
    await pb.getByTestId('import').setInputFiles({ name: 'junk.json', mimeType: 'application/json', buffer: Buffer.from('not json at all') });
    await pb.getByTestId('notice').filter({ hasText: 'junk.json: is not JSON' }).waitFor();
    expect(await historyIds(pb)).toEqual(ZOMBIES.map(idOf).sort());
    await b.close();
  });

  it('keeps two tabs on one history: a like in one shows in the other, and its export has it', async () => {
    const ctx = await browser.newContext();
    const [a, b] = [await ctx.newPage(), await ctx.newPage()];
    await b.goto(`${server.url}#/history`);
    await b.getByRole('heading', { name: 'My history' }).waitFor();
    expect(await b.getByTestId('history-entry').count()).toBe(0);
    // The tab the reader uses is the one in front (a background tab's timers are throttled, as in a real browser).
    await a.bringToFront();
    await likeTitles(a, ZOMBIES.slice(0, 2));
    // Tab b did nothing: it hears the change and shows it without a reload.
    await b.locator(`[data-testid="history-entry"][data-id="${idOf(ZOMBIES[1])}"]`).waitFor();
    const [download] = await Promise.all([b.waitForEvent('download'), b.getByTestId('export').click()]);
    const exported = JSON.parse(await readFile((await download.path())!, 'utf8'));
    expect(exported.entries.map((e: { id: string }) => e.id).sort()).toEqual(ZOMBIES.slice(0, 2).map(idOf).sort());
    await ctx.close();
  });

  it('loads the snapshot in its worker, started before the bundle, and on the page when that worker cannot start', async () => {
    const ctx = await browser.newContext({ serviceWorkers: 'block' });
    const scripts: string[] = [];
    ctx.on('request', (r) => { if (/snapshot\.worker[^/]*\.js$/.test(r.url())) scripts.push(r.url()); });
    const page = await ctx.newPage();
    const fallbacks: string[] = [];
    page.on('console', (m) => { if (m.text().includes('loading the snapshot on the page')) fallbacks.push(m.text()); });
    await open(page, '/');
    await page.getByTestId('card').first().waitFor();
    expect(scripts).toHaveLength(1);
    expect(fallbacks).toEqual([]);
    // The page's inline script started it (early-worker.ts), and the app took that one: the only one started.
    expect(await page.locator('head script:not([src])').textContent()).toContain('snapshot.worker');
    expect(await page.evaluate('window.__toonpickSnapshotWorker')).toBeUndefined();

    // A worker script that dies on load: the page loads the snapshot itself, with the same checks.
    await ctx.route(/\/assets\/snapshot\.worker[^/]*\.js$/, (route) => route.fulfill({ contentType: 'text/javascript', body: 'throw new Error("broken worker");' }));
    await page.reload();
    await page.getByTestId('card').first().waitFor();
    expect(fallbacks).toHaveLength(1);
    expect(await page.getByTestId('card').count()).toBeGreaterThan(10);
    await ctx.close();
  });

  it('shows a clear error for a corrupted snapshot and keeps the reader’s history', async () => {
    await cp(path.join(server.root, 'snapshot'), path.join(server.root, 'broken'), { recursive: true });
    const bin = await readFile(path.join(server.root, 'broken/spaces/lexical.csr16'));
    await writeFile(path.join(server.root, 'broken/spaces/lexical.csr16'), bin.subarray(0, 1000));

    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await likeTitles(page, ZOMBIES.slice(0, 2));
    // Files are kept by content hash: with the good copy already on the device, the damaged one is never needed.
    await open(page, '/', '?snapshot=./broken/');
    await page.getByTestId('card').first().waitFor();
    // Without it, the damaged file is downloaded and refused.
    await clearSnapshotFiles(page);
    await page.reload();
    const err = page.getByTestId('snapshot-error');
    await err.waitFor();
    const text = (await err.textContent())!;
    expect(text).toContain('spaces/lexical.csr16');
    expect(text).toContain('truncated');
    expect(text).toContain('history on this device was not changed');
    expect(await page.getByTestId('card').count()).toBe(0);
    // The history is intact, read straight from IndexedDB.
    const stored = (await storedHistory(page)).map((e) => (e as { id: string }).id).sort();
    expect(stored).toEqual(ZOMBIES.slice(0, 2).map(idOf).sort());

    // A manifest that is an HTML page (a misconfigured server) is named too.
    await writeFile(path.join(server.root, 'broken/manifest.json'), '<!doctype html><p>hi');
    await page.reload();
    await page.getByTestId('snapshot-error').filter({ hasText: 'manifest.json: is not valid JSON' }).waitFor();
    await ctx.close();
  });
});
