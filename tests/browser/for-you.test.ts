/**
 * For you on the demo catalog as a reader meets it: the default Surprise level stays on the reader's taste,
 * reasons say what really carried each card, the level from a link or from storage is clamped, and "More like
 * this" marks what the reader already liked or read.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launch, serveDist, trackErrors } from './harness.ts';

let browser: Browser;
let server: Awaited<ReturnType<typeof serveDist>>;
let items: Array<{ id: string; title: string; genres: string[] }>;

beforeAll(async () => {
  [browser, server] = await Promise.all([launch(), serveDist()]);
  items = JSON.parse(await readFile(path.join(server.root, 'snapshot/items.json'), 'utf8'));
});
afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

async function like(page: Page, id: string) {
  await page.goto(`${server.url}#/title/${encodeURIComponent(id)}`);
  await page.getByTestId('title-heading').waitFor();
  await page.getByTestId('act-like').click();
  await page.locator('[data-testid="act-like"][aria-pressed="true"]').waitFor();
}

async function forYou(page: Page, query = '') {
  await page.goto(`${server.url}${query}#/for-you`);
  await page.getByTestId('card').first().waitFor();
  return page.getByTestId('card').evaluateAll((els) =>
    els.map((e) => ({
      id: e.getAttribute('data-id')!,
      reason: e.querySelector('[data-testid="reason"]')?.textContent ?? '',
      why: e.querySelector('[data-testid="reason"]')?.getAttribute('data-why') ?? '',
      badge: e.querySelector('[data-testid="badge"]')?.textContent ?? '',
    })),
  );
}

describe('For you on the demo catalog', () => {
  it('6 romance likes → a majority of romance in the first 10 cards at the default level, with honest, varied reasons', async () => {
    const ctx = await browser.newContext({ locale: 'en-US' });
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    // Six romance titles spread over the catalog (every 15th), as a reader might pick them.
    const romance = items.filter((t) => t.genres.includes('로맨스')).filter((_, i) => i % 15 === 0).slice(0, 6);
    expect(romance).toHaveLength(6);
    for (const t of romance) await like(page, t.id);

    const cards = await forYou(page);
    expect(await page.getByTestId('serendipity').inputValue()).toBe('0.5'); // the default level
    const genresOf = new Map(items.map((t) => [t.id, t.genres]));
    const first10 = cards.slice(0, 10);
    expect(first10.filter((c) => genresOf.get(c.id)!.includes('로맨스')).length).toBeGreaterThan(5);
    // Reasons: never the community's words on a catalog without reading data; different reasons never read the same
    // on adjacent cards; surprises say they are surprises.
    for (const c of cards) {
      expect(c.reason).not.toMatch(/readers of .* also read it/);
      expect(c.reason.length).toBeGreaterThan(0);
      if (c.badge === 'Surprise') expect(c.reason).toMatch(/^A surprise/);
      else expect(c.reason).toMatch(/^Because of “/);
    }
    for (let i = 1; i < cards.length; i++) if (cards[i].why !== cards[i - 1].why) expect(cards[i].reason).not.toBe(cards[i - 1].reason);
    expect(new Set(cards.map((c) => c.reason)).size).toBeGreaterThan(cards.length / 3);
    // The cards name the history title behind them: a liked romance title.
    const liked = new Set(romance.map((t) => t.title));
    expect(cards.filter((c) => [...liked].some((t) => c.reason.includes(`“${t}”`))).length).toBeGreaterThan(cards.length / 2);

    // At level 1 the list turns away from the history: fewer romance titles than at the default.
    await page.getByTestId('serendipity').fill('1');
    await page.locator('[data-testid="for-you"][data-level="1"]').waitFor(); // the list at level 1 is drawn
    const surprising = await page.getByTestId('card').evaluateAll((els) => els.slice(0, 10).map((e) => e.getAttribute('data-id')!));
    expect(surprising.filter((id) => genresOf.get(id)!.includes('로맨스')).length).toBeLessThan(first10.filter((c) => genresOf.get(c.id)!.includes('로맨스')).length);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('takes the level from ?serendipity= clamped into [0, 1], and from storage', async () => {
    const ctx = await browser.newContext({ locale: 'en-US' });
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    await like(page, items[0].id);
    await forYou(page, '?serendipity=7');
    expect(await page.getByTestId('serendipity').inputValue()).toBe('1');
    await forYou(page, '?serendipity=-2');
    expect(await page.getByTestId('serendipity').inputValue()).toBe('0');
    await forYou(page, '?serendipity=abc');
    expect(await page.getByTestId('serendipity').inputValue()).toBe('0');
    // A level the reader chose is kept; a bad stored value (an older version, a hand edit) is clamped.
    await forYou(page);
    await page.getByTestId('serendipity').fill('0.3');
    await page.waitForTimeout(200);
    await forYou(page);
    expect(await page.getByTestId('serendipity').inputValue()).toBe('0.3');
    await page.evaluate(
      () =>
        new Promise<void>((resolve, reject) => {
          const open = indexedDB.open('toonpick');
          open.onsuccess = () => {
            const tx = open.result.transaction('meta', 'readwrite');
            tx.objectStore('meta').put(42, 'serendipity');
            tx.oncomplete = () => (open.result.close(), resolve());
            tx.onerror = () => reject(tx.error);
          };
          open.onerror = () => reject(open.error);
        }),
    );
    await page.reload();
    await forYou(page);
    expect(await page.getByTestId('serendipity').inputValue()).toBe('1');
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('"More like this" marks titles the reader already liked or read', async () => {
    const ctx = await browser.newContext({ locale: 'en-US' });
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    const seed = items.find((t) => t.genres.includes('무협/사극'))!;
    await page.goto(`${server.url}#/title/${encodeURIComponent(seed.id)}`);
    await page.getByTestId('title-heading').waitFor();
    const similar = page.locator('section[aria-labelledby="similar-heading"] [data-testid="card"]');
    await similar.first().waitFor();
    const ids = await similar.evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!));
    await like(page, ids[0]);
    await page.goto(`${server.url}#/title/${encodeURIComponent(ids[1])}`);
    await page.getByTestId('title-heading').waitFor();
    await page.getByTestId('act-read').click();
    await page.locator('[data-testid="act-read"][aria-pressed="true"]').waitFor();
    await page.goto(`${server.url}#/title/${encodeURIComponent(seed.id)}`);
    await similar.first().waitFor();
    const badges = await similar.evaluateAll((els) => Object.fromEntries(els.map((e) => [e.getAttribute('data-id')!, e.querySelector('[data-testid="badge"]')?.textContent ?? ''])));
    expect(badges[ids[0]]).toBe('You liked this');
    expect(badges[ids[1]]).toBe('Already read');
    for (const id of ids.slice(2)) expect(badges[id]).toBe('');
    expect(errors).toEqual([]);
    await ctx.close();
  });
});
