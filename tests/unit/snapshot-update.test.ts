/**
 * `npm run snapshot -- --update`: a snapshot built from real webtoons, updated twice (titles added, edited, removed,
 * counts refreshed), and the demo snapshot (built before per-title hashes) updated once. Unchanged titles keep
 * their stored rows byte for byte; the delta rebuilds exactly the new files from the old ones.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeSnapshot } from '../../scripts/snapshot.ts';
import { updateSnapshot } from '../../scripts/update-snapshot.ts';
import { embedText } from '../../scripts/embed-text.ts';
import { FIXTURE_MODEL } from '../../scripts/lib/text-model.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { loadSnapshot, type FileCache, type ReadFile } from '../../src/core/snapshot/load.ts';
import { decodeDelta, diffBytes, patchBytes } from '../../src/core/snapshot/delta.ts';
import { sha256Hex, type Manifest } from '../../src/core/snapshot/format.ts';
import type { Snapshot } from '../../src/core/snapshot/snapshot.ts';
import { decodeStyleMap } from '../../src/core/style/style-map.ts';
import { DataError } from '../../src/core/errors.ts';
import { denseRows } from '../../src/core/vectors.ts';
import { demoSnapshotDir, webtoonsDir } from './helpers/paths.ts';

type Line = Record<string, unknown> & { id: string; title: string; synopsis: string; genres: string[]; cover: string; likes?: number };

let work: string;
let all: Line[];

async function writeSource(dir: string, lines: Line[]) {
  await mkdir(dir, { recursive: true });
  if (!existsSync(path.join(dir, 'thumbnails'))) await cp(path.join(webtoonsDir, 'thumbnails'), path.join(dir, 'thumbnails'), { recursive: true, filter: (f) => !/\.(jpg|png|webp)$/.test(f) || lines.some((l) => f.endsWith(l.cover)) });
  await writeFile(path.join(dir, 'catalog.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

const manifestOf = async (dir: string) => JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;

/** A title's stored row in a space, as the loader decodes it. */
function row(s: Snapshot, space: string, id: string): number[] {
  const sp = s.spaces.get(space)!;
  const i = s.indexOf.get(id)!;
  return Array.from(denseRows(sp).subarray(i * sp.dim, (i + 1) * sp.dim));
}

/** Every file the delta patches, rebuilt from the previous version's bytes, is the new version's file. */
async function expectDeltaRebuilds(before: string, after: string) {
  const m = await manifestOf(after);
  const delta = m.changes!.delta!;
  const d = decodeDelta(new Uint8Array(await readFile(path.join(after, delta.file))), delta.file);
  expect(d.header.from).toBe(m.changes!.from);
  expect(d.header.files.length).toBeGreaterThan(0);
  for (const f of d.header.files) {
    const old = new Uint8Array(await readFile(path.join(before, f.path)));
    expect(await sha256Hex(old)).toBe(delta.patches[f.path]);
    const rebuilt = patchBytes(old, d.ops(f.path)!, f.bytes, f.path);
    expect(await sha256Hex(rebuilt)).toBe(m.files[f.path].sha256);
  }
  return { delta: m.files[delta.file].bytes, rebuilds: d.header.files.reduce((s, f) => s + f.bytes, 0) };
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'toonpick-update-'));
  all = (await readFile(path.join(webtoonsDir, 'catalog.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('diffBytes / patchBytes', () => {
  it('rebuilds any file from any other, and refuses ops that do not fit', () => {
    const rand = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (Math.imul(i + seed, 2654435761) >>> 24) & 0xff);
    const old = rand(5000, 1);
    const cases = [
      new Uint8Array(0),
      old,
      Uint8Array.from([...old.subarray(388, 5000), ...rand(97, 9)]), // a row removed at the front, bytes added at the end
      Uint8Array.from([...old.subarray(0, 2000), ...rand(300, 3), ...old.subarray(2100)]),
      rand(40, 5),
    ];
    for (const next of cases) {
      const ops = diffBytes(old, next);
      expect(Array.from(patchBytes(old, ops, next.byteLength, 'f'))).toEqual(Array.from(next));
    }
    // A shift by one removed row costs a few ops, not the file.
    expect(diffBytes(old, cases[2]).byteLength).toBeLessThan(200);
    const ops = diffBytes(old, cases[3]);
    expect(() => patchBytes(old.subarray(0, 100), ops, cases[3].byteLength, 'spaces/x.i8')).toThrow(/spaces\/x\.i8: update patch copies past the end/);
    expect(() => patchBytes(old, ops, cases[3].byteLength + 1, 'f')).toThrow(/makes \d+ bytes, the manifest says/);
    expect(() => decodeDelta(new TextEncoder().encode('not a delta at all'), 'delta/x.bin')).toThrow(/delta\/x\.bin: is not an update delta/);
  });
});

describe('a snapshot updated twice', () => {
  let v1: string, v2: string, v3: string;
  let s1: Snapshot, s2: Snapshot, s3: Snapshot;
  const first = () => all.slice(0, 30);

  beforeAll(async () => {
    v1 = path.join(work, 'v1');
    await writeSource(path.join(work, 'src1'), first());
    await makeSnapshot({ source: path.join(work, 'src1'), out: v1 });
    await embedText(v1, FIXTURE_MODEL); // an sts space, so the update has a sentence model to run as well
    s1 = await loadSnapshot(fsReader(v1));

    // Week 2: two titles gone, one synopsis and one cover edited, three titles new, every like count moved.
    const week2: Line[] = first().filter((l) => l.id !== all[3].id && l.id !== all[7].id).map((l) => ({ ...l, likes: (l.likes ?? 0) + 11 }));
    week2[0] = { ...week2[0], synopsis: `${week2[0].synopsis} 시즌 2 연재 시작.` };
    week2[1] = { ...week2[1], cover: all[40].cover };
    week2.push(...all.slice(30, 33));
    await writeSource(path.join(work, 'src2'), week2);
    await cp(path.join(webtoonsDir, all[40].cover), path.join(work, 'src2', all[40].cover));
    v2 = path.join(work, 'v2');
    await expect(updateSnapshot({ snapshot: v1, source: path.join(work, 'src2'), out: v2 })).rejects.toThrow(/--model: is needed: the snapshot's sts space was made by toonpick\/tiny-bert, and 5 new or changed synopses/);
    const r2 = await updateSnapshot({ snapshot: v1, source: path.join(work, 'src2'), out: v2, model: FIXTURE_MODEL });
    expect(r2.added).toEqual(all.slice(30, 33).map((l) => l.id));
    expect(r2.changed).toEqual([week2[0].id, week2[1].id]);
    expect(r2.removed).toEqual([all[3].id, all[7].id]);
    expect(r2.kept).toBe(26);
    expect(r2.encoded).toMatchObject({ lexical: 5, sts: 5 });
    s2 = await loadSnapshot(fsReader(v2));

    // Week 3: one more title gone, one new, and the removed title back under its id.
    const week3 = [...week2.filter((l) => l.id !== week2[5].id), all[33], all[3]];
    await writeSource(path.join(work, 'src3'), week3);
    await cp(path.join(webtoonsDir, all[40].cover), path.join(work, 'src3', all[40].cover));
    v3 = path.join(work, 'v3');
    await cp(v2, v3, { recursive: true });
    const r3 = await updateSnapshot({ snapshot: v3, source: path.join(work, 'src3'), model: FIXTURE_MODEL }); // in place
    expect(r3.added).toEqual([all[33].id, all[3].id]);
    expect(r3.changed).toEqual([]);
    expect(r3.removed).toEqual([week2[5].id]);
    s3 = await loadSnapshot(fsReader(v3));
  }, 240_000);

  it('keeps every unchanged title\'s stored rows byte for byte, in every space', () => {
    for (const [before, after] of [[s1, s2], [s2, s3]] as const) {
      const changes = after.manifest.changes!;
      const fresh = new Set([...changes.added, ...changes.changed]);
      const kept = after.items.filter((t) => !fresh.has(t.id));
      expect(kept.length).toBeGreaterThan(20);
      for (const name of ['lexical', 'sts']) for (const t of kept) expect(row(after, name, t.id)).toEqual(row(before, name, t.id));
      // The lexical space keeps its IDF table (a full rebuild refits it).
      expect(after.blobs.get('spaces/lexical.idf.f32')).toEqual(before.blobs.get('spaces/lexical.idf.f32'));
    }
  });

  it('encodes the new and changed titles as a full build would', async () => {
    const edited = s2.manifest.changes!.changed[0];
    expect(row(s2, 'lexical', edited)).not.toEqual(row(s1, 'lexical', edited));
    // A title that comes back is encoded again: the same text and IDF give the row it had.
    expect(row(s3, 'lexical', all[3].id)).toEqual(row(s1, 'lexical', all[3].id));
    expect(row(s3, 'sts', all[3].id)).toEqual(row(s1, 'sts', all[3].id));
    // The edited cover has a new file name (caches key covers by URL); kept titles keep theirs.
    const t1 = s1.items[s1.indexOf.get(s2.manifest.changes!.changed[1])!];
    const t2 = s2.items[s2.indexOf.get(t1.id)!];
    expect(t2.coverSquare).not.toBe(t1.coverSquare);
    const kept = s2.items.find((t) => t.id === all[2].id)!;
    expect(kept.coverSquare).toBe(s1.items[s1.indexOf.get(all[2].id)!].coverSquare);
    expect(s2.items.find((t) => t.id === all[2].id)!.likes).toBe((all[2].likes ?? 0) + 11);
    for (const t of s3.items) expect(existsSync(path.join(v3, t.coverSquare!))).toBe(true);
    expect(existsSync(path.join(v3, t1.coverSquare!))).toBe(false); // the old cover of the edited title is gone
  });

  it('records what changed, with the removed titles\' names, and the version it came from', async () => {
    const m2 = await manifestOf(v2);
    const m1 = await manifestOf(v1);
    expect(m2.changes).toMatchObject({ from: m1.contentHash, fromBuiltAt: m1.builtAt, removed: [{ id: all[3].id, title: all[3].title }, { id: all[7].id, title: all[7].title }] });
    const m3 = await manifestOf(v3);
    expect(m3.changes!.from).toBe(m2.contentHash);
    expect(m3.itemCount).toBe(32);
  });

  it('writes a delta that rebuilds every changed file from the previous version, much smaller than those files', async () => {
    for (const [before, after] of [[path.join(work, 'v1'), v2]]) {
      const { delta, rebuilds } = await expectDeltaRebuilds(before, after);
      expect(delta).toBeLessThan(rebuilds / 4);
    }
  });
});

/** The loader's file cache as the app's (by SHA-256), in memory, and a reader that records what it downloads. */
function memoryCache(): FileCache & { files: Map<string, Uint8Array> } {
  const files = new Map<string, Uint8Array>();
  return {
    files,
    get: async (e) => files.get(e.sha256),
    put: async (e, b) => void files.set(e.sha256, b),
    retain: async () => undefined,
  };
}
function recording(read: ReadFile): ReadFile & { paths: string[] } {
  const paths: string[] = [];
  return Object.assign((p: string) => (paths.push(p), read(p)), { paths });
}

describe('loading an update on a device that holds the previous version', () => {
  let before: string, after: string;
  beforeAll(async () => {
    before = path.join(work, 'load-v1');
    after = path.join(work, 'load-v2');
    await writeSource(path.join(work, 'load-src1'), all.slice(50, 80));
    await makeSnapshot({ source: path.join(work, 'load-src1'), out: before });
    await writeSource(path.join(work, 'load-src2'), [...all.slice(51, 80), all[80]]);
    await updateSnapshot({ snapshot: before, source: path.join(work, 'load-src2'), out: after });
  }, 120_000);

  it('downloads only the manifest and the delta, and gets the same snapshot as a full download', async () => {
    const cache = memoryCache();
    await loadSnapshot(fsReader(before), { cache });
    const read = recording(fsReader(after));
    const patched = await loadSnapshot(read, { cache });
    const m = patched.manifest;
    expect(read.paths).toEqual(['manifest.json', m.changes!.delta!.file]);
    const full = await loadSnapshot(fsReader(after));
    expect(patched.items).toEqual(full.items);
    for (const [name, sp] of full.spaces) expect(denseRows(patched.spaces.get(name)!)).toEqual(denseRows(sp));
  });

  it('downloads the changed files whole when the delta is damaged or the old files are gone, and loads all the same', async () => {
    const broken = path.join(work, 'load-v2-broken');
    await cp(after, broken, { recursive: true });
    const m = await manifestOf(broken);
    const bytes = new Uint8Array(await readFile(path.join(broken, m.changes!.delta!.file)));
    bytes[bytes.length - 1] ^= 0xff;
    await writeFile(path.join(broken, m.changes!.delta!.file), bytes);
    const cache = memoryCache();
    await loadSnapshot(fsReader(before), { cache });
    const read = recording(fsReader(broken));
    const warn = console.warn;
    const warnings: string[] = [];
    console.warn = (w: string) => void warnings.push(w);
    try {
      const s = await loadSnapshot(read, { cache });
      expect(s.items.map((t) => t.id)).toEqual([...all.slice(51, 80), all[80]].map((l) => l.id));
    } finally {
      console.warn = warn;
    }
    expect(warnings.join()).toMatch(/does not match its SHA-256 in the manifest.*downloading the changed files whole/);
    expect(read.paths).toContain('items.json');
    // No previous version on the device: no delta download at all.
    const fresh = recording(fsReader(after));
    await loadSnapshot(fresh, { cache: memoryCache() });
    expect(fresh.paths).not.toContain(m.changes!.delta!.file);
  });
});

describe('the demo snapshot (no per-title hashes yet) updated', () => {
  it('finds the changes by what it built, re-encodes covers with its style encoder, and places them on the style map', async () => {
    const before = path.join(work, 'demo');
    await cp(demoSnapshotDir, before, { recursive: true });
    const src = path.join(work, 'demo-src');
    await mkdir(src);
    await cp(path.join(webtoonsDir, 'thumbnails'), path.join(src, 'thumbnails'), { recursive: true });
    // Two titles gone; a new title with the cover of one of them; one genre edit.
    const lines = all.slice(2).map((l) => ({ ...l }));
    lines[10].genres = [...lines[10].genres, '스릴러'];
    lines.push({ ...all[0], id: 'new-1', title: '새 웹툰' });
    await writeSource(src, lines);
    const after = path.join(work, 'demo-2');
    const r = await updateSnapshot({ snapshot: before, source: src, out: after });
    expect(r.added).toEqual(['new-1']);
    expect(r.changed).toEqual([lines[10].id]);
    expect(r.removed).toEqual([all[0].id, all[1].id]);
    expect(r.encoded).toMatchObject({ style: 2, gram: 2 });
    const s0 = await loadSnapshot(fsReader(before));
    const s1 = await loadSnapshot(fsReader(after));
    // Same cover, same encoder weights: the new title's style row is the removed one's.
    expect(row(s1, 'style', 'new-1')).toEqual(row(s0, 'style', all[0].id));
    for (const t of s1.items.slice(0, 50)) if (t.id !== 'new-1') expect(row(s1, 'gram', t.id)).toEqual(row(s0, 'gram', t.id));
    const map0 = decodeStyleMap(s0.blobs.get('style/map.f32')!, s0.items.length);
    const map1 = decodeStyleMap(s1.blobs.get('style/map.f32')!, s1.items.length);
    expect(map1[s1.indexOf.get(lines[20].id)!]).toEqual(map0[s0.indexOf.get(lines[20].id)!]);
    const placed = map1[s1.indexOf.get('new-1')!];
    const xs = map0.map((p) => p.x);
    expect(placed.x).toBeGreaterThanOrEqual(Math.min(...xs));
    expect(placed.x).toBeLessThanOrEqual(Math.max(...xs));
    expect(placed.cluster).toBeGreaterThanOrEqual(0);
    expect(s1.manifest.covers?.sprite?.file).toMatch(/^covers64\/_sprite-[0-9a-f]{12}\.webp$/);
    const { delta, rebuilds } = await expectDeltaRebuilds(before, after);
    expect(delta).toBeLessThan(rebuilds / 10);
    expect(Object.keys(s1.manifest.files)).toContain('sources.json');
  }, 120_000);

  it('refuses a source that cannot update it, and leaves it as it was', async () => {
    const before = path.join(work, 'demo');
    const hash = (await manifestOf(before)).contentHash;
    const src = path.join(work, 'bad-src');
    await mkdir(src, { recursive: true });
    await writeFile(path.join(src, 'catalog.jsonl'), '{"id": "1", "title": ""}\n');
    await expect(updateSnapshot({ snapshot: before, source: src, strict: true })).rejects.toBeInstanceOf(DataError);
    expect((await manifestOf(before)).contentHash).toBe(hash);
  });
});
