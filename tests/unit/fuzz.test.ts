/**
 * A fuzz corpus of our own, generated (fast-check, seeded: the same cases every run, nothing on disk): the demo
 * snapshot with one value of its manifest or of one item replaced by arbitrary JSON (or removed), re-signed so the
 * change gets past the hash checks. Every case must either be refused with a DataError, or load into a snapshot
 * that every consumer can use — For you at both ends of the slider, popular titles, More like this, keyword and
 * similarity search with highlights, cover URLs, and writing the manifest and items back. Any other exception
 * fails the test with the case that caused it.
 */
import { describe, it, expect, beforeAll, vi } from 'vitest';
import fc from 'fast-check';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DataError } from '../../src/core/errors.ts';
import { exportHistory, mergeHistory, parseHistoryFile } from '../../src/core/history.ts';
import { defaultConfig } from '../../src/core/config.ts';
import { contentHashOf, sha256Hex } from '../../src/core/snapshot/format.ts';
import { loadSnapshot, type ReadFile } from '../../src/core/snapshot/load.ts';
import { moreLikeThis, popular, recommend } from '../../src/core/ranker.ts';
import { lexicalEncoderOf, similarTitles, TitleSearch } from '../../src/core/search.ts';
import type { Snapshot } from '../../src/core/snapshot/snapshot.ts';
import { demoSnapshotDir, webtoonsDir } from './helpers/paths.ts';
import { buildSnapshot, serializeSnapshot } from '../../src/core/snapshot/build.ts';
import { parseCatalogJsonl } from '../../src/core/source.ts';
import { isWebUrl } from '../../src/core/snapshot/paths.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
let files: Map<string, Uint8Array>;
let manifest: Record<string, any>;
let items: Array<Record<string, unknown>>;

beforeAll(async () => {
  manifest = JSON.parse(await readFile(path.join(demoSnapshotDir, 'manifest.json'), 'utf8'));
  files = new Map();
  for (const p of Object.keys(manifest.files)) files.set(p, new Uint8Array(await readFile(path.join(demoSnapshotDir, p))));
  items = JSON.parse(dec.decode(files.get(manifest.items)));
});

/** Replaces (or removes) the value that `choices` lead to, picking one key per level. */
function mutate(root: unknown, choices: number[], value: unknown, remove: boolean): void {
  let node = root as Record<string, unknown>;
  for (let depth = 0; ; depth++) {
    const keys = Object.keys(node);
    if (keys.length === 0) return;
    const key = keys[choices[depth % choices.length] % keys.length];
    const child = node[key];
    const last = depth >= choices.length - 1 || typeof child !== 'object' || child === null;
    if (last) {
      if (remove && !Array.isArray(node)) delete node[key];
      else node[key] = value;
      return;
    }
    node = child as Record<string, unknown>;
  }
}

async function variantOf(target: 'manifest' | 'item', choices: number[], value: unknown, remove: boolean): Promise<ReadFile> {
  const m = structuredClone(manifest);
  const own = new Map(files);
  if (target === 'item') {
    const list = structuredClone(items);
    mutate(list[choices[0] % list.length], choices.slice(1).length ? choices.slice(1) : [0], value, remove);
    const bytes = enc.encode(JSON.stringify(list));
    own.set(m.items, bytes);
    m.files[m.items] = { bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
    m.contentHash = await contentHashOf(m.files);
  } else {
    mutate(m, choices, value, remove);
    if (m.files && typeof m.files === 'object') m.contentHash = (await contentHashOf(m.files).catch(() => undefined)) ?? m.contentHash;
  }
  own.set('manifest.json', enc.encode(JSON.stringify(m)));
  return async (p) => {
    const b = own.get(p);
    if (!b) throw new DataError(p, 'is not in this snapshot');
    return b;
  };
}

/** Everything the app and the widget do with a loaded snapshot. */
function useEverywhere(snap: Snapshot): void {
  const cfg = defaultConfig.ranker;
  const history = snap.items.slice(0, 3).map((t, i) => ({ id: t.id, readAt: i + 1, likedAt: i + 1 }));
  for (const level of [0, 1]) recommend(snap, history, cfg, 24, { serendipity: level });
  popular(snap, history, 12);
  moreLikeThis(snap, 5, cfg, 12);
  const search = new TitleSearch(snap.items, defaultConfig.search);
  for (const hit of search.keyword('좀비 로맨스', 5)) search.highlight(hit.index, '좀비 로맨스');
  if (snap.spaces.has('lexical')) similarTitles(snap.spaces.get('lexical')!, lexicalEncoderOf(snap).embedQuery('복수 회귀'), 5);
  // Links the page and the widget hand on: http(s) out, covers from the snapshot's own origin (no coverOrigins here).
  const base = 'https://toonpick.example/snapshot/';
  for (const t of snap.items) {
    if (t.sourceUrl !== undefined && !isWebUrl(t.sourceUrl)) throw new Error(`unsafe sourceUrl accepted: ${JSON.stringify(t.sourceUrl)}`);
    for (const c of [t.cover, t.coverSquare]) {
      if (c !== undefined && !new URL(c, base).href.startsWith(base)) throw new Error(`cover outside the snapshot accepted: ${JSON.stringify(c)}`);
    }
  }
  JSON.stringify(snap.manifest);
  JSON.stringify(snap.items);
}

describe('the loader against a generated corpus of damaged snapshots', () => {
  it('refuses each case with a DataError, or loads something every consumer can use', async () => {
    // A manifest without its calibration still loads (with a console warning): expected, and noisy here.
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    let refused = 0, accepted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('manifest' as const, 'item' as const),
        fc.array(fc.nat(), { minLength: 1, maxLength: 5 }),
        fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('constructor', '__proto__', '../x', 'javascript:alert(1)', -1, 1e308, 8.64e15 + 1, '', [], {})),
        fc.boolean(),
        async (target, choices, value, remove) => {
          let snap: Snapshot;
          try {
            snap = await loadSnapshot(await variantOf(target, choices, value, remove));
          } catch (e) {
            if (!(e instanceof DataError)) throw new Error(`not a DataError: ${(e as Error)?.stack ?? e}`, { cause: e });
            refused++;
            return;
          }
          accepted++;
          useEverywhere(snap);
        },
      ),
      { numRuns: 300, seed: 20261203 },
    );
    // The corpus exercises both outcomes.
    expect(refused).toBeGreaterThan(30);
    expect(accepted).toBeGreaterThan(30);
  }, 120_000);
});

describe('the history importer against a generated corpus of damaged exports', () => {
  it('refuses each case with a DataError, or imports entries the History page can show and export again', () => {
    const good = exportHistory(
      [
        { id: 'a', readAt: 1_700_000_000_000, likedAt: 1_700_000_000_001 },
        { id: 'b', readAt: 1_700_000_100_000, rating: 4, ratedAt: 1_700_000_100_000 },
        { id: 'c', bookmarkedAt: 1_700_000_200_000, searchedAt: 1_700_000_200_001 },
      ],
      'demo',
    );
    let refused = 0, accepted = 0;
    fc.assert(
      fc.property(
        fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
        fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(-1, 1e16, 8.64e15, Number.MAX_SAFE_INTEGER, '__proto__', 'constructor', 1.5, 6)),
        fc.boolean(),
        (choices, value, remove) => {
          const file = structuredClone(good) as unknown as Record<string, unknown>;
          mutate(file, choices, value, remove);
          let parsed;
          try {
            parsed = parseHistoryFile(JSON.stringify(file));
          } catch (e) {
            if (!(e instanceof DataError)) throw new Error(`not a DataError: ${(e as Error)?.stack ?? e}`, { cause: e });
            refused++;
            return;
          }
          accepted++;
          // What the History page and Export do with every entry.
          const merged = mergeHistory([], parsed.entries);
          for (const e of merged) for (const t of [e.readAt, e.likedAt, e.dislikedAt, e.bookmarkedAt, e.ratedAt, e.searchedAt]) if (t !== undefined) new Date(t).toISOString();
          parseHistoryFile(JSON.stringify(exportHistory(merged)));
        },
      ),
      { numRuns: 500, seed: 20261203 },
    );
    expect(refused).toBeGreaterThan(50);
    expect(accepted).toBeGreaterThan(50);
  });
});

describe('the snapshot builder against a generated corpus of damaged catalog sources', () => {
  it('refuses each source with a DataError, or builds a snapshot its own loader accepts and ranks with', async () => {
    const base = (await readFile(path.join(webtoonsDir, 'catalog.jsonl'), 'utf8')).split('\n').filter(Boolean).slice(0, 12).map((l) => JSON.parse(l));
    let refused = 0, built = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(), { minLength: 1, maxLength: 3 }),
        fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('', ' ', '../x.jpg', 'javascript:alert(1)', [], ['스토리'], -1, 1e308)),
        fc.boolean(),
        async (choices, value, remove) => {
          const items = structuredClone(base).map((it: Record<string, unknown>) => ({ ...it, cover: undefined }));
          mutate(items[choices[0] % items.length], choices.length > 1 ? choices.slice(1) : [choices[0]], value, remove);
          let source;
          try {
            source = parseCatalogJsonl(items.map((it: unknown) => JSON.stringify(it)).join('\n'));
          } catch (e) {
            if (!(e instanceof DataError)) throw new Error(`not a DataError: ${(e as Error)?.stack ?? e}`, { cause: e });
            refused++;
            return;
          }
          const out = await serializeSnapshot(buildSnapshot({ name: 'fuzz', items: source, covers: new Map() }));
          const snap = await loadSnapshot(async (p) => out.get(p) ?? Promise.reject(new DataError(p, 'missing')));
          useEverywhere(snap);
          built++;
        },
      ),
      { numRuns: 60, seed: 20261203 },
    );
    expect(refused).toBeGreaterThan(5);
    expect(built).toBeGreaterThan(5);
  }, 120_000);
});
