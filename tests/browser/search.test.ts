/**
 * Search in the built app: keyword results with highlights from the header box, the similarity fallback
 * for free text (lexical at once, then the tiny fixture model served from our origin, vectors cached in
 * IndexedDB), the fallback's notice when the model cannot load, and the schema-2 migration keeping history.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { defaultConfig } from '../../src/core/config.ts';
import { launch, repoRoot, serveDist, trackErrors, trackRequests } from './harness.ts';
import { embedText } from '../../scripts/embed-text.ts';
import { trainSnapshotAdapter } from '../../scripts/train-adapter.ts';
import { FIXTURE_MODEL } from '../../scripts/lib/text-model.ts';

let browser: Browser;
let server: Awaited<ReturnType<typeof serveDist>>;
const FREE_TEXT = '복수를 꿈꾸는 회귀자';
const TINY = '?textModel=toonpick/tiny-bert&textDtype=fp32';

beforeAll(async () => {
  [browser, server] = await Promise.all([launch(), serveDist()]);
  await cp(path.join(repoRoot, 'tests/fixtures/models/toonpick/tiny-bert'), path.join(server.root, 'models/toonpick/tiny-bert'), { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

/** Types into the one search box on screen: the header's, or on the search page its own (the header's is hidden there). */
async function typeSearch(page: Page, query: string) {
  const header = page.getByTestId('header-search');
  const box = (await header.count()) ? header : page.getByTestId('search-input');
  expect(await page.locator('input[type="search"][role="searchbox"], form[role="search"] input').count()).toBe(1);
  await box.fill(query);
  await box.press('Enter');
}

const idb = (page: Page, store: string) =>
  page.evaluate(
    (store) =>
      new Promise<number>((resolve, reject) => {
        const req = indexedDB.open('toonpick');
        req.onsuccess = () => {
          const count = req.result.transaction(store).objectStore(store).count();
          count.onsuccess = () => {
            resolve(count.result);
            req.result.close();
          };
          count.onerror = () => reject(count.error);
        };
        req.onerror = () => reject(req.error);
      }),
    store,
  );

describe('search in a real browser', () => {
  it('finds a title by keywords from the header box and highlights the match as text', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    await page.goto(server.url);
    await page.getByTestId('card').first().waitFor();
    await typeSearch(page, '좀비딸');
    await page.waitForURL(/#\/search\//);
    const notice = page.getByTestId('search-notice');
    await notice.waitFor();
    expect(await notice.getAttribute('data-mode')).toBe('keyword');
    const first = page.getByTestId('search-result-title').first();
    expect(await first.textContent()).toBe('좀비딸');
    expect(await first.locator('mark').allTextContents()).toEqual(['좀비딸']);
    // Opening a result is remembered as weak interest.
    await first.click();
    await page.getByTestId('title-heading').filter({ hasText: '좀비딸' }).waitFor();
    await page.goto(`${server.url}#/history`);
    await page.getByTestId('history-entry').first().waitFor();
    expect(await page.getByTestId('history-entry').first().textContent()).toContain('opened from search');

    // A synopsis with "<일상날개짓>" in it: highlighted pieces are text, the brackets are not markup.
    await typeSearch(page, '일상날개짓');
    const synopsis = page.getByTestId('search-result-synopsis').first();
    await page.getByTestId('search-result').first().waitFor();
    expect(await synopsis.textContent()).toContain('<일상날개짓>');
    expect(await synopsis.locator('*').evaluateAll((els) => els.map((e) => e.tagName))).toEqual(['MARK']);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('falls back to similarity for free text: wording first, then meaning with the self-hosted model, cached', async () => {
    const ctx = await browser.newContext();
    const requests = trackRequests(ctx);
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    await page.goto(`${server.url}${TINY}`);
    await page.getByTestId('card').first().waitFor();
    await typeSearch(page, FREE_TEXT);
    const notice = page.getByTestId('search-notice');
    // Past "Getting the catalog's synopses ready…" when the first search comes before the synopsis pages finished.
    await notice.filter({ hasText: `No title matches every word of “${FREE_TEXT}”` }).waitFor();
    expect(await page.getByTestId('search-result').count()).toBeGreaterThan(0);
    await page.locator('[data-testid="search-notice"][data-mode="sts"]').waitFor({ timeout: 120_000 });
    expect(await notice.textContent()).toContain('similar in meaning instead (text model toonpick/tiny-bert, on wasm)');
    expect(await page.getByTestId('search-result').count()).toBe(24);
    expect(await idb(page, 'vectors')).toBe(969);

    // Another free-text query reuses the loaded model and the cached synopsis vectors.
    await typeSearch(page, '평범한 고등학생의 이세계 모험기');
    await page.locator('[data-testid="search-notice"][data-mode="sts"]').filter({ hasText: '평범한 고등학생의 이세계 모험기' }).waitFor({ timeout: 60_000 });
    expect(await idb(page, 'vectors')).toBe(969);
    const foreign = requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('blob:') && !u.startsWith('data:'));
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('replaces a text worker that crashed and reloads the model for the next query', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const started: string[] = [];
    page.on('worker', (w) => { if (w.url().includes('text.worker')) started.push(w.url()); });
    await page.goto(`${server.url}${TINY}#/search/${encodeURIComponent(FREE_TEXT)}`);
    await page.locator('[data-testid="search-notice"][data-mode="sts"]').waitFor({ timeout: 120_000 });
    expect(started).toHaveLength(1);
    // An uncaught error inside the worker, as a crash in the model runtime would raise.
    const worker = page.workers().find((w) => w.url().includes('text.worker'))!;
    const closed = new Promise((resolve) => worker.once('close', resolve));
    await worker.evaluate(() => void setTimeout(() => { throw new Error('simulated text worker crash'); }));
    await closed;
    const next = '평범한 고등학생의 이세계 모험기';
    await typeSearch(page, next);
    await page.locator('[data-testid="search-notice"][data-mode="sts"]').filter({ hasText: next }).waitFor({ timeout: 120_000 });
    expect(started).toHaveLength(2);
    expect(await page.getByTestId('search-model-note').count()).toBe(0);
    await ctx.close();
  });

  it('uses a snapshot’s own adapted sts space: only the query is embedded on the device', async () => {
    const dir = path.join(server.root, 'snapshot-sts');
    await cp(path.join(server.root, 'snapshot'), dir, { recursive: true });
    await embedText(dir, FIXTURE_MODEL);
    await trainSnapshotAdapter({ snapshot: dir, model: FIXTURE_MODEL, data: path.join(repoRoot, '../shared/data/korsts'), epochs: 1 });
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    await page.goto(`${server.url}${TINY}&snapshot=./snapshot-sts/#/search/${encodeURIComponent(FREE_TEXT)}`);
    await page.locator('[data-testid="search-notice"][data-mode="sts"]').waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('search-result').count()).toBe(24);
    expect(await idb(page, 'vectors')).toBe(0);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('says so and keeps the wording results when the text model cannot be loaded', async () => {
    const ctx = await browser.newContext();
    const requests = trackRequests(ctx);
    const page = await ctx.newPage();
    await page.goto(`${server.url}?textModel=toonpick/missing#/search/${encodeURIComponent(FREE_TEXT)}`);
    const note = page.getByTestId('search-model-note');
    await note.waitFor({ timeout: 60_000 });
    const text = (await note.textContent())!;
    expect(text).toContain('Searching by meaning is unavailable');
    expect(text).toContain('toonpick/missing');
    expect(text).toContain('config.json');
    expect(await page.getByTestId('search-notice').getAttribute('data-mode')).toBe('lexical');
    expect(await page.getByTestId('search-notice').getAttribute('data-loading')).toBe('false');
    expect(await page.getByTestId('search-result').count()).toBeGreaterThan(0);
    expect(requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('blob:'))).toEqual([]);
    await ctx.close();
  });

  it('gives up a model download that stalls, says so, and keeps the wording results', async () => {
    // The app's own files, except that the model's weights start downloading and then stop for good.
    const STALL = '/models/toonpick/stalled/onnx/model.onnx';
    await cp(path.join(repoRoot, 'tests/fixtures/models/toonpick/tiny-bert'), path.join(server.root, 'models/toonpick/stalled'), { recursive: true });
    const stalling = createServer((req, res) => {
      if (req.url === STALL && req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(1 << 20) });
        res.write(Buffer.alloc(1024));
        return; // never ends
      }
      const upstream = httpRequest(new URL(req.url ?? '/', server.url), { method: req.method, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      });
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => stalling.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(stalling.address() as { port: number }).port}/`;
    try {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      const started = Date.now();
      await page.goto(`${base}?textModel=toonpick/stalled&textDtype=fp32#/search/${encodeURIComponent(FREE_TEXT)}`);
      const note = page.getByTestId('search-model-note');
      await note.waitFor({ timeout: defaultConfig.models.text.stallTimeoutMs + 60_000 });
      expect(await note.textContent()).toContain(`stalled: no progress for ${defaultConfig.models.text.stallTimeoutMs / 1000} s`);
      expect(Date.now() - started).toBeGreaterThanOrEqual(defaultConfig.models.text.stallTimeoutMs);
      expect(await page.getByTestId('search-notice').getAttribute('data-mode')).toBe('lexical');
      expect(await page.getByTestId('search-result').count()).toBeGreaterThan(0);
      await ctx.close();
    } finally {
      stalling.closeAllConnections();
      await new Promise((resolve) => stalling.close(resolve));
    }
  });

  it('upgrades a schema-1 database to schema 2 (vectors store) without touching the history', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${server.url}favicon.svg`);
    await page.evaluate(
      () =>
        new Promise<void>((resolve, reject) => {
          const req = indexedDB.open('toonpick', 1);
          req.onupgradeneeded = () => {
            req.result.createObjectStore('history', { keyPath: 'id' }).put({ id: 'old-entry', readAt: 1, likedAt: 2 });
            req.result.createObjectStore('meta');
          };
          req.onsuccess = () => {
            req.result.close();
            resolve();
          };
          req.onerror = () => reject(req.error);
        }),
    );
    await page.goto(`${server.url}#/history`);
    await page.getByTestId('history-entry').first().waitFor();
    expect(await page.getByTestId('history-entry').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')))).toEqual(['old-entry']);
    expect(await idb(page, 'vectors')).toBe(0);
    await ctx.close();
  });
});
