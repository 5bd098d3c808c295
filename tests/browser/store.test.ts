/**
 * ReaderStore (src/store/db.ts) and src/store/storage.ts in a real browser: headless Chromium, a real
 * IndexedDB on a 127.0.0.1 origin, no mocks. The modules are bundled here with esbuild (with the raw-IndexedDB
 * helpers of helpers/store-page.ts), so this file needs no build of the app (dist/ is not used).
 * Every test uses its own database name.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launch, repoRoot, trackErrors } from './harness.ts';
import { serve, type Served } from '../../scripts/serve.ts';
import type { RawStore } from './helpers/store-page.ts';

type StoreModule = typeof import('./helpers/store-page.ts');
type Store = import('./helpers/store-page.ts').ReaderStore;

let browser: Browser;
let context: BrowserContext;
let server: Served;
let root: string;

beforeAll(async () => {
  const bundle = await build({
    entryPoints: [path.join(repoRoot, 'tests/browser/helpers/store-page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
  });
  root = await mkdtemp(path.join(tmpdir(), 'toonpick-store-'));
  await writeFile(path.join(root, 'store.js'), bundle.outputFiles[0].contents);
  await writeFile(
    path.join(root, 'index.html'),
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>store test</title>
<script type="module">import * as store from './store.js'; globalThis.__store = store;</script></head><body></body></html>`,
  );
  [browser, server] = await Promise.all([launch(), serve(root)]);
  context = await browser.newContext();
  // tsx/esbuild keepNames may wrap functions sent from Node in __name(); the page has no such helper.
  await context.addInitScript(() => {
    (globalThis as Record<string, unknown>).__name ??= (f: unknown) => f;
  });
});

afterAll(async () => {
  await context?.close();
  await browser?.close();
  await server?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

/** A fresh page on the test origin (all pages of the file share one context, so one IndexedDB per origin). */
async function openPage(): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors = trackErrors(page);
  await page.goto(server.url);
  await page.waitForFunction(() => (globalThis as Record<string, unknown>).__store !== undefined);
  return { page, errors };
}

/** Runs `fn(module, arg)` in the page; `fn` is sent as source, so it may use only its arguments. */
function inPage<A, R>(page: Page, fn: (m: StoreModule, arg: A) => Promise<R>, arg: A): Promise<R> {
  return page.evaluate(
    async ({ src, arg }) => (0, eval)(`(${src})`)((globalThis as Record<string, unknown>).__store, arg),
    { src: fn.toString(), arg },
  ) as Promise<R>;
}

let counter = 0;
const dbName = (label: string) => `store-test-${label}-${++counter}-${Date.now()}`;

const T = 1_700_000_000_000;

/** The stores of every schema version older than SCHEMA_VERSION, as the code of that version created them. */
const OLD_SCHEMAS: Record<number, Array<Omit<RawStore, 'records'>>> = {
  // Version 0: no database yet.
  0: [],
  // 3e69541 (SCHEMA_VERSION = 1): history keyed by the title id, meta with out-of-line keys.
  1: [{ name: 'history', keyPath: 'id' }, { name: 'meta' }],
};

describe('ReaderStore (src/store/db.ts) in Chromium', () => {
  it('every schema version below SCHEMA_VERSION has a migration test (OLD_SCHEMAS)', async () => {
    const { page } = await openPage();
    const version = await inPage(page, async (m) => m.SCHEMA_VERSION, null);
    await page.close();
    // A new schema version needs its predecessor's stores in OLD_SCHEMAS and a test migrating its records.
    expect(Object.keys(OLD_SCHEMAS).map(Number).sort((a, b) => a - b)).toEqual([...Array(version).keys()]);
    expect(version).toBe(2);
  });

  it('opens a new database at the current version with its stores, closes, and reopens with the data', async () => {
    const { page, errors } = await openPage();
    const name = dbName('open');
    const r = await inPage(
      page,
      async (m, name) => {
        const before = await m.rawDump(name);
        const s = await m.ReaderStore.open(name);
        const liked = await s.act('t1', { kind: 'like', on: true }, 1000);
        s.close();
        const afterClose = await m.settle(() => s.act('t2', { kind: 'read', on: true }, 2000));
        const dump = await m.rawDump(name);
        const again = await m.ReaderStore.open(name);
        const entry = await again.entry('t1');
        const history = await again.history();
        again.close();
        return { before, liked, afterClose, dump, entry, history, version: m.SCHEMA_VERSION };
      },
      name,
    );
    await page.close();
    expect(r.before).toBeNull();
    expect(r.liked).toEqual({ id: 't1', likedAt: 1000, readAt: 1000 });
    // A closed store refuses writes with an explained error.
    expect(r.afterClose).toMatchObject({ ok: false, isError: true, name: 'StoreError' });
    expect((r.afterClose as { message: string }).message).toMatch(/^Could not save that/);
    expect(r.dump!.version).toBe(r.version);
    expect(Object.keys(r.dump!.stores).sort()).toEqual(['history', 'meta', 'vectors']);
    expect(r.dump!.stores.history.keyPath).toBe('id');
    expect(r.dump!.stores.meta.keyPath).toBeNull();
    expect(r.dump!.stores.vectors.keyPath).toEqual(['model', 'revision', 'hash']);
    expect(r.dump!.stores.history.records).toEqual([{ key: 't1', value: { id: 't1', likedAt: 1000, readAt: 1000 } }]);
    expect(r.entry).toEqual({ id: 't1', likedAt: 1000, readAt: 1000 });
    expect(r.history).toEqual([r.entry]);
    expect(errors).toEqual([]);
  });

  it('history: act stores each action, entry() reads one title, history() lists in key order', async () => {
    const { page, errors } = await openPage();
    const r = await inPage(
      page,
      async (m, { name, T }) => {
        const s = await m.ReaderStore.open(name);
        const returned = [
          await s.act('나혼자', { kind: 'like', on: true }, T + 1),
          await s.act('9', { kind: 'read', on: true }, T + 2),
          await s.act('10', { kind: 'rate', value: 4 }, T + 3),
          await s.act('a', { kind: 'bookmark', on: true }, T + 4),
          await s.act('A', { kind: 'searched' }, T + 5),
          await s.act('9', { kind: 'read', on: true }, T + 6), // already read: keeps the first time
          await s.act('나혼자', { kind: 'dislike', on: true }, T + 7), // replaces the like
          await s.act('10', { kind: 'rate', value: null }, T + 8),
        ];
        const ids = (await s.history()).map((e) => e.id);
        const entries = Object.fromEntries(await Promise.all(ids.map(async (id) => [id, await s.entry(id)])));
        const missing = await s.entry('no-such-title');
        // Undoing the only action forgets the title.
        const forgotten = await s.act('a', { kind: 'bookmark', on: false }, T + 9);
        const afterForget = (await s.history()).map((e) => e.id);
        const aEntry = await s.entry('a');
        s.close();
        return { returned, ids, entries, missing: missing === undefined, forgotten, afterForget, aGone: aEntry === undefined };
      },
      { name: dbName('history'), T },
    );
    await page.close();
    expect(r.returned).toEqual([
      { id: '나혼자', likedAt: T + 1, readAt: T + 1 },
      { id: '9', readAt: T + 2 },
      { id: '10', rating: 4, ratedAt: T + 3, readAt: T + 3 },
      { id: 'a', bookmarkedAt: T + 4 },
      { id: 'A', searchedAt: T + 5 },
      { id: '9', readAt: T + 2 },
      { id: '나혼자', dislikedAt: T + 7, readAt: T + 1 },
      { id: '10', readAt: T + 3 },
    ]);
    // IndexedDB key order (UTF-16 code units), not insertion order; the UI sorts by time itself.
    expect(r.ids).toEqual(['10', '9', 'A', 'a', '나혼자']);
    expect(r.entries).toEqual({
      '10': { id: '10', readAt: T + 3 },
      '9': { id: '9', readAt: T + 2 },
      A: { id: 'A', searchedAt: T + 5 },
      a: { id: 'a', bookmarkedAt: T + 4 },
      나혼자: { id: '나혼자', dislikedAt: T + 7, readAt: T + 1 },
    });
    expect(r.missing).toBe(true);
    expect(r.forgotten).toBeNull();
    expect(r.afterForget).toEqual(['10', '9', 'A', '나혼자']);
    expect(r.aGone).toBe(true);
    expect(errors).toEqual([]);
  });

  it('history round trip: export → JSON → parseHistoryFile → importHistory elsewhere; import merges newest per title; clear keeps meta and vectors', async () => {
    const { page, errors } = await openPage();
    const r = await inPage(
      page,
      async (m, { a, b, T }) => {
        const s = await m.ReaderStore.open(a);
        await s.act('t1', { kind: 'like', on: true }, T + 10);
        await s.act('t2', { kind: 'rate', value: 5 }, T + 20);
        await s.act('t3', { kind: 'searched' }, T + 30);
        await s.act('t4', { kind: 'bookmark', on: true }, T + 40);
        const original = await s.history();
        const text = JSON.stringify(m.exportHistory(original, 'demo', new Date(T)));
        const parsed = m.parseHistoryFile(text, 'export.json');

        // Into a second database that already has its own, partly newer, partly older entries.
        const t = await m.ReaderStore.open(b);
        await t.act('t1', { kind: 'dislike', on: true }, T + 99); // newer than the file's t1: kept
        await t.act('t2', { kind: 'read', on: true }, T + 1); // older than the file's t2: replaced
        await t.act('t9', { kind: 'read', on: true }, T + 5); // not in the file: kept
        const imported = await t.importHistory(parsed);
        const merged = await t.history();

        // Importing the same file into an empty database gives exactly the original.
        await t.clearHistory();
        const cleared = await t.history();
        await t.importHistory(parsed);
        const again = await t.history();

        // clearHistory clears the history only.
        await t.setMeta('serendipity', 0.4);
        await t.putVectors('m', 'r', [{ hash: 'h', vector: new Float32Array([1, 2]) }]);
        await t.clearHistory();
        const kept = { meta: await t.getMeta('serendipity'), vectors: (await t.getVectors('m', 'r', ['h'])).size, history: (await t.history()).length };
        s.close();
        t.close();
        return { original, file: JSON.parse(text), imported, merged, cleared, again, kept };
      },
      { a: dbName('export'), b: dbName('import'), T },
    );
    await page.close();
    expect(r.file).toMatchObject({ format: 'toonpick-history', version: 1, catalog: 'demo', exportedAt: new Date(T).toISOString() });
    expect(r.file.entries).toEqual(r.original);
    expect(r.imported).toEqual({ total: 5 });
    expect(r.merged).toEqual([
      { id: 't1', dislikedAt: T + 99, readAt: T + 99 },
      { id: 't2', rating: 5, ratedAt: T + 20, readAt: T + 20 },
      { id: 't3', searchedAt: T + 30 },
      { id: 't4', bookmarkedAt: T + 40 },
      { id: 't9', readAt: T + 5 },
    ]);
    expect(r.cleared).toEqual([]);
    expect(r.again).toEqual(r.original);
    expect(r.kept).toEqual({ meta: 0.4, vectors: 1, history: 0 });
    expect(errors).toEqual([]);
  });

  it('meta: every kind of value the app keeps round-trips exactly (objects, typed arrays, null, numbers), overwrite and missing keys', async () => {
    const { page, errors } = await openPage();
    const r = await inPage(
      page,
      async (m, { name, T }) => {
        const weights = new Float32Array([0.5, -1.25, 3e-8, Math.fround(Math.PI)]);
        const bytes = new Uint8Array([0, 1, 127, 128, 255]);
        const values: Record<string, unknown> = {
          serendipity: 0.35,
          zero: 0,
          snapshot: { contentHash: 'abc123', itemCount: 969, name: '네이버 웹툰 demo' },
          stsRanking: { on: true, at: T },
          // StyleWeights as the style client keeps a retrained encoder: manifest plus float32 (or int8 bytes) data.
          styleRetrained: { manifest: { format: 'toonpick-style-weights', version: 2, config: { dim: 8 }, tensors: [{ name: 'w', shape: [2, 2] }], dtype: 'float32', hash: 'h' }, data: weights },
          styleRetrainedInt8: { manifest: { format: 'toonpick-style-weights', version: 2, dtype: 'int8', scales: [0.01], tensors: [], config: {}, hash: 'q' }, data: bytes },
          styleMap: { hash: 'map', bytes },
          forgotten: null,
          when: new Date(T),
          special: [NaN, Infinity, -Infinity, -0, Number.MAX_SAFE_INTEGER],
          byTitle: new Map<string, number>([['t1', 1], ['t2', 2]]),
          tags: new Set(['a', 'b']),
          buffer: new Uint8Array([9, 8, 7]).buffer,
          text: '',
          flag: false,
          nested: { list: [[1, 2], { deep: [new Float64Array([1.5])] }] },
        };
        const s = await m.ReaderStore.open(name);
        for (const [k, v] of Object.entries(values)) await s.setMeta(k, v);
        const back: Record<string, unknown> = {};
        for (const k of Object.keys(values)) back[k] = m.plain(await s.getMeta(k));
        const expected = m.plain(values);
        const missing = m.plain(await s.getMeta('never-set'));
        // Overwrite replaces; a second instance reads what was stored, not a cached object.
        await s.setMeta('serendipity', 0.8);
        s.close();
        const s2 = await m.ReaderStore.open(name);
        const overwritten = await s2.getMeta('serendipity');
        const typed = await s2.getMeta<{ data: Float32Array }>('styleRetrained');
        const isFloat32 = typed?.data instanceof Float32Array;
        const weightsAfterWrite = Array.from(weights); // the caller's array is not detached or changed
        s2.close();
        return { back, expected, missing, overwritten, isFloat32, weightsAfterWrite, weightsBefore: Array.from(weights) };
      },
      { name: dbName('meta'), T },
    );
    await page.close();
    expect(r.back).toEqual(r.expected);
    // Spot checks, so the comparison above is not vacuous.
    expect((r.back as Record<string, unknown>).special).toEqual([{ $number: 'NaN' }, { $number: 'Infinity' }, { $number: '-Infinity' }, { $number: '-0' }, Number.MAX_SAFE_INTEGER]);
    expect((r.back as Record<string, { bytes?: unknown }>).styleMap.bytes).toEqual({ $typed: 'Uint8Array', values: [0, 1, 127, 128, 255], bufferBytes: 5 });
    expect((r.back as Record<string, unknown>).forgotten).toBeNull();
    expect(r.missing).toEqual({ $undefined: true });
    expect(r.overwritten).toBe(0.8);
    expect(r.isFloat32).toBe(true);
    expect(r.weightsAfterWrite).toEqual(r.weightsBefore);
    expect(errors).toEqual([]);
  });

  it('vectors: keyed by (model, revision, hash); missing ones absent; a view is stored without its whole buffer; overwrite', async () => {
    const { page, errors } = await openPage();
    const r = await inPage(
      page,
      async (m, name) => {
        const s = await m.ReaderStore.open(name);
        const big = new Float32Array(1000).map((_, i) => i / 8);
        await s.putVectors('Xenova/minilm', 'main', [
          { hash: 'h1', vector: new Float32Array([1, 2, 3]) },
          { hash: 'h2', vector: big.subarray(8, 11) }, // as text-spaces.ts passes rows of one batch
        ]);
        await s.putVectors('Xenova/minilm', 'v2', [{ hash: 'h1', vector: new Float32Array([7, 7, 7]) }]);
        await s.putVectors('style:abc', '', [{ hash: 't1|cover.webp', vector: new Float32Array([0.25]) }]);
        const asPlain = (map: Map<string, Float32Array>) => Object.fromEntries([...map].map(([k, v]) => [k, m.plain(v)]));
        const main = asPlain(await s.getVectors('Xenova/minilm', 'main', ['h1', 'h2', 'h3']));
        const v2 = asPlain(await s.getVectors('Xenova/minilm', 'v2', ['h1', 'h2']));
        const otherModel = asPlain(await s.getVectors('other', 'main', ['h1']));
        const style = asPlain(await s.getVectors('style:abc', '', ['t1|cover.webp']));
        const none = (await s.getVectors('Xenova/minilm', 'main', [])).size;
        await s.putVectors('Xenova/minilm', 'main', [{ hash: 'h1', vector: new Float32Array([4, 5, 6]) }]);
        const replaced = asPlain(await s.getVectors('Xenova/minilm', 'main', ['h1']));
        s.close();
        const dump = await m.rawDump(name);
        return { main, v2, otherModel, style, none, replaced, keys: dump!.stores.vectors.records.map((x) => x.key) };
      },
      dbName('vectors'),
    );
    await page.close();
    const f32 = (values: number[]) => ({ $typed: 'Float32Array', values, bufferBytes: values.length * 4 });
    expect(r.main).toEqual({ h1: f32([1, 2, 3]), h2: f32([1, 1.125, 1.25]) });
    expect(r.v2).toEqual({ h1: f32([7, 7, 7]) });
    expect(r.otherModel).toEqual({});
    expect(r.style).toEqual({ 't1|cover.webp': f32([0.25]) });
    expect(r.none).toBe(0);
    expect(r.replaced).toEqual({ h1: f32([4, 5, 6]) });
    expect(r.keys).toEqual([
      ['Xenova/minilm', 'main', 'h1'],
      ['Xenova/minilm', 'main', 'h2'],
      ['Xenova/minilm', 'v2', 'h1'],
      ['style:abc', '', 't1|cover.webp'],
    ]);
    expect(errors).toEqual([]);
  });

  it('a setting or action that cannot be stored rejects with a StoreError and changes nothing', async () => {
    const { page, errors } = await openPage();
    const r = await inPage(
      page,
      async (m, { name, T }) => {
        const s = await m.ReaderStore.open(name);
        await s.setMeta('serendipity', 0.3);
        await s.act('t1', { kind: 'rate', value: 3 }, T);
        const fn = await m.settle(s.setMeta('serendipity', () => 1)); // a function cannot be cloned
        const nested = await m.settle(s.setMeta('snapshot', { contentHash: 'x', onChange: () => 1 }));
        const badRating = await m.settle(s.act('t1', { kind: 'rate', value: 7 }, T + 1));
        s.close();
        const dump = await m.rawDump(name);
        return { fn, nested, badRating, meta: dump!.stores.meta.records, history: dump!.stores.history.records };
      },
      { name: dbName('fail-meta'), T },
    );
    await page.close();
    for (const x of [r.fn, r.nested]) {
      expect(x).toMatchObject({ ok: false, isError: true, name: 'StoreError', cause: 'DataCloneError' });
      expect((x as { message: string }).message).toMatch(/^Could not save a setting .*Nothing was changed\.$/);
    }
    expect(r.badRating).toMatchObject({ ok: false, isError: true, name: 'StoreError', cause: 'RangeError' });
    expect((r.badRating as { message: string }).message).toContain('a rating is an integer from 1 to 5');
    expect(r.meta).toEqual([{ key: 'serendipity', value: 0.3 }]);
    expect(r.history).toEqual([{ key: 't1', value: { id: 't1', rating: 3, ratedAt: T, readAt: T } }]);
    expect(errors).toEqual([]);
  });

  it('an import that fails part-way lands nothing (one transaction, rolled back) and leaves the history as it was', async () => {
    const { page, errors } = await openPage();
    const r = await inPage(
      page,
      async (m, { name, T }) => {
        const s = await m.ReaderStore.open(name);
        await s.act('old', { kind: 'like', on: true }, T);
        const before = await s.history();
        // Good entries (one replacing an old one) first, then one that cannot be stored: its put() fails (structured
        // clone) after the others were written in the same transaction.
        const file = {
          ...m.exportHistory([]),
          entries: [
            { id: 'new1', readAt: T + 1 },
            { id: 'old', dislikedAt: T + 3, readAt: T },
            { id: 'new2', likedAt: T + 2, readAt: T + 2 },
            { id: 'new3', readAt: T + 3, note: () => 'not cloneable' },
          ],
        } as unknown as Parameters<typeof s.importHistory>[0];
        const result = await m.settle(s.importHistory(file));
        const after = await s.history();
        // The store still works after the failed transaction.
        await s.act('later', { kind: 'read', on: true }, T + 4);
        const later = (await s.history()).map((e) => e.id);
        s.close();
        return { before, result, after, later };
      },
      { name: dbName('fail-import'), T },
    );
    await page.close();
    expect(r.result).toMatchObject({ ok: false, isError: true, name: 'StoreError', cause: 'DataCloneError' });
    expect((r.result as { message: string }).message).toMatch(/^Could not import that history/);
    expect(r.after).toEqual(r.before);
    expect(r.later).toEqual(['later', 'old']);
    expect(errors).toEqual([]);
  });

  it('a vector batch that fails part-way caches none of it and keeps what was cached', async () => {
    const { page, errors } = await openPage();
    const r = await inPage(
      page,
      async (m, name) => {
        const s = await m.ReaderStore.open(name);
        await s.putVectors('m', 'r', [{ hash: 'kept', vector: new Float32Array([1]) }]);
        const result = await m.settle(
          s.putVectors('m', 'r', [
            { hash: 'a', vector: new Float32Array([2]) },
            { hash: 'b', vector: null as unknown as Float32Array }, // e.g. a failed embedding
          ]),
        );
        const found = [...(await s.getVectors('m', 'r', ['kept', 'a', 'b'])).keys()];
        s.close();
        return { result, found };
      },
      dbName('fail-vectors'),
    );
    await page.close();
    expect(r.result).toMatchObject({ ok: false, isError: true, name: 'StoreError' });
    expect((r.result as { message: string }).message).toMatch(/^Could not cache the text vectors/);
    expect(r.found).toEqual(['kept']);
    expect(errors).toEqual([]);
  });

  it('two instances on one database (two pages of one origin) see each other’s writes', async () => {
    const name = dbName('two-pages');
    const [a, b] = await Promise.all([openPage(), openPage()]);
    await inPage(a.page, async (m, name) => {
      (globalThis as Record<string, unknown>).__s = await m.ReaderStore.open(name);
    }, name);
    await inPage(b.page, async (m, name) => {
      (globalThis as Record<string, unknown>).__s = await m.ReaderStore.open(name);
    }, name);
    await inPage(a.page, async (_m, T) => {
      const s = (globalThis as Record<string, unknown>).__s as Store;
      await s.act('t1', { kind: 'like', on: true }, T);
      await s.setMeta('serendipity', 0.7);
      await s.putVectors('m', 'r', [{ hash: 'h', vector: new Float32Array([1, 2]) }]);
    }, T);
    const seenByB = await inPage(b.page, async (_m, T) => {
      const s = (globalThis as Record<string, unknown>).__s as Store;
      const out = { history: await s.history(), meta: await s.getMeta('serendipity'), vector: Array.from((await s.getVectors('m', 'r', ['h'])).get('h') ?? []) };
      await s.act('t1', { kind: 'bookmark', on: true }, T + 1);
      await s.act('t2', { kind: 'read', on: true }, T + 2);
      await s.setMeta('serendipity', 0.1);
      return out;
    }, T);
    const seenByA = await inPage(a.page, async () => {
      const s = (globalThis as Record<string, unknown>).__s as Store;
      const out = { history: await s.history(), meta: await s.getMeta('serendipity') };
      s.close();
      return out;
    }, null);
    await inPage(b.page, async () => ((globalThis as Record<string, unknown>).__s as Store).close(), null);
    await Promise.all([a.page.close(), b.page.close()]);
    expect(seenByB).toEqual({ history: [{ id: 't1', likedAt: T, readAt: T }], meta: 0.7, vector: [1, 2] });
    expect(seenByA).toEqual({
      history: [
        { id: 't1', likedAt: T, readAt: T, bookmarkedAt: T + 1 },
        { id: 't2', readAt: T + 2 },
      ],
      meta: 0.1,
    });
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  it('an open store steps aside for a newer version in another tab (closes on versionchange, does not block it)', async () => {
    const name = dbName('steps-aside');
    const [a, b] = await Promise.all([openPage(), openPage()]);
    await inPage(a.page, async (m, { name, T }) => {
      const s = await m.ReaderStore.open(name);
      await s.act('t1', { kind: 'like', on: true }, T);
      (globalThis as Record<string, unknown>).__s = s;
    }, { name, T });
    const upgraded = await inPage(b.page, async (m, { name, v }) => {
      // What a newer Toonpick would do: open at a higher version and add a store.
      const result = await Promise.race([
        new Promise<string>((resolve, reject) => {
          const open = indexedDB.open(name, v);
          open.onupgradeneeded = () => open.result.createObjectStore('future');
          open.onsuccess = () => {
            open.result.close();
            resolve('upgraded');
          };
          open.onerror = () => reject(open.error);
        }),
        new Promise<string>((resolve) => setTimeout(() => resolve('blocked for 5 s'), 5000)),
      ]);
      const dump = await m.rawDump(name);
      return { result, version: dump!.version, stores: Object.keys(dump!.stores).sort(), history: dump!.stores.history.records.map((x) => x.key) };
    }, { name, v: 3 });
    // The old tab's store is closed now: it refuses writes with an explained error instead of writing to a
    // database it no longer understands.
    const oldTab = await inPage(a.page, async (m, T) => m.settle(((globalThis as Record<string, unknown>).__s as Store).act('t2', { kind: 'read', on: true }, T)), T);
    await Promise.all([a.page.close(), b.page.close()]);
    expect(upgraded).toEqual({ result: 'upgraded', version: 3, stores: ['future', 'history', 'meta', 'vectors'], history: ['t1'] });
    expect(oldTab).toMatchObject({ ok: false, isError: true, name: 'StoreError' });
    expect([...a.errors, ...b.errors]).toEqual([]);
  });

  describe('migrations', () => {
    // What version-1 code (3e69541) wrote: history entries without searchedAt (it did not exist yet); that app
    // kept nothing in meta, but the store existed and must survive, so it gets records of the later shapes.
    const v1History = [
      { id: '783053', readAt: T - 5000, likedAt: T - 5000 },
      { id: '641253', readAt: T - 4000, rating: 2, ratedAt: T - 4000 },
      { id: '758037', bookmarkedAt: T - 3000 },
      { id: '747269', readAt: T - 2000, dislikedAt: T - 2000 },
      { id: '나의 웹툰', readAt: T - 1000 },
    ];
    const v1Meta = [
      { key: 'snapshot', value: { contentHash: 'old-hash', itemCount: 969, name: 'demo' } },
      { key: 'serendipity', value: 0.25 },
    ];

    it('version 0 → current: a browser without the database gets every store, empty', async () => {
      const { page, errors } = await openPage();
      const r = await inPage(page, async (m, name) => {
        const s = await m.ReaderStore.open(name);
        const empty = { history: await s.history(), meta: await s.getMeta('snapshot'), vectors: (await s.getVectors('m', 'r', ['h'])).size };
        s.close();
        return { empty, dump: await m.rawDump(name), version: m.SCHEMA_VERSION };
      }, dbName('v0'));
      await page.close();
      expect(r.empty).toEqual({ history: [], meta: undefined, vectors: 0 });
      expect(r.dump).toEqual({
        version: r.version,
        stores: {
          history: { keyPath: 'id', autoIncrement: false, records: [] },
          meta: { keyPath: null, autoIncrement: false, records: [] },
          vectors: { keyPath: ['model', 'revision', 'hash'], autoIncrement: false, records: [] },
        },
      });
      expect(errors).toEqual([]);
    });

    it('version 1 → current: every history and meta record survives, the vectors store is added, and the data works with today’s code', async () => {
      const { page, errors } = await openPage();
      const name = dbName('v1');
      const stores: RawStore[] = [
        { ...OLD_SCHEMAS[1][0], records: v1History.map((value) => ({ value })) },
        { ...OLD_SCHEMAS[1][1], records: v1Meta },
      ];
      const r = await inPage(page, async (m, { name, stores, T }) => {
        await m.rawCreate(name, 1, stores);
        const before = await m.rawDump(name);
        const s = await m.ReaderStore.open(name);
        const history = await s.history();
        const meta = { snapshot: await s.getMeta('snapshot'), serendipity: await s.getMeta('serendipity') };
        // Old entries take new actions (searchedAt did not exist in version 1) and new stores work.
        const searched = await s.act('758037', { kind: 'searched' }, T);
        await s.putVectors('m', 'r', [{ hash: 'h', vector: new Float32Array([1]) }]);
        const vectors = (await s.getVectors('m', 'r', ['h'])).size;
        // The migrated history exports to a file today's importer accepts.
        const reparsed = m.parseHistoryFile(JSON.stringify(m.exportHistory(await s.history()))).entries.length;
        s.close();
        return { before, history, meta, searched, vectors, reparsed, after: await m.rawDump(name), version: m.SCHEMA_VERSION };
      }, { name, stores, T });
      await page.close();
      expect(r.before!.version).toBe(1);
      expect(Object.keys(r.before!.stores).sort()).toEqual(['history', 'meta']);
      const byId = (a: { id: string }, b: { id: string }) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
      expect(r.history).toEqual([...v1History].sort(byId));
      expect(r.meta).toEqual({ snapshot: v1Meta[0].value, serendipity: 0.25 });
      expect(r.searched).toEqual({ id: '758037', bookmarkedAt: T - 3000, searchedAt: T });
      expect(r.vectors).toBe(1);
      expect(r.reparsed).toBe(v1History.length);
      expect(r.after!.version).toBe(r.version);
      expect(Object.keys(r.after!.stores).sort()).toEqual(['history', 'meta', 'vectors']);
      expect(r.after!.stores.vectors.keyPath).toEqual(['model', 'revision', 'hash']);
      expect(r.after!.stores.history.keyPath).toBe('id');
      // Every old record, byte for byte (plus the one new action).
      const expectedHistory = [...v1History].sort(byId).map((e) => (e.id === '758037' ? { ...e, searchedAt: T } : e));
      expect(r.after!.stores.history.records).toEqual(expectedHistory.map((e) => ({ key: e.id, value: e })));
      expect(r.after!.stores.meta.records).toEqual([...v1Meta].sort((a, b) => (a.key < b.key ? -1 : 1)));
      expect(errors).toEqual([]);
    });

    it('version 1 → current while a version-1 tab holds the database open: that tab closes on versionchange and the upgrade proceeds', async () => {
      const name = dbName('v1-open-tab');
      const [old, fresh] = await Promise.all([openPage(), openPage()]);
      const stores: RawStore[] = [
        { ...OLD_SCHEMAS[1][0], records: v1History.map((value) => ({ value })) },
        { ...OLD_SCHEMAS[1][1], records: v1Meta },
      ];
      await inPage(old.page, async (m, { name, stores }) => {
        (globalThis as Record<string, unknown>).__held = await m.rawHold(name, 1, stores);
      }, { name, stores });
      const r = await inPage(fresh.page, async (m, name) => {
        const opened = await Promise.race([
          m.ReaderStore.open(name).then(async (s) => {
            const n = (await s.history()).length;
            s.close();
            return `opened with ${n} entries`;
          }),
          new Promise<string>((resolve) => setTimeout(() => resolve('blocked for 5 s'), 5000)),
        ]);
        return { opened, dump: await m.rawDump(name) };
      }, name);
      const closed = await inPage(old.page, async () => ((globalThis as Record<string, unknown>).__held as { closedByVersionChange(): boolean }).closedByVersionChange(), null);
      await Promise.all([old.page.close(), fresh.page.close()]);
      expect(r.opened).toBe(`opened with ${v1History.length} entries`);
      expect(closed).toBe(true);
      expect(r.dump!.version).toBe(2);
      expect(r.dump!.stores.history.records).toHaveLength(v1History.length);
      expect([...old.errors, ...fresh.errors]).toEqual([]);
    });

    it('a migration that fails is rolled back: the database stays at its old version with every record', async () => {
      const { page } = await openPage();
      const name = dbName('v1-failing');
      // A version-1 database that (by some accident) already has a store named 'vectors': creating it fails.
      const stores: RawStore[] = [
        { ...OLD_SCHEMAS[1][0], records: v1History.map((value) => ({ value })) },
        { ...OLD_SCHEMAS[1][1], records: v1Meta },
        { name: 'vectors', records: [{ key: 'x', value: 'stray' }] },
      ];
      const r = await inPage(page, async (m, { name, stores }) => {
        await m.rawCreate(name, 1, stores);
        const before = await m.rawDump(name);
        const result = await m.settle(m.ReaderStore.open(name));
        return { before, result, after: await m.rawDump(name) };
      }, { name, stores });
      await page.close();
      expect(r.result).toMatchObject({ ok: false, isError: true, name: 'StoreError' });
      expect((r.result as { message: string }).message).toMatch(/^Could not open your saved reading history/);
      expect(r.after).toEqual(r.before);
      expect(r.after!.version).toBe(1);
      expect(r.after!.stores.history.records).toHaveLength(v1History.length);
    });

    it('a database from a newer version is refused with a clear error and left untouched', async () => {
      const { page, errors } = await openPage();
      const name = dbName('newer');
      const stores: RawStore[] = [
        { name: 'history', keyPath: 'id', records: v1History.map((value) => ({ value: { ...value, futureField: 'kept' } })) },
        { name: 'meta', records: v1Meta },
        { name: 'vectors', keyPath: ['model', 'revision', 'hash'], records: [{ value: { model: 'm', revision: 'r', hash: 'h', vector: [1, 2] } }] },
        { name: 'future', keyPath: 'k', records: [{ value: { k: 1, v: 'from the future' } }] },
      ];
      const r = await inPage(page, async (m, { name, stores, v }) => {
        // Float32Array does not survive the trip from Node: build it here.
        const [vectors] = stores.filter((s) => s.name === 'vectors');
        vectors.records = vectors.records!.map((x) => ({ value: { ...(x.value as object), vector: new Float32Array((x.value as { vector: number[] }).vector) } }));
        await m.rawCreate(name, v, stores);
        const before = await m.rawDump(name);
        const result = await m.settle(m.ReaderStore.open(name));
        const second = await m.settle(m.ReaderStore.open(name));
        return { before, result, second, after: await m.rawDump(name) };
      }, { name, stores, v: 3 });
      await page.close();
      for (const x of [r.result, r.second]) {
        expect(x).toMatchObject({ ok: false, isError: true, name: 'StoreError', cause: 'VersionError' });
        expect((x as { message: string }).message).toMatch(/newer version.*left untouched/);
      }
      expect(r.after).toEqual(r.before);
      expect(r.after!.version).toBe(3);
      expect(r.after!.stores.history.records).toHaveLength(v1History.length);
      expect(r.after!.stores.future.records).toEqual([{ key: 1, value: { k: 1, v: 'from the future' } }]);
      expect(errors).toEqual([]);
    });
  });
});

describe('storage (src/store/storage.ts) in Chromium', () => {
  it('reports persistence and usage, and asking for persistence answers a boolean without throwing', async () => {
    const { page, errors } = await openPage();
    const r = await inPage(page, async (m, name) => {
      const before = await m.storageStatus();
      const s = await m.ReaderStore.open(name);
      await s.putVectors('m', 'r', [{ hash: 'big', vector: new Float32Array(256 * 1024) }]);
      s.close();
      const asked = await m.requestPersistence();
      const after = await m.storageStatus();
      return { before, asked, after };
    }, dbName('storage'));
    await page.close();
    for (const s of [r.before, r.after]) {
      expect(typeof s.persisted).toBe('boolean');
      expect(typeof s.usage).toBe('number');
      expect(s.quota).toBeGreaterThan(0);
      expect(s.usage!).toBeLessThanOrEqual(s.quota!);
    }
    expect(typeof r.asked).toBe('boolean');
    expect(r.after.persisted).toBe(r.asked);
    expect(errors).toEqual([]);
  });
});
