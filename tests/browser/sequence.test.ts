/**
 * A snapshot built from community histories (the synthetic "world" of the Ranker's unit tests: community model,
 * sequence model, learned fusion) served to the real app: "For you" must run the sequence model in its worker and
 * show exactly the list the same code gives in Node for the history the page stored.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { makeSnapshot } from '../../scripts/snapshot.ts';
import { trainSeq } from '../../scripts/train-seq.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { defaultConfig, type RankerConfig } from '../../src/core/config.ts';
import type { HistoryEntry } from '../../src/core/history.ts';
import { recommend } from '../../src/core/ranker.ts';
import { loadSnapshot } from '../../src/core/snapshot/load.ts';
import { writeWorldSource } from '../unit/helpers/rank-world.ts';
import { launch, serveDist, trackErrors, trackRequests } from './harness.ts';

/** Quick training settings for the small world (the network and the task are the default ones). */
const cfg: RankerConfig = { ...defaultConfig.ranker, sequence: { ...defaultConfig.ranker.sequence, maxLength: 20, window: 20, epochs: 15, fineTuneEpochs: 5 } };

let browser: Browser;
let server: Awaited<ReturnType<typeof serveDist>>;
let work: string;

beforeAll(async () => {
  [browser, server, work] = await Promise.all([launch(), serveDist(), mkdtemp(path.join(tmpdir(), 'toonpick-world-'))]);
  await writeWorldSource(path.join(work, 'source'));
  const out = path.join(server.root, 'world');
  await makeSnapshot({ source: path.join(work, 'source'), out, name: 'world' });
  await trainSeq({ data: path.join(work, 'source'), out, cfg });
}, 240_000);

afterAll(async () => {
  await browser?.close();
  await server?.dispose();
  await rm(work, { recursive: true, force: true });
});

/** The app on the world snapshot. */
const WORLD = '?snapshot=./world/';

async function like(page: Page, ids: string[]) {
  for (const id of ids) {
    await page.goto(`${server.url}${WORLD}#/title/${id}`);
    await page.getByTestId('title-heading').filter({ hasText: `Title ${id.slice(1)}` }).waitFor();
    await page.getByTestId('act-like').click();
    await page.locator('[data-testid="act-like"][aria-pressed="true"]').waitFor();
  }
}

/** The history the page stored (IndexedDB), to rank the same in Node. */
function storedHistory(page: Page): Promise<HistoryEntry[]> {
  return page.evaluate(
    () =>
      new Promise<HistoryEntry[]>((resolve, reject) => {
        const open = indexedDB.open('toonpick');
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const get = open.result.transaction('history').objectStore('history').getAll();
          get.onsuccess = () => resolve(get.result as HistoryEntry[]);
          get.onerror = () => reject(get.error);
        };
      }),
  );
}

describe('sequence model in the browser', () => {
  it('runs in its worker, and For you shows what the same ranker gives in Node', async () => {
    // No service worker: its precache lists the demo snapshot, not this one.
    const ctx = await browser.newContext({ serviceWorkers: 'block' });
    const requests = trackRequests(ctx);
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    // The page ranks on its own thread only when the worker fails, and says so.
    const fallbacks: string[] = [];
    page.on('console', (m) => { if (m.text().includes('ranking on the page')) fallbacks.push(m.text()); });
    await like(page, ['t5', 't6', 't7', 't8']);
    await page.goto(`${server.url}${WORLD}#/for-you`);
    await page.getByTestId('card').first().waitFor();
    const shown = await page.getByTestId('card').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!));
    expect(requests.some((u) => /\/assets\/sequence\.worker[^/]*\.js$/.test(u))).toBe(true);

    const history = await storedHistory(page);
    expect(history.map((e) => e.id).sort()).toEqual(['t5', 't6', 't7', 't8']);
    const snap = await loadSnapshot(fsReader(path.join(server.root, 'world')));
    expect(snap.sequence).toBeDefined();
    const expected = recommend(snap, history, defaultConfig.ranker, defaultConfig.pageSize)!.map((r) => snap.items[r.index].id);
    expect(shown).toEqual(expected);

    // At serendipity 0 (accuracy) the reading cycle shows: what comes after t8 is among the first picks.
    await page.getByTestId('serendipity').fill('0');
    await page.waitForFunction((before) => document.querySelector('[data-testid="card"]')?.getAttribute('data-id') !== before, shown[0]);
    const accurate = await page.getByTestId('card').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!));
    const atZero = recommend(snap, history, defaultConfig.ranker, defaultConfig.pageSize, { serendipity: 0 })!.map((r) => snap.items[r.index].id);
    expect(accurate).toEqual(atZero);
    expect(accurate.slice(0, 3)).toContain('t9');
    expect(errors).toEqual([]);
    expect(fallbacks).toEqual([]);
    await ctx.close();
  });

  it('ranks on the page, with the same list, when the sequence worker cannot start', async () => {
    const ctx = await browser.newContext({ serviceWorkers: 'block' });
    // A worker script that dies on load: the page must fall back, not hang on "Ranking…".
    await ctx.route(/\/assets\/sequence\.worker[^/]*\.js$/, (route) => route.fulfill({ contentType: 'text/javascript', body: 'throw new Error("broken worker");' }));
    const page = await ctx.newPage();
    const fallbacks: string[] = [];
    page.on('console', (m) => { if (m.text().includes('ranking on the page')) fallbacks.push(m.text()); });
    await like(page, ['t12', 't13']);
    await page.goto(`${server.url}${WORLD}#/for-you`);
    await page.getByTestId('card').first().waitFor();
    const shown = await page.getByTestId('card').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!));
    expect(fallbacks.length).toBeGreaterThan(0);
    const snap = await loadSnapshot(fsReader(path.join(server.root, 'world')));
    const history = await storedHistory(page);
    expect(shown).toEqual(recommend(snap, history, defaultConfig.ranker, defaultConfig.pageSize)!.map((r) => snap.items[r.index].id));
    await ctx.close();
  });
});
