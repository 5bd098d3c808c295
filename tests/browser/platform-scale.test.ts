/**
 * A catalog past the size where the lexical space stays sparse in memory (17,000 titles: its dense rows would take
 * 66 MiB), in the built app: the snapshot worker checks those rows in the file cache and leaves them there, sending
 * them to the page piece by piece straight into WebAssembly memory (load.ts rowsOnDisk, src/app/snapshot-client.ts,
 * math/sparse-scan.ts); For you ranks with that kernel exactly what Node ranks with the JavaScript loop over the
 * rows where the loader left them, and draws them before the titles are in, from the ranking core (CatalogPreview),
 * keeping them once the titles come. More like this and the search index are made in steps on the page, and give
 * the lists Node gives.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cp, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launch, serveDist, trackErrors } from './harness.ts';
import { writeSyntheticSource } from '../../bench/synthetic-catalog.ts';
import { makeSnapshot } from '../../scripts/snapshot.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { loadSnapshot } from '../../src/core/snapshot/load.ts';
import { moreLikeThis, recommend } from '../../src/core/ranker.ts';
import { TitleSearch } from '../../src/core/search.ts';
import { defaultConfig } from '../../src/core/config.ts';
import { contentHashOf, sha256Hex, type Manifest, type Title } from '../../src/core/snapshot/format.ts';

const TITLES = 17_000;

/** Records the largest buffer any worker's message brought to the page (installed before the page's scripts run). */
const WATCH_WORKER_MESSAGES = () => {
  const w = window as unknown as { __largestFromWorker: number };
  w.__largestFromWorker = 0;
  const largest = (x: unknown, depth: number): number => {
    if (x instanceof ArrayBuffer) return x.byteLength;
    if (ArrayBuffer.isView(x)) return x.buffer.byteLength;
    if (depth > 8 || typeof x !== 'object' || x === null) return 0;
    const values = x instanceof Map ? [...x.values()] : Object.values(x);
    return Math.max(0, ...values.map((v) => largest(v, depth + 1)));
  };
  const add = Worker.prototype.addEventListener;
  Worker.prototype.addEventListener = function (this: Worker, type: string, ...rest: unknown[]) {
    if (type === 'message') add.call(this, 'message', (e: Event) => (w.__largestFromWorker = Math.max(w.__largestFromWorker, largest((e as MessageEvent).data, 0))));
    return (add as (...args: unknown[]) => void).call(this, type, ...rest);
  } as typeof Worker.prototype.addEventListener;
};
/** For you's first cards as drawn (ids and reasons), and whether the whole catalog was in by then (the footer's link to it). */
const FIRST_CARDS = () => {
  new MutationObserver((_, seen) => {
    const cards = [...document.querySelectorAll('[data-testid="for-you"] [data-testid="card"]')];
    if (!cards.length) return;
    seen.disconnect();
    (window as unknown as { __firstCards: unknown }).__firstCards = {
      whole: !!document.querySelector('[data-testid="catalog-link"]'),
      cards: cards.map((e) => e.getAttribute('data-id') + ' ' + e.querySelector('[data-testid="reason"]')?.textContent),
    };
  }).observe(document, { subtree: true, childList: true });
};
/** The text of a note kept beside a file in the file cache (file-cache.ts: the text, then a 4-byte checksum). */
const noteOn = (page: Page, sha256: string) =>
  page.evaluate(async (name) => {
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('toonpick-snapshot-files');
    const bytes = new Uint8Array(await (await (await dir.getFileHandle(name)).getFile()).arrayBuffer());
    return new TextDecoder().decode(bytes.subarray(0, bytes.length - 4));
  }, `${sha256}.rows-checked`);
/** The page's largest WebAssembly memory (every WebAssembly.Memory on the page, by prototype): its size, and whether it is shared. */
async function rowsMemory(page: Page): Promise<{ bytes: number; shared: boolean }> {
  const cdp = await page.context().newCDPSession(page);
  const proto = await cdp.send('Runtime.evaluate', { expression: 'WebAssembly.Memory.prototype' });
  const { objects } = await cdp.send('Runtime.queryObjects', { prototypeObjectId: proto.result.objectId! });
  const largest = await cdp.send('Runtime.callFunctionOn', {
    objectId: objects.objectId!,
    functionDeclaration: 'function () { const m = this.reduce((a, b) => (b.buffer.byteLength > (a?.buffer.byteLength ?? -1) ? b : a), undefined); return m && { bytes: m.buffer.byteLength, shared: typeof SharedArrayBuffer === "function" && m.buffer instanceof SharedArrayBuffer }; }',
    returnByValue: true,
  });
  await cdp.detach();
  if (largest.exceptionDetails) throw new Error(`the page's memories could not be read: ${largest.exceptionDetails.text}`);
  return largest.result.value ?? { bytes: 0, shared: false };
}
/** Likes each title on its own page of the snapshot in `folder` (each a load of the catalog). */
async function like(page: Page, folder: string, ids: string[]): Promise<void> {
  for (const id of ids) {
    await page.goto(`${server.url}?snapshot=./${folder}/#/title/${encodeURIComponent(id)}`);
    await page.getByTestId('act-like').click({ timeout: 120_000 });
    await page.locator('[data-testid="act-like"][aria-pressed="true"]').waitFor();
  }
}
const largestFromWorker = (page: Page) => page.evaluate(() => (window as unknown as { __largestFromWorker: number }).__largestFromWorker);
let browser: Browser;
let server: Awaited<ReturnType<typeof serveDist>>;
/** Headers the server adds (after its own): the last test takes cross-origin isolation away. */
const extraHeaders: Record<string, string> = {};
let work: string;
let snapshotDir: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'toonpick-platform-'));
  await writeSyntheticSource(TITLES, work, 11);
  snapshotDir = path.join(work, 'snapshot');
  await makeSnapshot({ source: work, out: snapshotDir, name: 'synthetic 17k' });
  [browser, server] = await Promise.all([launch(), serveDist(extraHeaders)]);
  await symlink(snapshotDir, path.join(server.root, 'big'));
}, 300_000);
afterAll(async () => {
  await browser?.close();
  await server?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('a 17,000-title catalog in the app', () => {
  it('reads its sparse lexical rows from the file cache into WebAssembly on the page, with the same For you list as the JavaScript scan', async () => {
    const node = await loadSnapshot(fsReader(snapshotDir), { wasmRows: false });
    const lexical = node.spaces.get('lexical')!;
    expect(lexical.csr).toBeDefined();
    const page = await browser.newPage();
    await page.addInitScript(WATCH_WORKER_MESSAGES);
    const errors = trackErrors(page);
    const liked = [node.items[120].id, node.items[4321].id, node.items[9876].id];
    await like(page, 'big', liked);
    // The likes were one load, the first visit: the worker downloaded the lexical rows, kept them, checked them, and
    // read them back from disk to the page piece by piece (load.ts rowsOnDisk): no message holds them whole.
    const rowBytes = lexical.csr!.cols.byteLength + lexical.csr!.values.byteLength;
    expect(await largestFromWorker(page)).toBeLessThan(rowBytes);
    // A fresh load of the page: it finds the files kept. For you draws its first cards before the titles are in
    // (snapshot-client.ts CatalogPreview): the cards as first drawn, and whether the catalog was whole by then.
    await page.addInitScript(FIRST_CARDS);
    await page.goto(`${server.url}?snapshot=./big/#/for-you`);
    await page.reload();
    await page.getByTestId('catalog-link').waitFor({ timeout: 120_000 });
    const first = await page.evaluate(() => (window as unknown as { __firstCards: { whole: boolean; cards: string[] } }).__firstCards);
    expect(first.whole).toBe(false);
    const shown = await page.getByTestId('card').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!));
    // The same cards and reasons once the titles came, from the same ranking: the titles said what the core said.
    expect(await page.getByTestId('card').evaluateAll((els) => els.map((e) => e.getAttribute('data-id') + ' ' + e.querySelector('[data-testid="reason"]')?.textContent))).toEqual(first.cards);
    expect(await page.evaluate(() => performance.getEntriesByName('toonpick:ranking').length)).toBe(1);

    // The page holds a WebAssembly memory with the lexical rows, shared with the worker that wrote them there: the
    // server makes the page cross-origin isolated (scripts/serve.ts ISOLATION).
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const memory = await rowsMemory(page);
    expect(memory.shared).toBe(true);
    expect(memory.bytes).toBeGreaterThan(rowBytes);

    const history = liked.map((id, i) => ({ id, readAt: i + 1, likedAt: i + 1 }));
    const expected = recommend(node, history, defaultConfig.ranker, shown.length)!.map((r) => node.items[r.index].id);
    expect(shown).toEqual(expected);

    // The worker checked the kept lexical rows on disk as they streamed past and left them there.
    expect(await largestFromWorker(page)).toBeLessThan(rowBytes);

    // The rows' check was noted beside the file when they were downloaded (load.ts ROWS_CHECKED), so the reloads
    // only checked the file's checksum. A note damaged on disk is not taken: the rows are checked again, the same
    // list drawn, and the note written anew.
    const file = node.manifest.files[node.manifest.spaces.find((sp) => sp.name === 'lexical')!.file];
    const noted = `csr-f16 rows=${TITLES} dim=${lexical.dim} nnz=${lexical.csr!.cols.length}`;
    expect(await noteOn(page, file.sha256)).toBe(noted);
    // So was the titles' ranking core beside items.json (titles.ts RANKING_CORE): the reload above drew its first
    // cards from it, and kept that ranking once the titles came (one ranking measure), so the two agreed.
    const kept = await page.evaluate(async () => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('toonpick-snapshot-files');
      const names: string[] = [];
      for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
      return names;
    });
    expect(kept).toContain(`${node.manifest.files[node.manifest.items].sha256}.ranking-core`);
    await page.evaluate(async (name) => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('toonpick-snapshot-files');
      const w = await (await dir.getFileHandle(name)).createWritable({ keepExistingData: true });
      await w.write({ type: 'write', position: 0, data: new TextEncoder().encode('zzz') });
      await w.close();
    }, `${file.sha256}.rows-checked`);
    expect(await noteOn(page, file.sha256)).not.toBe(noted);
    await page.reload();
    await page.getByTestId('card').first().waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('card').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!))).toEqual(expected);
    await expect.poll(() => noteOn(page, file.sha256)).toBe(noted);

    // A kept file damaged on disk: the worker's checksum finds it and downloads it again, which keeps it again, so its
    // rows are still left on disk; the next load reads it from the cache. The same list both times.
    await page.evaluate(async ({ sha256, titles }) => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('toonpick-snapshot-files');
      const handle = await dir.getFileHandle(sha256);
      const at = 4 + (titles + 1) * 4 + 1234; // a column
      const old = new Uint8Array(await (await handle.getFile()).slice(at, at + 1).arrayBuffer())[0];
      const w = await handle.createWritable({ keepExistingData: true });
      await w.write({ type: 'write', position: at, data: new Uint8Array([old ^ 0x10]) });
      await w.close();
    }, { sha256: file.sha256, titles: TITLES });
    // Counted at the server, where downloads really happen.
    const requested: string[] = [];
    server.server.on('request', (req) => requested.push(req.url ?? ''));
    for (const downloads of [1, 0]) {
      requested.length = 0;
      await page.reload();
      await page.getByTestId('card').first().waitFor({ timeout: 120_000 });
      expect(await page.getByTestId('card').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!))).toEqual(expected);
      expect(requested.filter((u) => u.endsWith('/lexical.csr16')).length).toBe(downloads);
      expect(await largestFromWorker(page)).toBeLessThan(rowBytes);
    }
    expect(errors).toEqual([]);
  }, 300_000);

  it('ranks again once the titles come where they contradict what the ranking core read from the bytes', async () => {
    // Every title says its genres twice, the first time wrong: the core reads the first (titles.ts coreFields stops
    // at the last of id, genres and popularity), JSON and the titles' check keep the second. The genres make the
    // reasons ("shared" genres, a departure's new ones), so a ranking kept from the core would give wrong ones.
    const dir = path.join(work, 'contradicting');
    await cp(snapshotDir, dir, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    const titles = JSON.parse(await readFile(path.join(dir, manifest.items), 'utf8')) as Title[];
    const bytes = new TextEncoder().encode(`[${titles.map((t) => JSON.stringify({ ...t, genres: ['없는 장르'] }).slice(0, -1) + `,"genres":${JSON.stringify(t.genres)}}`).join(',')}]`);
    await writeFile(path.join(dir, manifest.items), bytes);
    manifest.files[manifest.items] = { bytes: bytes.byteLength, sha256: (await sha256Hex(bytes))! };
    manifest.contentHash = (await contentHashOf(manifest.files))!;
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
    for (const f of [manifest.items, 'manifest.json']) for (const ext of ['.br', '.gz']) await rm(path.join(dir, f + ext), { force: true });
    await symlink(dir, path.join(server.root, 'contradicting'));

    const node = await loadSnapshot(fsReader(dir), { wasmRows: false });
    const liked = [node.items[120].id, node.items[4321].id, node.items[9876].id];
    const history = liked.map((id, i) => ({ id, readAt: i + 1, likedAt: i + 1 }));
    const cards = (catalog: typeof node) => recommend(catalog, history, defaultConfig.ranker, defaultConfig.pageSize)!.map((r) => [node.items[r.index].id, JSON.stringify([r.why.spaces, r.why.closest, r.why.shared, r.why.serendipity, r.why.departure])]);
    const expected = cards(node);
    // What the core says gives other reasons: a ranking kept from it would be wrong.
    expect(cards({ ...node, items: node.items.map((t) => ({ ...t, genres: ['없는 장르'] })) })).not.toEqual(expected);

    const page = await browser.newPage();
    await page.addInitScript(FIRST_CARDS);
    const errors = trackErrors(page);
    await like(page, 'contradicting', liked);
    await page.goto(`${server.url}?snapshot=./contradicting/#/for-you`);
    await page.reload(); // a new load: the hash change alone kept the page and its catalog
    await page.getByTestId('catalog-link').waitFor({ timeout: 120_000 });
    // Drawn from the core first, then ranked again on the titles: the cards and reasons Node gives for the titles.
    expect(await page.evaluate(() => (window as unknown as { __firstCards: { whole: boolean } }).__firstCards.whole)).toBe(false);
    await page.waitForFunction(() => performance.getEntriesByName('toonpick:ranking').length === 2, undefined, { timeout: 120_000 });
    await page.locator('[data-testid="for-you"][data-level]').waitFor();
    expect(await page.getByTestId('card').evaluateAll((els) => els.map((e) => [e.getAttribute('data-id'), e.querySelector('[data-testid="reason"]')?.getAttribute('data-why')]))).toEqual(expected);
    expect(errors).toEqual([]);
  }, 300_000);

  it('ranks More like this and indexes its titles for search in steps on the page, with the lists Node gives', async () => {
    const node = await loadSnapshot(fsReader(snapshotDir), { wasmRows: false });
    const page = await browser.newPage();
    const errors = trackErrors(page);
    // Whether the page ever showed how far the search index was (it is made in steps, with a progress bar).
    await page.addInitScript(() => {
      const w = window as unknown as { __sawIndexing: boolean };
      w.__sawIndexing = false;
      new MutationObserver(() => (w.__sawIndexing ||= !!document.querySelector('[data-testid="search-indexing"]'))).observe(document, { subtree: true, childList: true });
    });
    const title = node.items[2024];
    await page.goto(`${server.url}?snapshot=./big/#/title/${encodeURIComponent(title.id)}`);
    const similar = page.locator('[data-testid="similar"] [data-testid="card"]');
    await similar.first().waitFor({ timeout: 120_000 });
    expect(await page.getByTestId('similar').getAttribute('aria-busy')).toBe('false');
    const expectedSimilar = moreLikeThis(node, 2024, defaultConfig.ranker, 12).map((r) => node.items[r.index].id);
    expect(await similar.evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!))).toEqual(expectedSimilar);

    const query = title.title;
    await page.goto(`${server.url}?snapshot=./big/#/search/${encodeURIComponent(query)}`);
    await page.locator('[data-testid="search-notice"][data-loading="false"][data-mode="keyword"]').waitFor({ timeout: 120_000 });
    const hits = new TitleSearch(node.items, defaultConfig.search).keyword(query, defaultConfig.pageSize).map((h) => node.items[h.index].id);
    expect(hits).toContain(title.id);
    expect(await page.getByTestId('search-result').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!))).toEqual(hits);
    expect(await page.evaluate(() => (window as unknown as { __sawIndexing: boolean }).__sawIndexing)).toBe(true);
    expect(errors).toEqual([]);
  }, 300_000);

  it('without cross-origin isolation takes the rows as pieces into memory of its own, with the same For you list', async () => {
    // The site serves no COEP: the page cannot share memory with its workers (sparse-scan.ts sharedRowsAvailable).
    extraHeaders['cross-origin-embedder-policy'] = 'unsafe-none';
    try {
      const node = await loadSnapshot(fsReader(snapshotDir), { wasmRows: false });
      const lexical = node.spaces.get('lexical')!;
      const rowBytes = lexical.csr!.cols.byteLength + lexical.csr!.values.byteLength;
      const page = await browser.newPage();
      await page.addInitScript(WATCH_WORKER_MESSAGES);
      const errors = trackErrors(page);
      const liked = [node.items[77].id, node.items[7777].id, node.items[15000].id];
      await like(page, 'big', liked);
      await page.goto(`${server.url}?snapshot=./big/#/for-you`);
      await page.reload();
      await page.getByTestId('catalog-link').waitFor({ timeout: 120_000 });
      expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
      const memory = await rowsMemory(page);
      expect(memory.shared).toBe(false);
      expect(memory.bytes).toBeGreaterThan(rowBytes);
      const history = liked.map((id, i) => ({ id, readAt: i + 1, likedAt: i + 1 }));
      const shown = await page.getByTestId('card').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!));
      expect(shown).toEqual(recommend(node, history, defaultConfig.ranker, shown.length)!.map((r) => node.items[r.index].id));
      expect(await largestFromWorker(page)).toBeLessThan(rowBytes);
      expect(errors).toEqual([]);
    } finally {
      delete extraHeaders['cross-origin-embedder-policy'];
    }
  }, 300_000);
});
