/**
 * Rows left on disk (load.ts `rowsOnDisk`): the snapshot worker checks a kept `csr-f16` file as it streams past
 * (encoding.ts CsrF16Check) instead of decoding it whole, and the page reads it straight into WebAssembly memory
 * (math/sparse-scan.ts wasmRowsMemory). The check must pass exactly the files `decodeSpaceRows` passes, and the
 * memory must scan as the rows decoded in place do. (In the browser: tests/browser/platform-scale.test.ts.)
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { CsrF16Check, decodeSpaceRows, encodeSpaceData } from '../../src/core/snapshot/encoding.ts';
import { wasmRowsMemory } from '../../src/core/math/sparse-scan.ts';
import { scanSpace } from '../../src/core/vectors.ts';
import { contentHashOf, sha256Hex, type Space } from '../../src/core/snapshot/format.ts';
import { keptRankingCore, loadSnapshot, type FileCache, type ReadFile } from '../../src/core/snapshot/load.ts';
import { TitleSlices } from '../../src/core/snapshot/titles.ts';
import { DataError } from '../../src/core/errors.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { demoSnapshotDir } from './helpers/paths.ts';

const ctx = { file: 'lexical.csr16', field: 'spaces.lexical', itemOf: String };

/** A csr-f16 file of random sparse rows. */
const sparseFile = fc.integer({ min: 1, max: 24 }).chain((dim) =>
  fc.record({
    dim: fc.constant(dim),
    rows: fc.array(fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.float({ min: -4, max: 4, noNaN: true })), { minLength: dim, maxLength: dim }), { maxLength: 20 }),
  }),
);

/** The file fed in pieces cut at multiples of 16 bytes. */
function check(bytes: Uint8Array, rows: number, dim: number, cuts: number[]): CsrF16Check {
  const c = new CsrF16Check(bytes.length, rows, dim);
  const ends = [...new Set(cuts.map((x) => x * 16))].filter((e) => e > 0 && e < bytes.length).sort((a, b) => a - b);
  [0, ...ends].forEach((start, i) => c.feed(bytes.subarray(start, [...ends, bytes.length][i]), start));
  return c;
}

const decodes = (bytes: Uint8Array, rows: number, dim: number) => {
  try {
    decodeSpaceRows(bytes, rows, dim, 'csr-f16', ctx, true);
    return true;
  } catch {
    return false;
  }
};

describe('checking csr-f16 rows as they stream past (CsrF16Check)', () => {
  it('passes every file the loader decodes, with its non-zeros', () => {
    fc.assert(
      fc.property(sparseFile, fc.array(fc.nat({ max: 40 }), { maxLength: 6 }), ({ dim, rows }, cuts) => {
        const bytes = encodeSpaceData(Float32Array.from(rows.flat()), rows.length, dim, 'csr-f16');
        const c = check(bytes, rows.length, dim, cuts);
        expect(c.ok).toBe(true);
        expect(c.nonZeros).toBe(new DataView(bytes.buffer).getUint32(4 + rows.length * 4, true));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses exactly the damaged files the loader refuses (any bytes changed, the file cut short or grown)', () => {
    const damage = fc.oneof(
      fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ kind: fc.constant('word' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 0xffff }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('grow' as const), at: fc.integer({ min: 1, max: 8 }) }),
      // Aimed at the rows' structure: a column out of order or repeated, a row offset that goes back or past the end,
      // a value that is infinite or NaN.
      fc.record({ kind: fc.constant('column' as const), at: fc.nat(), value: fc.nat({ max: 30 }) }),
      fc.record({ kind: fc.constant('offset' as const), at: fc.nat(), value: fc.nat({ max: 300 }) }),
      fc.record({ kind: fc.constant('infinite' as const), at: fc.nat(), value: fc.nat({ max: 0x3ff }) }),
    );
    fc.assert(
      fc.property(sparseFile, fc.array(damage, { minLength: 1, maxLength: 3 }), fc.array(fc.nat({ max: 40 }), { maxLength: 6 }), fc.integer({ min: -1, max: 1 }), ({ dim, rows }, damages, cuts, dimShift) => {
        let bytes = encodeSpaceData(Float32Array.from(rows.flat()), rows.length, dim, 'csr-f16');
        const head = 4 + (rows.length + 1) * 4;
        const nnz = new DataView(bytes.buffer).getUint32(head - 4, true);
        for (const d of damages) {
          const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          if (d.kind === 'column') {
            if (nnz > 0 && bytes.length >= head + nnz * 2) view.setUint16(head + (d.at % nnz) * 2, d.value % (dim + 1), true);
          } else if (d.kind === 'infinite') {
            if (nnz > 0 && bytes.length >= head + nnz * 4) view.setUint16(head + nnz * 2 + (d.at % nnz) * 2, 0x7c00 | d.value, true);
          } else if (d.kind === 'offset') {
            if (rows.length > 0 && bytes.length >= head) view.setUint32(4 + (d.at % (rows.length + 1)) * 4, d.value % (nnz + 2), true);
          } else if (d.kind === 'grow') bytes = Uint8Array.from([...bytes, ...new Uint8Array(d.at)]);
          else if (bytes.length < 2) continue;
          else if (d.kind === 'byte') bytes[d.at % bytes.length] ^= d.xor;
          else if (d.kind === 'word') new DataView(bytes.buffer).setUint16((d.at % (bytes.length >> 1)) * 2, d.value, true);
          else bytes = bytes.slice(0, d.at % bytes.length);
        }
        const expectedDim = Math.max(1, dim + dimShift);
        expect(check(bytes, rows.length, expectedDim, cuts).ok).toBe(decodes(bytes, rows.length, expectedDim));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('rows read straight into WebAssembly memory (wasmRowsMemory)', () => {
  it('scan as the rows decoded in place do, from a csr-f16 file copied into its image', () => {
    fc.assert(
      fc.property(sparseFile, ({ dim, rows }) => {
        const bytes = encodeSpaceData(Float32Array.from(rows.flat()), rows.length, dim, 'csr-f16');
        const { csr } = decodeSpaceRows(bytes, rows.length, dim, 'csr-f16', ctx, true);
        const memory = wasmRowsMemory(rows.length, csr!.cols.length, dim)!;
        expect(memory.image.byteLength).toBe(bytes.byteLength);
        memory.image.set(bytes);
        const space: Space = { name: 'lexical', dim, data: new Float32Array(0), csr, normalized: false, encoder: { name: 'test', version: 1 } };
        const q = Float32Array.from({ length: dim }, (_, i) => Math.sin(i + 1));
        expect(scanSpace({ ...space, csr: memory.rows }, q)).toEqual(scanSpace(space, q));
        expect([memory.rows.offsets, memory.rows.cols, memory.rows.values]).toEqual([csr!.offsets, csr!.cols, csr!.values]);
      }),
      { numRuns: 200 },
    );
  });
});

/**
 * A file cache in memory with all a loader can ask of one (the app's, OPFS, runs only in a browser's worker:
 * tests/browser/platform-scale.test.ts), so that the loader's use of it is seen here.
 */
function memoryCache() {
  const files = new Map<string, Uint8Array>();
  const notes = new Map<string, Uint8Array>();
  const cache: FileCache = {
    get: async (e) => files.get(e.sha256)?.slice(),
    put: async (e, bytes) => void files.set(e.sha256, bytes.slice()),
    retain: async () => undefined,
    holds: async (e) => files.get(e.sha256)?.byteLength === e.bytes,
    async scan(e, chunk, visit) {
      const bytes = files.get(e.sha256);
      if (bytes?.byteLength !== e.bytes) return false;
      for (let at = 0; at < bytes.length; at += chunk) await visit(bytes.subarray(at, at + chunk), at);
      return true;
    },
    note: async (e, kind) => notes.get(`${e.sha256}.${kind}`)?.slice(),
    setNote: async (e, kind, value) => void notes.set(`${e.sha256}.${kind}`, value.slice()),
  };
  const text = (key: string) => new TextDecoder().decode(notes.get(key));
  return { files, notes, text, cache };
}

/** The demo snapshot with its lexical rows edited, the manifest signed again (sizes, SHA-256s, content hash). */
async function withLexical(edit: (bytes: Uint8Array, head: number) => void): Promise<{ read: ReadFile; file: string }> {
  const read = fsReader(demoSnapshotDir);
  const manifest = JSON.parse(new TextDecoder().decode(await read('manifest.json')));
  const file: string = manifest.spaces.find((s: { name: string }) => s.name === 'lexical').file;
  const bytes = (await read(file)).slice();
  edit(bytes, 4 + (manifest.itemCount + 1) * 4);
  manifest.files[file] = { bytes: bytes.byteLength, sha256: await sha256Hex(bytes) };
  manifest.contentHash = await contentHashOf(manifest.files);
  const text = new TextEncoder().encode(JSON.stringify(manifest));
  return { file, read: async (p, onBytes, expected) => (p === 'manifest.json' ? text.slice() : p === file ? bytes.slice() : read(p, onBytes, expected)) };
}

describe('rows left on disk are checked once per file kept (FileCache.note)', () => {
  // Every space kept sparse, so that the demo's lexical rows are left on disk as a large catalog's are.
  const options = (cache: FileCache) => ({ rowsOnDisk: true, denseLimitBytes: 0, cache });
  afterEach(() => vi.restoreAllMocks());

  it('notes the check of downloaded rows; the next load checks only the checksum (the cache), not the rows again', async () => {
    const { cache, notes } = memoryCache();
    const feed = vi.spyOn(CsrF16Check.prototype, 'feed');
    const first = await loadSnapshot(fsReader(demoSnapshotDir), options(cache));
    const rows = first.rowsOnDisk!.find((r) => r.space === 'lexical')!;
    expect(feed).toHaveBeenCalled();
    expect([...notes.values()].map((v) => new TextDecoder().decode(v))).toEqual([`csr-f16 rows=${first.manifest.itemCount} dim=1024 nnz=${rows.nnz}`]);
    feed.mockClear();
    const pieces: number[] = [];
    const again = await loadSnapshot(fsReader(demoSnapshotDir), { ...options(cache), onRowsPiece: (_r, piece) => void (piece && pieces.push(piece.byteLength)) });
    expect(feed).not.toHaveBeenCalled();
    expect(again.rowsOnDisk!.find((r) => r.space === 'lexical')).toEqual({ ...rows, sent: true });
    expect(pieces.reduce((a, b) => a + b, 0)).toBe(rows.bytes); // every piece went to the page all the same
  });

  it('tells of downloaded rows once their download is in (the page makes room), and sends no piece of them', async () => {
    const { cache } = memoryCache();
    const log: string[] = [];
    const read: ReadFile = async (p, onBytes, expected) => {
      const bytes = await fsReader(demoSnapshotDir)(p, onBytes, expected);
      log.push(`read ${p}`);
      return bytes;
    };
    const snap = await loadSnapshot(read, { ...options(cache), onRowsPiece: (r, piece) => void log.push(piece ? 'piece' : `heard ${r.space} ${r.nnz}`) });
    const rows = snap.rowsOnDisk!.find((r) => r.space === 'lexical')!;
    expect(rows.sent).toBeUndefined();
    expect(log.filter((l) => l.startsWith('heard') || l === 'piece')).toEqual([`heard lexical ${rows.nnz}`]);
    const file = snap.manifest.spaces.find((s) => s.name === 'lexical')!.file;
    expect(log.indexOf(`heard lexical ${rows.nnz}`)).toBeGreaterThan(log.indexOf(`read ${file}`));
  });

  it('sends downloaded rows whole once checked where the page writes pieces into memory it shares (an answer of true)', async () => {
    const { cache } = memoryCache();
    const log: string[] = [];
    const sent: Uint8Array[] = [];
    const snap = await loadSnapshot(fsReader(demoSnapshotDir), {
      ...options(cache),
      onRowsPiece: (r, piece, at) => {
        log.push(piece ? `piece ${at} ${piece.byteLength}` : `heard ${r.space}`);
        if (piece) sent.push(piece.slice());
        return !piece;
      },
    });
    const rows = snap.rowsOnDisk!.find((r) => r.space === 'lexical')!;
    expect(rows.sent).toBe(true);
    expect(log).toEqual(['heard lexical', `piece 0 ${rows.bytes}`]);
    const file = snap.manifest.spaces.find((s) => s.name === 'lexical')!.file;
    expect(sent[0]).toEqual(await fsReader(demoSnapshotDir)(file));
    // Rows that fail their check are not sent: their space comes decoded, or the load refuses them.
    const { read } = await withLexical((bytes, head) => new DataView(bytes.buffer).setUint16(head, 60000, true));
    const bad: string[] = [];
    await expect(loadSnapshot(read, { ...options(memoryCache().cache), onRowsPiece: (_r, piece) => (bad.push(piece ? 'piece' : 'heard'), !piece) })).rejects.toThrow(/column 60000/);
    expect(bad).toEqual(['heard']);
  });

  it('checks again where the note is not for these rows (another count or dimension, or none), and notes it anew', async () => {
    const { cache, notes, text } = memoryCache();
    await loadSnapshot(fsReader(demoSnapshotDir), options(cache));
    const key = [...notes.keys()][0];
    const right = text(key);
    const feed = vi.spyOn(CsrF16Check.prototype, 'feed');
    for (const wrong of [right.replace('dim=1024', 'dim=512'), right.replace(/rows=\d+/, 'rows=1'), undefined]) {
      if (wrong) notes.set(key, new TextEncoder().encode(wrong));
      else notes.clear();
      feed.mockClear();
      const again = await loadSnapshot(fsReader(demoSnapshotDir), options(cache));
      expect(feed).toHaveBeenCalled();
      expect(again.rowsOnDisk!.some((r) => r.space === 'lexical')).toBe(true);
      expect(text(key)).toBe(right);
    }
  });

  it('never notes rows that fail their check: a load refuses them every time, naming the file', async () => {
    // A column past the space's 1024 dimensions, in a file whose SHA-256 the manifest was signed with.
    const { read, file } = await withLexical((bytes, head) => new DataView(bytes.buffer).setUint16(head, 0xffff, true));
    const { cache, notes, files } = memoryCache();
    for (let visit = 0; visit < 2; visit++) {
      await expect(loadSnapshot(read, options(cache))).rejects.toThrow(new RegExp(`${file.replace('.', '\\.')}.*column`));
      expect(notes.size).toBe(0);
    }
    expect(files.size).toBeGreaterThan(0); // kept (it is the file the manifest names), but never taken for checked rows
  });
});

describe("the titles' ranking core kept beside items.json (RANKING_CORE)", () => {
  afterEach(() => vi.restoreAllMocks());

  it('is read from the titles once, then from the note; a damaged note is read from the titles again', async () => {
    const { cache, notes } = memoryCache();
    const read = fsReader(demoSnapshotDir);
    const manifest = JSON.parse(new TextDecoder().decode(await read('manifest.json')));
    const titles = TitleSlices.of(await read(manifest.items), manifest)!;
    const fromTitles = vi.spyOn(TitleSlices.prototype, 'core');
    const first = await keptRankingCore(titles, manifest, cache);
    expect(fromTitles).toHaveBeenCalledTimes(1);
    expect(notes.has(`${manifest.files[manifest.items].sha256}.ranking-core`)).toBe(true);
    expect(await keptRankingCore(titles, manifest, cache)).toEqual(first);
    expect(fromTitles).toHaveBeenCalledTimes(1);
    // A note cut short (the file cache's own checksum aside): not taken.
    const key = `${manifest.files[manifest.items].sha256}.ranking-core`;
    notes.set(key, notes.get(key)!.subarray(0, notes.get(key)!.length >> 1));
    expect(await keptRankingCore(titles, manifest, cache)).toEqual(first);
    expect(fromTitles).toHaveBeenCalledTimes(2);
  });
});

describe('spaces the cache holds are decoded as they are read, while kept rows stream past', () => {
  const options = (cache: FileCache) => ({ rowsOnDisk: true, denseLimitBytes: 0, cache });

  it('gives the same spaces as a load that downloaded them', async () => {
    const { cache } = memoryCache();
    const first = await loadSnapshot(fsReader(demoSnapshotDir), options(cache));
    const again = await loadSnapshot(fsReader(demoSnapshotDir), options(cache));
    expect(again.rowsOnDisk!.map((r) => r.space)).toEqual(['lexical']);
    expect([...again.spaces.keys()]).toEqual([...first.spaces.keys()]);
    for (const [name, space] of first.spaces) {
      expect(again.spaces.get(name)!.data, name).toEqual(space.data);
      expect(again.spaces.get(name)!.csr, name).toEqual(space.csr);
    }
  });

  it('names the title of a bad row there too, as a download does', async () => {
    // The style rows' first scale is NaN, in a manifest signed again: refused on the first load (downloaded), and on
    // the next, whose files are kept (the lexical rows stream past while the style file is decoded).
    const read = fsReader(demoSnapshotDir);
    const manifest = JSON.parse(new TextDecoder().decode(await read('manifest.json')));
    const file: string = manifest.spaces.find((s: { name: string }) => s.name === 'style').file;
    const style = (await read(file)).slice();
    new DataView(style.buffer).setFloat32(0, NaN, true);
    manifest.files[file] = { bytes: style.byteLength, sha256: await sha256Hex(style) };
    manifest.contentHash = await contentHashOf(manifest.files);
    const text = new TextEncoder().encode(JSON.stringify(manifest));
    const firstId = JSON.parse(new TextDecoder().decode(await read(manifest.items)))[0].id as string;
    const edited: ReadFile = async (p, onBytes, expected) => (p === 'manifest.json' ? text.slice() : p === file ? style.slice() : read(p, onBytes, expected));
    const { cache } = memoryCache();
    const scan = vi.spyOn(cache, 'scan');
    for (let visit = 0; visit < 2; visit++) {
      const error = await loadSnapshot(edited, options(cache)).then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(DataError);
      expect((error as Error).message).toContain(file);
      expect((error as Error).message).toContain(firstId);
    }
    expect(scan).toHaveBeenCalledTimes(1); // the second load's rows streamed past
  });
});
