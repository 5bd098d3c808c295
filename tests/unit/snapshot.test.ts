import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, writeFile, rm, cp, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeSnapshot } from '../../scripts/snapshot.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { loadSnapshot } from '../../src/core/snapshot/load.ts';
import { contentHashOf, sha256Hex, type Manifest } from '../../src/core/snapshot/format.ts';
import { parseCatalogJsonl } from '../../src/core/source.ts';
import { DataError } from '../../src/core/errors.ts';
import { webtoonsDir, demoSnapshotDir } from './helpers/paths.ts';

let work: string;
let good: string;

/** A small real source folder: the first 40 webtoons with their covers. */
async function makeSource(dir: string, n = 40) {
  const lines = (await readFile(path.join(webtoonsDir, 'catalog.jsonl'), 'utf8')).split('\n').filter(Boolean).slice(0, n);
  await mkdir(path.join(dir, 'thumbnails'), { recursive: true });
  for (const l of lines) {
    const cover = JSON.parse(l).cover as string;
    await cp(path.join(webtoonsDir, cover), path.join(dir, cover));
  }
  await writeFile(path.join(dir, 'catalog.jsonl'), lines.join('\n') + '\n');
}

/** Replaces one file of a snapshot and re-signs the manifest, so only the intended fault remains. */
async function rewrite(dir: string, file: string, bytes: Uint8Array, resign = true) {
  await writeFile(path.join(dir, file), bytes);
  if (!resign) return;
  const m = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
  m.files[file] = { bytes: bytes.byteLength, sha256: (await sha256Hex(bytes))! };
  m.contentHash = (await contentHashOf(m.files))!;
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(m));
}

async function editManifest(dir: string, edit: (m: Record<string, any>) => void) {
  const m = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
  edit(m);
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(m));
}

async function freshCopy(name: string) {
  const dir = path.join(work, name);
  await cp(good, dir, { recursive: true });
  return dir;
}

async function loadError(dir: string): Promise<DataError> {
  try {
    await loadSnapshot(fsReader(dir));
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('the snapshot loaded, but it should have been refused');
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'toonpick-snap-'));
  await makeSource(path.join(work, 'src'));
  good = path.join(work, 'good');
  await makeSnapshot({ source: path.join(work, 'src'), out: good, name: 'test' });
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe('snapshot round trip', () => {
  it('build → load gives the same items and vectors', async () => {
    const built = await makeSnapshot({ source: path.join(work, 'src'), out: path.join(work, 'rt'), name: 'rt' });
    const loaded = await loadSnapshot(fsReader(path.join(work, 'rt')));
    expect(loaded.items).toEqual(built.snapshot.items);
    expect(loaded.manifest.itemCount).toBe(40);
    expect([...loaded.spaces.keys()]).toEqual(['genre', 'lexical']);
    for (const [name, s] of built.snapshot.spaces) {
      expect(loaded.spaces.get(name)!.dim).toBe(s.dim);
      expect(Array.from(loaded.spaces.get(name)!.data)).toEqual(Array.from(s.data));
    }
    // Every item keeps the source fields the app shows.
    const source = parseCatalogJsonl(await readFile(path.join(work, 'src', 'catalog.jsonl'), 'utf8'));
    source.forEach((it, i) => {
      expect(loaded.items[i]).toMatchObject({ id: it.id, title: it.title, synopsis: it.synopsis, genres: it.genres, ...(it.author ? { author: it.author } : {}) });
      expect(loaded.items[i].cover).toMatch(/^covers\/.+\.webp$/);
    });
    expect(loaded.blobs.get('spaces/lexical.idf.f32')!.byteLength).toBe(1024 * 4);
  });

  it('writes covers at a uniform width (aspect kept) and a 64×64 square copy', async () => {
    const sharp = (await import('sharp')).default;
    const loaded = await loadSnapshot(fsReader(good));
    const t = loaded.items[0];
    const full = await sharp(path.join(good, t.cover!)).metadata();
    const sq = await sharp(path.join(good, t.coverSquare!)).metadata();
    const orig = await sharp(path.join(webtoonsDir, 'thumbnails', `${t.id}.jpg`)).metadata();
    expect(full.width).toBe(120);
    expect(Math.abs(full.height! / full.width! - orig.height! / orig.width!)).toBeLessThan(0.02);
    expect([sq.width, sq.height]).toEqual([64, 64]);
  });

  it('the demo snapshot in public/ loads, is the whole webtoon catalog and stays under 15 MB', async () => {
    const demo = await loadSnapshot(fsReader(demoSnapshotDir));
    expect(demo.manifest.itemCount).toBe(969);
    expect(demo.items.filter((t) => t.cover).length).toBe(969);
    const { folderBytes } = await import('../../scripts/lib/node-io.ts');
    expect(await folderBytes(demoSnapshotDir)).toBeLessThan(15 * 1024 * 1024);
  });

  it('popularity comes from the signals the source has, in [0, 1]', async () => {
    const loaded = await loadSnapshot(fsReader(good));
    expect(loaded.manifest.popularity.signals).toContain('rating');
    const liked = loaded.items.filter((t) => t.likes !== undefined).sort((a, b) => a.likes! - b.likes!);
    expect(liked.length).toBeGreaterThan(3);
    for (const t of loaded.items) expect(t.popularity).toBeGreaterThanOrEqual(0);
  });

  it('a failed build leaves the previous snapshot in place', async () => {
    const out = await freshCopy('keep');
    const before = await readFile(path.join(out, 'manifest.json'), 'utf8');
    const bad = path.join(work, 'badsrc');
    await mkdir(bad, { recursive: true });
    await writeFile(path.join(bad, 'catalog.jsonl'), '{"id":"1","title":"ok"}\n{"id":"2"}\n');
    await expect(makeSnapshot({ source: bad, out })).rejects.toThrow(/item 2, field "title"/);
    expect(await readFile(path.join(out, 'manifest.json'), 'utf8')).toBe(before);
  });
});

describe('snapshot validation names the file, item and field', () => {
  it('refuses a manifest that is not JSON', async () => {
    const dir = await freshCopy('nonjson');
    await writeFile(path.join(dir, 'manifest.json'), '<!doctype html><html>');
    const e = await loadError(dir);
    expect(e.file).toBe('manifest.json');
    expect(e.message).toMatch(/not valid JSON/);
  });

  it('refuses an unknown format version', async () => {
    const dir = await freshCopy('version');
    await editManifest(dir, (m) => (m.version = 2));
    const e = await loadError(dir);
    expect(e.field).toBe('version');
    expect(e.message).toMatch(/unknown format version 2/);
  });

  it('refuses a wrong dimension', async () => {
    const dir = await freshCopy('dim');
    await editManifest(dir, (m) => (m.spaces[0].dim = 12));
    const e = await loadError(dir);
    expect(e.file).toBe('spaces/genre.f32');
    expect(e.message).toMatch(/wrong dimension/);
  });

  it('refuses a truncated binary', async () => {
    const dir = await freshCopy('trunc');
    const bytes = await readFile(path.join(dir, 'spaces/lexical.f32'));
    await rewrite(dir, 'spaces/lexical.f32', bytes.subarray(0, bytes.length / 2), false);
    const e = await loadError(dir);
    expect(e.file).toBe('spaces/lexical.f32');
    expect(e.message).toMatch(/truncated/);
  });

  it('refuses a file whose bytes were altered', async () => {
    const dir = await freshCopy('tamper');
    const bytes = new Uint8Array(await readFile(path.join(dir, 'spaces/genre.f32')));
    bytes[7] ^= 0xff;
    await rewrite(dir, 'spaces/genre.f32', bytes, false);
    const e = await loadError(dir);
    expect(e.message).toMatch(/SHA-256/);
  });

  it('refuses NaN in a space, naming the item', async () => {
    const dir = await freshCopy('nan');
    const snap = await loadSnapshot(fsReader(dir));
    const data = new Float32Array(snap.spaces.get('genre')!.data);
    const dim = snap.spaces.get('genre')!.dim;
    data[5 * dim + 1] = NaN;
    await rewrite(dir, 'spaces/genre.f32', new Uint8Array(data.buffer));
    const e = await loadError(dir);
    expect(e.file).toBe('spaces/genre.f32');
    expect(e.item).toBe(snap.items[5].id);
    expect(e.field).toBe('genre');
  });

  it('refuses an item with a missing field, naming it', async () => {
    const dir = await freshCopy('field');
    const items = JSON.parse(await readFile(path.join(dir, 'items.json'), 'utf8'));
    delete items[3].title;
    await rewrite(dir, 'items.json', new TextEncoder().encode(JSON.stringify(items)));
    const e = await loadError(dir);
    expect(e.file).toBe('items.json');
    expect(e.item).toBe(items[3].id);
    expect(e.field).toBe('title');
  });

  it('refuses a manifest missing a field', async () => {
    const dir = await freshCopy('mfield');
    await editManifest(dir, (m) => delete m.itemCount);
    expect((await loadError(dir)).field).toBe('itemCount');
  });

  it('refuses a missing file', async () => {
    const dir = await freshCopy('missing');
    await rm(path.join(dir, 'items.json'));
    expect((await loadError(dir)).file).toBe('items.json');
  });
});
