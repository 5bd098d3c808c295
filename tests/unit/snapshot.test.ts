import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, writeFile, rm, cp, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeSnapshot, ratingRangeArg } from '../../scripts/snapshot.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { loadSnapshot, synopsisPages } from '../../src/core/snapshot/load.ts';
import { contentHashOf, sha256Hex, type Manifest } from '../../src/core/snapshot/format.ts';
import { parseCatalogJsonl } from '../../src/core/source.ts';
import { DataError } from '../../src/core/errors.ts';
import { webtoonsDir, demoSnapshotDir } from './helpers/paths.ts';
import { expectStoredRows } from './helpers/stored.ts';
import { repageSynopses } from './helpers/repage.ts';

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
      const got = loaded.spaces.get(name)!;
      expect(got.dim).toBe(s.dim);
      // Stored as int8 / sparse int8 (format version 2): every row keeps its direction (cosine to the built row ≥ 0.999).
      for (let i = 0; i < 40; i++) {
        const a = got.data.subarray(i * s.dim, (i + 1) * s.dim);
        const b = s.data.subarray(i * s.dim, (i + 1) * s.dim);
        let [ab, aa, bb] = [0, 0, 0];
        for (let j = 0; j < s.dim; j++) [ab, aa, bb] = [ab + a[j] * b[j], aa + a[j] * a[j], bb + b[j] * b[j]];
        if (bb > 0) expect(ab / Math.sqrt(aa * bb)).toBeGreaterThan(0.999);
        else expect(aa).toBe(0);
      }
    }
    expect(loaded.manifest.version).toBe(2);
    expect(loaded.manifest.spaces.map((x) => [x.name, x.dtype, x.file])).toEqual([
      ['genre', 'csr-f16', 'spaces/genre.csr16'],
      ['lexical', 'csr-f16', 'spaces/lexical.csr16'],
    ]);
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
    // Every square cover in one sprite, in item order: ⌈√n⌉ per row.
    const sprite = loaded.manifest.covers!.sprite!;
    const n = loaded.items.length;
    expect(sprite).toEqual({ file: expect.stringMatching(/^covers64\/_sprite-[0-9a-f]{12}\.webp$/), columns: Math.ceil(Math.sqrt(n)), size: 64 });
    const sheet = await sharp(path.join(good, sprite.file)).metadata();
    expect([sheet.width, sheet.height]).toEqual([sprite.columns * 64, Math.ceil(n / sprite.columns) * 64]);
    // Cell 0 holds the first title's square cover (mean colour within lossy re-encoding).
    const mean = async (img: import('sharp').Sharp) => (await img.stats()).channels.slice(0, 3).map((c) => c.mean);
    // (stats() reads its input, not the pipeline: the cell is cut out first.)
    const cell = await mean(sharp(await sharp(path.join(good, sprite.file)).extract({ left: 0, top: 0, width: 64, height: 64 }).png().toBuffer()));
    const own = await mean(sharp(path.join(good, t.coverSquare!)));
    cell.forEach((v, i) => expect(Math.abs(v - own[i])).toBeLessThan(6));
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
    await expect(makeSnapshot({ source: bad, out, strict: true })).rejects.toThrow(/item 2, field "title": line 2: is missing/);
    expect(await readFile(path.join(out, 'manifest.json'), 'utf8')).toBe(before);
  });

  it('leaves bad source lines out and reports them with line numbers; --strict refuses them', async () => {
    const src = path.join(work, 'badlines');
    await mkdir(src, { recursive: true });
    const good = (id: string, genres: string[]) => JSON.stringify({ id, title: `Title ${id}`, synopsis: `a story about ${id}`, genres });
    await writeFile(
      path.join(src, 'catalog.jsonl'),
      [good('a', ['drama']), '{"id":"b","title":', good('c', ['action']), JSON.stringify({ id: 'd', title: 'D', rating: 'high' }), good('a', ['drama']), good('e', ['drama', 'action'])].join('\n'),
    );
    await writeFile(
      path.join(src, 'interactions.csv'),
      ['user,item,rating,timestamp', 'u1,a,5,100', 'u1,zz,5,101', 'u1,c,5,abc', 'u1,a,5,100', 'u2,c,4,102', 'u2,e,x,103', 'u2,a,1'].join('\n'),
    );
    const out = path.join(work, 'badlines-out');
    const r = await makeSnapshot({ source: src, out });
    expect(r.snapshot.items.map((t) => t.id)).toEqual(['a', 'c', 'e']);
    expect(r.skipped.catalog.map((l) => l.line)).toEqual([2, 4, 5]);
    expect(r.skipped.catalog[1].message).toMatch(/item d, field "rating": line 4: must be a finite number/);
    expect(r.skipped.catalog[2].message).toMatch(/line 5 repeats id/);
    expect(r.skipped.interactions.map((l) => l.line)).toEqual([3, 4, 5, 7, 8]);
    expect(r.skipped.interactions.map((l) => l.message).join('\n')).toMatch(/line 3 names an item not in the catalog[^]*line 4: timestamp is not a number[^]*line 5 repeats an earlier row[^]*line 7: rating is not a number[^]*line 8 has 3 columns/);
    expect(r.snapshot.manifest.community?.interactions).toBe(2);
    await expect(makeSnapshot({ source: src, out: path.join(work, 'badlines-strict'), strict: true })).rejects.toThrow(/catalog\.jsonl: line 2 is not JSON/);
    // A declared rating range (--rating-range 1,4) makes u1's 5 a bad line too.
    const ranged = await makeSnapshot({ source: src, out, ratingRange: [1, 4] });
    expect(ranged.skipped.interactions.map((l) => l.line)).toEqual([2, 3, 4, 5, 7, 8]);
    expect(ranged.skipped.interactions[0].message).toMatch(/line 2: rating 5 is outside the declared range 1–4/);
    expect(ratingRangeArg('1,5')).toEqual([1, 5]);
    expect(() => ratingRangeArg('5,1')).toThrow(/--rating-range: must be "min,max"/);
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
    await editManifest(dir, (m) => (m.version = 3));
    const e = await loadError(dir);
    expect(e.field).toBe('version');
    expect(e.message).toMatch(/unknown format version 3 \(this app reads versions 1 and 2\)/);
  });

  it('refuses a wrong dimension', async () => {
    const dir = await freshCopy('dim');
    await editManifest(dir, (m) => (m.spaces[0].dim = 12));
    const e = await loadError(dir);
    expect(e.file).toBe('spaces/genre.csr16');
    expect(e.message).toMatch(/wrong dimension/);
  });

  it('refuses a truncated binary', async () => {
    const dir = await freshCopy('trunc');
    const bytes = await readFile(path.join(dir, 'spaces/lexical.csr16'));
    await rewrite(dir, 'spaces/lexical.csr16', bytes.subarray(0, bytes.length / 2), false);
    const e = await loadError(dir);
    expect(e.file).toBe('spaces/lexical.csr16');
    expect(e.message).toMatch(/truncated/);
  });

  it('refuses a file whose bytes were altered', async () => {
    const dir = await freshCopy('tamper');
    const bytes = new Uint8Array(await readFile(path.join(dir, 'spaces/genre.csr16')));
    bytes[7] ^= 0xff;
    await rewrite(dir, 'spaces/genre.csr16', bytes, false);
    const e = await loadError(dir);
    expect(e.message).toMatch(/SHA-256/);
  });

  it('refuses NaN in a space, naming the item', async () => {
    const dir = await freshCopy('nan');
    const snap = await loadSnapshot(fsReader(dir));
    const bytes = new Uint8Array(await readFile(path.join(dir, 'spaces/genre.csr16')));
    // csr-f16: the dim, row offsets (n + 1 uint32), a uint16 column per non-zero, then a half float per non-zero.
    const view = new DataView(bytes.buffer, bytes.byteOffset);
    const n = snap.items.length;
    const nnz = view.getUint32(4 + n * 4, true);
    const first = view.getUint32(4 + 5 * 4, true);
    view.setUint16(4 + (n + 1) * 4 + nnz * 2 + first * 2, 0x7e00, true); // a half-float NaN in row 5
    await rewrite(dir, 'spaces/genre.csr16', bytes);
    const e = await loadError(dir);
    expect(e.file).toBe('spaces/genre.csr16');
    expect(e.item).toBe(snap.items[5].id);
    expect(e.field).toBe('spaces.genre');
    expect(e.message).toMatch(/non-finite value \(NaN\)/);
    // With the titles left to be parsed a slice at a time (the snapshot worker), the same item is named.
    const sliced = await loadSnapshot(fsReader(dir), { titlesBySlice: true, synopses: 'lazy' }).catch((x: unknown) => x);
    expect(sliced).toBeInstanceOf(DataError);
    expect([(sliced as DataError).item, (sliced as DataError).message]).toEqual([e.item, e.message]);
  });

  it('refuses int8 rows with a NaN scale, naming the item', async () => {
    const { encodeSpaceData, decodeSpaceData } = await import('../../src/core/snapshot/encoding.ts');
    const bytes = encodeSpaceData(Float32Array.from([0.6, 0.8, 1, 0, 0, 1]), 3, 2, 'int8');
    const rows = [0.6, 0.8, 1, 0, 0, 1];
    expectStoredRows(decodeSpaceData(bytes, 3, 2, 'int8', { file: 'f', field: 'spaces.x', itemOf: (i) => `t${i}` }), rows, 2);
    new DataView(bytes.buffer).setFloat32(4, NaN, true);
    expect(() => decodeSpaceData(bytes, 3, 2, 'int8', { file: 'f', field: 'spaces.x', itemOf: (i) => `t${i}` })).toThrow(/f, item t1, field "spaces.x": has an invalid row scale \(NaN\)/);
  });

  it('refuses sparse rows whose columns leave the space, do not ascend, or whose offsets decrease', async () => {
    const snap = await loadSnapshot(fsReader(good));
    const original = new Uint8Array(await readFile(path.join(good, 'spaces/lexical.csr16')));
    const n = snap.items.length;
    const colsAt = 4 + (n + 1) * 4;
    const offsets = new DataView(original.buffer, original.byteOffset);
    const row = 3;
    const first = offsets.getUint32(4 + row * 4, true);
    const cases: Array<[string, (v: DataView) => void, RegExp]> = [
      ['column', (v) => v.setUint16(colsAt + first * 2, 4000, true), /names column 4000, but the space has dim 1024/],
      ['order', (v) => v.setUint16(colsAt + (first + 1) * 2, v.getUint16(colsAt + first * 2, true), true), /columns must ascend within a row/],
      ['offsets', (v) => v.setUint32(4 + (row + 1) * 4, first - 1, true), /row offsets must not decrease/],
    ];
    for (const [name, edit, message] of cases) {
      const dir = await freshCopy(`csr-${name}`);
      const bytes = original.slice();
      edit(new DataView(bytes.buffer));
      await rewrite(dir, 'spaces/lexical.csr16', bytes);
      const e = await loadError(dir);
      expect(e.file).toBe('spaces/lexical.csr16');
      expect(e.field).toBe('spaces.lexical');
      expect(e.message).toMatch(message);
      expect(e.item).toBe(snap.items[row].id);
    }
  });

  it('reads a version-1 snapshot (every space float32), and writing it again migrates it to version 2', async () => {
    const dir = await freshCopy('v1');
    const v2 = await loadSnapshot(fsReader(dir));
    // Rewrite the copy as version 1: float32 files, version 1 manifest.
    await editManifest(dir, (m) => {
      m.version = 1;
      for (const sp of m.spaces) {
        delete m.files[sp.file];
        sp.dtype = 'float32';
        sp.file = `spaces/${sp.name}.f32`;
      }
    });
    for (const [name, sp] of v2.spaces) await rewrite(dir, `spaces/${name}.f32`, new Uint8Array(sp.data.buffer.slice(0)));
    const v1 = await loadSnapshot(fsReader(dir));
    expect(v1.manifest.version).toBe(1);
    for (const [name, sp] of v2.spaces) expect(Array.from(v1.spaces.get(name)!.data)).toEqual(Array.from(sp.data));
    // A float32 space in a version-1 manifest only: version 1 knows no other dtype.
    const bad = await freshCopy('v1-int8');
    await editManifest(bad, (m) => (m.version = 1));
    expect((await loadError(bad)).message).toMatch(/unsupported dtype "csr-f16" \(version 1 reads float32\)/);
    // Migration: any writer (here the in-place one the CLIs use) writes version 2 and drops the old files.
    const { writeSnapshotInPlace } = await import('../../scripts/lib/text-model.ts');
    await writeSnapshotInPlace(dir, v1);
    const migrated = await loadSnapshot(fsReader(dir));
    expect(migrated.manifest.version).toBe(2);
    expect(migrated.manifest.spaces.map((x) => x.file)).toEqual(['spaces/genre.csr16', 'spaces/lexical.csr16']);
    await expect(readFile(path.join(dir, 'spaces/genre.f32'))).rejects.toThrow(/ENOENT/);
    for (const [name, sp] of v2.spaces) {
      const got = migrated.spaces.get(name)!.data;
      expect(Array.from(got)).toEqual(Array.from(sp.data)); // the stored values are read and written back exactly
    }
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

describe('synopsis pages (manifest.details)', () => {
  /** A copy of the built snapshot with its synopses in pages of `size`. */
  async function paged(name: string, size: number) {
    const dir = await freshCopy(name);
    return { dir, all: await repageSynopses(dir, size) };
  }

  /** fsReader that records what was read. */
  function recording(dir: string) {
    const paths: string[] = [];
    const read = fsReader(dir);
    return { paths, read: ((p: string) => (paths.push(p), read(p))) as ReturnType<typeof fsReader> };
  }

  it('keeps synopses out of items.json; Node tools read them all, the same as the source', async () => {
    const m = JSON.parse(await readFile(path.join(good, 'manifest.json'), 'utf8')) as Manifest;
    expect(m.details).toEqual({ pageSize: 1000, pages: ['details/synopses-0.json'] });
    const core = JSON.parse(await readFile(path.join(good, 'items.json'), 'utf8')) as Array<Record<string, unknown>>;
    expect(core.every((t) => !('synopsis' in t))).toBe(true);
    const snap = await loadSnapshot(fsReader(good));
    const source = parseCatalogJsonl(await readFile(path.join(work, 'src', 'catalog.jsonl'), 'utf8'));
    expect(snap.items.map((t) => t.synopsis)).toEqual(source.map((t) => t.synopsis));
  });

  it('a lazy load reads no page; synopsisPages reads only the pages of the rows asked for, each once', async () => {
    const { dir, all } = await paged('lazy', 16);
    const first = recording(dir);
    const snap = await loadSnapshot(first.read, { synopses: 'lazy' });
    expect(first.paths.some((p) => p.startsWith('details/'))).toBe(false);
    expect(snap.items.every((t) => t.synopsis === undefined)).toBe(true);
    const later = recording(dir);
    const pages = synopsisPages(snap.manifest, snap.items, later.read);
    await Promise.all([pages.load([20]), pages.load([17, 31])]);
    expect(later.paths).toEqual(['details/synopses-1.json']);
    expect(snap.items.map((t) => t.synopsis)).toEqual(all.map((s, i) => (i >= 16 && i < 32 ? s : undefined)));
    await pages.load();
    expect(later.paths.sort()).toEqual(['details/synopses-0.json', 'details/synopses-1.json', 'details/synopses-2.json']);
    expect(snap.items.map((t) => t.synopsis)).toEqual(all);
    // The widget's profile never reads them.
    const widget = recording(dir);
    await loadSnapshot(widget.read, { profile: 'ranking' });
    expect(widget.paths.some((p) => p.startsWith('details/'))).toBe(false);
  });

  it('refuses a page with the wrong count, a non-string, an altered page, or a manifest with too few pages', async () => {
    const { dir } = await paged('bad-pages', 16);
    await rewrite(dir, 'details/synopses-2.json', new TextEncoder().encode(JSON.stringify(['only one'])));
    let e = await loadError(dir);
    expect([e.file, e.field]).toEqual(['details/synopses-2.json', 'details']);
    expect(e.message).toMatch(/has 1 synopses, but rows 32–39 need 8/);
    const items = JSON.parse(await readFile(path.join(dir, 'items.json'), 'utf8'));
    await rewrite(dir, 'details/synopses-2.json', new TextEncoder().encode(JSON.stringify([1, 'a', 'b', 'c', 'd', 'e', 'f', 'g'])));
    e = await loadError(dir);
    expect([e.file, e.item, e.field]).toEqual(['details/synopses-2.json', items[32].id, 'synopsis']);
    // An altered page, loaded lazily: the page's own DataError, and the next call tries again.
    await rewrite(dir, 'details/synopses-2.json', new TextEncoder().encode('["x"]'), false);
    const snap = await loadSnapshot(fsReader(dir), { synopses: 'lazy' });
    const pages = synopsisPages(snap.manifest, snap.items, fsReader(dir));
    await expect(pages.load([35])).rejects.toThrow(/details\/synopses-2.json/);
    await expect(pages.load([0])).resolves.toBeUndefined();
    await editManifest(dir, (m) => m.details.pages.pop());
    e = await loadError(dir);
    expect([e.file, e.field]).toEqual(['manifest.json', 'details.pages']);
  });

  it('still reads items.json with synopses and no pages (snapshots written before), and refuses one missing a synopsis', async () => {
    const dir = await freshCopy('inline');
    const snap = await loadSnapshot(fsReader(dir));
    await rewrite(dir, 'items.json', new TextEncoder().encode(JSON.stringify(snap.items)));
    await editManifest(dir, (m) => {
      delete m.details;
      delete m.files['details/synopses-0.json'];
    });
    const m = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
    m.contentHash = (await contentHashOf(m.files))!;
    await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(m));
    expect((await loadSnapshot(fsReader(dir))).items.map((t) => t.synopsis)).toEqual(snap.items.map((t) => t.synopsis));
    const items = snap.items.map((t) => ({ ...t }));
    delete items[5].synopsis;
    await rewrite(dir, 'items.json', new TextEncoder().encode(JSON.stringify(items)));
    const e = await loadError(dir);
    expect([e.file, e.item, e.field]).toEqual(['items.json', items[5].id, 'synopsis']);
  });

  it('refuses to write a snapshot whose synopses were not loaded', async () => {
    const snap = await loadSnapshot(fsReader(good), { synopses: 'lazy' });
    const { serializeSnapshot } = await import('../../src/core/snapshot/build.ts');
    await expect(serializeSnapshot(snap)).rejects.toThrow(/synopsis of .* was not loaded/);
  });
});
