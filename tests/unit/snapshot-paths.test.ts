/**
 * What a snapshot, a catalog source or a history file may point at (src/core/snapshot/paths.ts): inherited
 * object members, paths that leave the snapshot, unsafe links, and values a type check allows but the app
 * cannot use are refused with a DataError naming file and field.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { coverFileName, lexicalDimArg } from '../../scripts/snapshot.ts';
import { DataError } from '../../src/core/errors.ts';
import { exportHistory, parseHistoryFile } from '../../src/core/history.ts';
import { contentHashOf, sha256Hex } from '../../src/core/snapshot/format.ts';
import { httpReader, loadSnapshot, type ReadFile } from '../../src/core/snapshot/load.ts';
import { isCoverRef, isSnapshotPath } from '../../src/core/snapshot/paths.ts';
import { parseCatalogJsonl } from '../../src/core/source.ts';
import { demoSnapshotDir } from './helpers/paths.ts';
import { buildSnapshot, serializeSnapshot } from '../../src/core/snapshot/build.ts';
import { recommend } from '../../src/core/ranker.ts';
import { defaultConfig } from '../../src/core/config.ts';

let files: Map<string, Uint8Array>;
const enc = new TextEncoder();

beforeAll(async () => {
  const manifest = JSON.parse(await readFile(path.join(demoSnapshotDir, 'manifest.json'), 'utf8'));
  files = new Map([['manifest.json', enc.encode(JSON.stringify(manifest))]]);
  for (const p of Object.keys(manifest.files)) files.set(p, new Uint8Array(await readFile(path.join(demoSnapshotDir, p))));
});

/** The demo snapshot in memory with its manifest (and, when given, its items) changed and re-signed. */
async function variant(editManifest: (m: Record<string, any>) => void, editItems?: (items: Array<Record<string, unknown>>) => void): Promise<ReadFile> {
  const m = JSON.parse(new TextDecoder().decode(files.get('manifest.json')));
  const own = new Map(files);
  if (editItems) {
    const items = JSON.parse(new TextDecoder().decode(files.get(m.items)));
    editItems(items);
    const bytes = enc.encode(JSON.stringify(items));
    own.set(m.items, bytes);
    m.files[m.items] = { bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
  }
  editManifest(m);
  m.contentHash = await contentHashOf(m.files);
  own.set('manifest.json', enc.encode(JSON.stringify(m)));
  return async (p) => {
    const b = own.get(p);
    if (!b) throw new DataError(p, 'not in this test snapshot');
    return b;
  };
}

async function refusal(read: ReadFile): Promise<string> {
  const e = await loadSnapshot(read).then(() => undefined, (x: unknown) => x);
  expect(e).toBeInstanceOf(DataError);
  return (e as Error).message;
}

describe('what a snapshot may point at', () => {
  it('loads the unchanged demo snapshot through the same in-memory reader', async () => {
    expect((await loadSnapshot(await variant(() => {}))).items.length).toBe(969);
  });

  it('refuses inherited member names as file names, wherever the manifest names a file', async () => {
    const msg = await refusal(await variant((m) => (m.spaces[0].file = 'constructor')));
    expect(msg).toBe('manifest.json, field "spaces[0].file": must be a path inside the snapshot folder');
    expect(await refusal(await variant((m) => (m.items = '__proto__')))).toBe('manifest.json, field "items": must be a path inside the snapshot folder');
    expect(await refusal(await variant((m) => (m.spaces[0].file = 'spaces/unlisted.bin')))).toBe('manifest.json, field "spaces[0].file": names "spaces/unlisted.bin", which "files" does not list');
    // Listed as files, such names are refused before any check could skip them.
    expect(await refusal(await variant((m) => (m.files.constructor = m.files['items.json'])))).toContain('lists "constructor", which is not a path inside the snapshot folder');
  });

  it('refuses file paths that leave the snapshot folder, in the manifest and in both readers', async () => {
    for (const bad of ['../secret.bin', '/etc/passwd', 'spaces/../../x', 'https://evil.example/x', 'data:,x', 'a\\b']) {
      const msg = await refusal(await variant((m) => (m.files[bad] = { bytes: 1, sha256: '0'.repeat(64) })));
      expect(msg).toContain(`lists ${JSON.stringify(bad)}, which is not a path inside the snapshot folder`);
    }
    await expect(fsReader(demoSnapshotDir)('../package.json')).rejects.toThrow(/is outside the snapshot folder/);
    const fetched: string[] = [];
    const http = httpReader('https://cdn.example/toonpick/snapshot/', (async (u: URL) => {
      fetched.push(String(u));
      return new Response('{}');
    }) as typeof fetch);
    for (const bad of ['../other/manifest.json', 'https://evil.example/x.bin', 'data:application/octet-stream,x', '//evil.example/x']) {
      await expect(http(bad)).rejects.toThrow(/is outside the snapshot folder/);
    }
    expect(fetched).toEqual([]);
  });

  it('refuses a genre vocabulary of the wrong type, naming the field', async () => {
    const msg = await refusal(await variant((m) => (m.spaces[0].encoder.params.vocabulary = '스토리,드라마')));
    expect(msg).toBe('manifest.json, field "spaces[0].encoder.params.vocabulary": must be an array of strings');
  });

  it('accepts only http(s) links out and covers inside the snapshot, unless the operator lists their origin', async () => {
    const first = (edit: (t: Record<string, unknown>) => void) => (items: Array<Record<string, unknown>>) => edit(items[0]);
    expect(await refusal(await variant(() => {}, first((t) => (t.sourceUrl = 'javascript:alert(1)'))))).toMatch(/field "sourceUrl": must be an http\(s\) URL/);
    expect(await refusal(await variant(() => {}, first((t) => (t.cover = '../../private.webp'))))).toMatch(/field "cover": must be a path inside the snapshot/);
    const tracker = first((t) => (t.cover = 'https://tracker.example/c.webp'));
    expect(await refusal(await variant(() => {}, tracker))).toMatch(/covers on other origins need the manifest's coverOrigins/);
    const opted = await loadSnapshot(await variant((m) => (m.coverOrigins = ['https://tracker.example']), tracker));
    expect(opted.items[0].cover).toBe('https://tracker.example/c.webp');
    expect(await refusal(await variant((m) => (m.coverOrigins = ['http://cdn.example/path'])))).toContain('field "coverOrigins[0]": must be a list of https origins');
    expect(isCoverRef('covers/1.webp', [])).toBe(true);
    expect(isSnapshotPath('covers/./1.webp')).toBe(false);
  });
});

describe('catalog sources, builder arguments and history files', () => {
  const line = (extra: Record<string, unknown>) => JSON.stringify({ id: '1', title: 'T', synopsis: 's', genres: ['g'], ...extra });

  it('refuses unsafe links and covers outside the source folder', () => {
    expect(() => parseCatalogJsonl(line({ source_url: 'javascript:alert(1)' }))).toThrow(/item 1, field "source_url": line 1: must be an http\(s\) URL/);
    expect(() => parseCatalogJsonl(line({ cover: '../../etc/passwd' }))).toThrow(/field "cover": line 1: must be a path inside the source folder/);
    expect(parseCatalogJsonl(line({ source_url: 'https://comic.naver.com/x', cover: 'thumbnails/1.jpg' }))[0].cover).toBe('thumbnails/1.jpg');
  });

  it('gives two different ids two different cover files, each a safe file name', () => {
    const ids = ['a_b', 'a%b', 'a_25b', "a'b", 'a!b', '한글', '..', 'x/y', '1234'];
    const names = ids.map((id) => coverFileName(id));
    expect(new Set(names).size).toBe(ids.length);
    for (const n of names) expect(isSnapshotPath(`covers/${n}`)).toBe(true);
    expect(coverFileName('703630')).toBe('703630.webp'); // numeric ids keep their names
    // A version (the source image's hash) is part of the name: a new picture never reuses a cached URL.
    expect(coverFileName('703630', '0a1b2c3d')).toBe('703630~0a1b2c3d.webp');
    expect(coverFileName('a~b')).not.toBe(coverFileName('a', 'b'));
    expect(isSnapshotPath(`covers/${coverFileName('a~b', '0a1b2c3d')}`)).toBe(true);
  });

  it('validates --lexical-dim', () => {
    expect(lexicalDimArg(undefined)).toBeUndefined();
    expect(lexicalDimArg('1024')).toBe(1024);
    for (const bad of ['abc', '-5', '0', '2147483648', '1e3', true] as const) expect(() => lexicalDimArg(bad)).toThrow(/--lexical-dim: must be a whole number from 16 to 65536/);
  });

  it('refuses history times a Date cannot hold', () => {
    const file = (t: number) => JSON.stringify(exportHistory([{ id: 'a', readAt: t }]));
    expect(parseHistoryFile(file(Date.UTC(2026, 0, 1))).entries).toHaveLength(1);
    expect(() => parseHistoryFile(file(1e16))).toThrow(/item a, field "readAt": must be a time in epoch milliseconds/);
  });
});

describe('encoder files checked for shape at load', () => {
  /** The demo with one listed file's bytes replaced and re-signed. */
  async function withFile(p: string, bytes: Uint8Array): Promise<ReadFile> {
    const own = new Map(files);
    own.set(p, bytes);
    const m = JSON.parse(new TextDecoder().decode(files.get('manifest.json')));
    m.files[p] = { bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
    m.contentHash = await contentHashOf(m.files);
    own.set('manifest.json', enc.encode(JSON.stringify(m)));
    return async (q) => own.get(q) ?? Promise.reject(new DataError(q, 'missing'));
  }

  it('refuses a lexical IDF table of the wrong length or with NaN, and style weights that are not JSON', async () => {
    expect(await refusal(await withFile('spaces/lexical.idf.f32', new Uint8Array(4096 - 4)))).toMatch(/spaces\/lexical\.idf\.f32, field "spaces\.lexical\.encoder\.files\.idf": holds 4092 bytes but dim 1024 × 4 needs 4096/);
    const nan = new Float32Array(1024).fill(1);
    nan[7] = Number.NaN;
    expect(await refusal(await withFile('spaces/lexical.idf.f32', new Uint8Array(nan.buffer)))).toMatch(/non-finite value \(NaN\) at 7/);
    expect(await refusal(await withFile('style/weights.json', enc.encode('[1, 2]')))).toMatch(/style\/weights\.json: is not a JSON object/);
    expect(await refusal(await withFile('style/weights.json', enc.encode('not json')))).toMatch(/style\/weights\.json: is not valid JSON/);
  });
});

describe('values the app could not write back', () => {
  it('refuses JSON nested deeper than any snapshot field, before a writer would overflow the stack', async () => {
    const nested = (n: number) => `${'['.repeat(n)}1${']'.repeat(n)}`;
    const withExtra = (json: string) =>
      variant((m) => (m.extra = 'placeholder')).then((read) => async (p: string) => {
        const bytes = await read(p);
        return p === 'manifest.json' ? enc.encode(new TextDecoder().decode(bytes).replace('"placeholder"', json)) : bytes;
      });
    expect(await loadSnapshot(await withExtra(nested(20)))).toBeDefined();
    expect(await refusal(await withExtra(nested(200_000)))).toMatch(/^manifest\.json: (nests deeper than 32 levels|is not valid JSON)/);
    const e = await refusal(await withExtra(nested(100)));
    expect(e).toBe('manifest.json: nests deeper than 32 levels');
  });
});

describe('builder inputs', () => {
  it('builds a catalog whose titles name no genre, with interactions, into a snapshot that loads and ranks', async () => {
    const items = Array.from({ length: 30 }, (_, i) => ({ id: `t${i}`, title: `T ${i}`, synopsis: `story ${i % 5} word${i}`, genres: [] as string[] }));
    const interactions = [];
    for (let u = 0; u < 20; u++) for (let k = 0; k < 6; k++) interactions.push({ user: `u${u}`, item: `t${(u * 3 + k * 7) % 30}`, rating: 4, timestamp: 1000 + u * 10 + k });
    const built = buildSnapshot({ name: 'no genres', items, interactions, covers: new Map() });
    const out = await serializeSnapshot(built);
    const snap = await loadSnapshot(async (p) => out.get(p) ?? Promise.reject(new DataError(p, 'missing')));
    expect([...snap.spaces.keys()]).toEqual(['lexical']);
    expect(snap.community).toBeDefined();
    const recs = recommend(snap, [{ id: 't1', readAt: 1, likedAt: 1 }, { id: 't2', readAt: 2, likedAt: 2 }], defaultConfig.ranker, 10, { serendipity: 1 })!;
    expect(recs).toHaveLength(10);
  });
});
