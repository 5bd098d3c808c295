/**
 * How a space's rows are stored in its file (snapshot format version 2; docs/snapshot.md). The ranker always gets
 * dense float32 rows back; the file stores them for their nature:
 * - `float32`: itemCount × dim little-endian float32 (version 1's only layout);
 * - `int8`: a float32 scale per row, then itemCount × dim int8 codes; value = code × scale (scale = max |x| / 127);
 * - `csr-int8`: sparse rows (compressed sparse row): the dim as a uint32, itemCount + 1 uint32 row offsets, a
 *   float32 scale per row, then per non-zero a uint16 column (ascending within a row), then per non-zero an
 *   int8 code; value = code × scale;
 * - `csr-f16`: the same without scales, each non-zero an IEEE half float (for spaces whose ranking int8 moves).
 * Decoding gives back exactly the values that were encoded after rounding, and encoding those again gives the same
 * bytes: a snapshot written, loaded and written again does not drift (`storeSpace` hands the writer those values).
 */
import { DataError } from '../errors.ts';

export type SpaceDtype = 'float32' | 'int8' | 'csr-int8' | 'csr-f16';

export const SPACE_DTYPES: readonly SpaceDtype[] = ['float32', 'int8', 'csr-int8', 'csr-f16'];

/** The file name ending for each layout. */
export const SPACE_FILE_SUFFIX: Readonly<Record<SpaceDtype, string>> = { float32: '.f32', int8: '.i8', 'csr-int8': '.csr', 'csr-f16': '.csr16' };

/** IEEE 754 half precision bits of `v` (round to nearest even; overflow → ±65504 is never needed for unit rows). */
const HALF_F32 = new Float32Array(1);
const HALF_U32 = new Uint32Array(HALF_F32.buffer);
function toHalf(v: number): number {
  HALF_F32[0] = v;
  const x = HALF_U32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  let mant = x & 0x7fffff;
  if (exp <= 0) {
    if (exp < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - exp;
    const half = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (rest > mid || (rest === mid && half & 1) ? half + 1 : half);
  }
  if (exp >= 31) return sign | 0x7bff;
  const half = (exp << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  return sign | (rest > 0x1000 || (rest === 0x1000 && half & 1) ? half + 1 : half);
}

/** Every half float's value, built on first use (256 KB): decoding a large sparse space is one lookup per value. */
let HALF_TABLE: Float32Array | undefined;
export const halfFloatTable = (): Float32Array => (HALF_TABLE ??= makeHalfTable());

/**
 * Every half float's float32 value. A normal half is its float32 with the exponent re-biased (+112) and the
 * mantissa shifted, written as bits: computing each of the 65,536 values (Float32Array.from with fromHalf) took
 * ~40 ms of the page's thread in Chromium, when the page first reads sparse rows.
 */
function makeHalfTable(): Float32Array {
  const table = new Float32Array(65536);
  const bits = new Uint32Array(table.buffer);
  for (let h = 0; h < 65536; h++) {
    const exp = (h >>> 10) & 0x1f;
    if (exp === 0 || exp === 31) table[h] = fromHalf(h); // zeros, subnormals, infinities, NaN
    else bits[h] = ((h & 0x8000) << 16) | ((exp + 112) << 23) | ((h & 0x3ff) << 13);
  }
  return table;
}

/** A half float's value from its formula (the table's reference, and its zeros, subnormals, infinities and NaN). */
export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** A space whose share of non-zero values is below this is stored sparse (4 bytes per non-zero against 1 per value). */
const SPARSE_BELOW = 0.3;
/** uint16 columns. */
const MAX_SPARSE_DIM = 65536;

/**
 * The layout a space is written in: sparse half floats when most values are zero (lexical, genre), else int8
 * with a scale per row. Chosen on the demo catalog's survey (npm run eval:survey): int8 lexical values moved
 * precision@10 at level 1 by 0.003, half floats by < 0.0005; int8 style and gram rows by ≤ 0.001.
 */
function chooseDtype(data: Float32Array, dim: number): SpaceDtype {
  let nonZero = 0;
  for (const v of data) if (v !== 0) nonZero++;
  return nonZero < SPARSE_BELOW * data.length && dim <= MAX_SPARSE_DIM ? 'csr-f16' : 'int8';
}

function rowScale(data: Float32Array, start: number, end: number): number {
  let max = 0;
  for (let j = start; j < end; j++) max = Math.max(max, Math.abs(data[j]));
  return max / 127;
}

/** The bytes of `data` (rows × dim) in `dtype`'s layout. */
export function encodeSpaceData(data: Float32Array, rows: number, dim: number, dtype: SpaceDtype): Uint8Array {
  if (data.length !== rows * dim) throw new Error(`space data has ${data.length} values, ${rows} rows × ${dim} need ${rows * dim}`);
  if (dtype === 'float32') return new Uint8Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
  const scales = new Float32Array(rows);
  for (let i = 0; i < rows; i++) scales[i] = rowScale(data, i * dim, (i + 1) * dim);
  const code = (v: number, s: number) => (s > 0 ? Math.round(v / s) : 0);
  if (dtype === 'int8') {
    const out = new Uint8Array(rows * 4 + rows * dim);
    new Uint8Array(out.buffer, 0, rows * 4).set(new Uint8Array(scales.buffer));
    const codes = new Int8Array(out.buffer, rows * 4);
    for (let i = 0; i < rows; i++) for (let j = 0; j < dim; j++) codes[i * dim + j] = code(data[i * dim + j], scales[i]);
    return out;
  }
  if (dim > MAX_SPARSE_DIM) throw new Error(`${dtype} stores columns as uint16: dim ${dim} is over ${MAX_SPARSE_DIM}`);
  const f16 = dtype === 'csr-f16';
  const offsets = new Uint32Array(rows + 1);
  const cols: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < dim; j++) {
      const v = f16 ? toHalf(data[i * dim + j]) : code(data[i * dim + j], scales[i]);
      if (v !== 0 && v !== 0x8000) {
        cols.push(j);
        values.push(v);
      }
    }
    offsets[i + 1] = cols.length;
  }
  const nnz = cols.length;
  const scaleBytes = f16 ? 0 : rows * 4;
  const out = new Uint8Array(4 + (rows + 1) * 4 + scaleBytes + nnz * 2 + nnz * (f16 ? 2 : 1));
  new DataView(out.buffer).setUint32(0, dim, true);
  let at = 4;
  out.set(new Uint8Array(offsets.buffer), at);
  at += offsets.byteLength;
  if (!f16) out.set(new Uint8Array(scales.buffer), at);
  at += scaleBytes;
  out.set(new Uint8Array(Uint16Array.from(cols).buffer), at);
  at += nnz * 2;
  out.set(new Uint8Array((f16 ? Uint16Array.from(values) : Int8Array.from(values)).buffer), at);
  return out;
}

/**
 * Sparse rows in memory: row i's non-zeros are at columns `cols[k]`, k in [offsets[i], offsets[i + 1]), with value
 * `values[k]`, or `table[values[k]]` when `table` is given: half floats kept as they are stored, read through a
 * 65,536-entry table (vectors.ts reads both). A `csr-f16` file is then used in place, views on its own bytes, with no decoded
 * copy (at 100k titles the lexical space's 60 MB, where float32 values took 91 MiB besides the file).
 */
export interface CsrRows {
  offsets: Uint32Array;
  cols: Uint16Array;
  values: Float32Array | Uint16Array;
  table?: Float32Array;
  /** The scan in WebAssembly, when the rows were copied into its memory (math/sparse-scan.ts wasmRows). */
  kernel?: SparseKernel;
}

/** Scores of rows [start, end) for one query (every row by default), written into `out` at their rows (vectors.ts scanSpace). */
export interface SparseKernel {
  scan(q: Float32Array, out: Float32Array, start?: number, end?: number): void;
}


export interface DecodeContext {
  /** The file, for errors. */
  file: string;
  /** The manifest field the layout comes from (e.g. `spaces.lexical`), for errors. */
  field: string;
  /** The item id of a row, for errors. */
  itemOf: (row: number) => string;
}

/** The dense float32 rows (rows × dim) stored in `bytes`; anything malformed is a DataError naming file, row and field. */
export function decodeSpaceData(bytes: Uint8Array, rows: number, dim: number, dtype: SpaceDtype, ctx: DecodeContext): Float32Array {
  return decodeSpaceRows(bytes, rows, dim, dtype, ctx, false).data;
}

/**
 * The rows stored in `bytes`, checked the same way in either form: dense float32 (`data`), or — for a sparse layout
 * when `keepSparse` — compressed sparse rows with float32 values (`csr`, `data` then empty), so that a large sparse
 * space (lexical at 100k titles: ~400 MB dense) takes memory in proportion to its non-zeros.
 */
export function decodeSpaceRows(bytes: Uint8Array, rows: number, dim: number, dtype: SpaceDtype, ctx: DecodeContext, keepSparse: boolean): { data: Float32Array; csr?: CsrRows } {
  // Views straight on the file's bytes (no copy of a file that can be ~100 MB) unless a slice of a larger fetch
  // starts at an offset typed views cannot take; then an aligned copy.
  const aligned = bytes.byteOffset % 4 === 0;
  const buf = (aligned ? bytes.buffer : bytes.slice().buffer) as ArrayBuffer;
  const at = aligned ? bytes.byteOffset : 0;
  const bad = (message: string, row?: number): never => {
    throw new DataError(ctx.file, message, { field: ctx.field, ...(row !== undefined ? { item: ctx.itemOf(row) } : {}) });
  };
  const checkScales = (scales: Float32Array) => {
    const i = scales.findIndex((s) => !Number.isFinite(s) || s < 0);
    if (i >= 0) bad(`has an invalid row scale (${scales[i]})`, i);
  };
  if (dtype === 'float32') {
    const expected = rows * dim * 4;
    if (bytes.byteLength !== expected) {
      const per = bytes.byteLength / 4 / rows;
      bad(`holds ${bytes.byteLength} bytes but ${rows} items × dim ${dim} × 4 needs ${expected}` + (Number.isInteger(per) ? ` (wrong dimension: the data has ${per} per item)` : ''));
    }
    const data = new Float32Array(buf, at, rows * dim);
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i])) bad(`has a non-finite value (${data[i]}) at [${i % dim}]`, Math.floor(i / dim));
    }
    return { data };
  }
  if (dtype === 'int8') {
    const expected = rows * 4 + rows * dim;
    if (bytes.byteLength !== expected) {
      const per = (bytes.byteLength - rows * 4) / rows;
      bad(`holds ${bytes.byteLength} bytes but int8 rows need ${rows} scales × 4 + ${rows} items × dim ${dim} = ${expected}` + (Number.isInteger(per) && per > 0 ? ` (wrong dimension: the data has ${per} per item)` : ' (truncated?)'));
    }
    const scales = new Float32Array(buf, at, rows);
    checkScales(scales);
    const codes = new Int8Array(buf, at + rows * 4, rows * dim);
    const data = new Float32Array(rows * dim);
    for (let i = 0; i < rows; i++) for (let j = 0; j < dim; j++) data[i * dim + j] = codes[i * dim + j] * scales[i];
    return { data };
  }
  if (dtype !== 'csr-int8' && dtype !== 'csr-f16') return bad(`has an unknown dtype ${JSON.stringify(dtype)}`);
  const f16 = dtype === 'csr-f16';
  const scaleBytes = f16 ? 0 : rows * 4;
  const head = 4 + (rows + 1) * 4 + scaleBytes;
  if (bytes.byteLength < head) bad(`holds ${bytes.byteLength} bytes, less than the ${head} of its header, row offsets and scales (truncated?)`);
  const stored = new Uint32Array(buf, at, 1)[0];
  if (stored !== dim) bad(`holds rows of dim ${stored} but the manifest says ${dim} (wrong dimension: the data has ${stored} per item)`);
  const offsets = new Uint32Array(buf, at + 4, rows + 1);
  const nnz = offsets[rows];
  const expected = head + nnz * (f16 ? 4 : 3);
  if (offsets[0] !== 0) bad(`row offsets must start at 0, found ${offsets[0]}`);
  if (bytes.byteLength !== expected) bad(`holds ${bytes.byteLength} bytes but ${nnz} non-zeros need ${expected} (truncated?)`);
  const scales = f16 ? null : new Float32Array(buf, at + head - scaleBytes, rows);
  if (scales) checkScales(scales);
  const cols = new Uint16Array(buf, at + head, nnz);
  // Half floats are 2-aligned after the uint16 columns; int8 codes need no alignment.
  const halves = f16 ? new Uint16Array(buf, at + head + nnz * 2, nnz) : null;
  const codes = f16 ? null : new Int8Array(buf, at + head + nnz * 2, nnz);
  const half = halves ? halfFloatTable() : null;
  const data = new Float32Array(keepSparse ? 0 : rows * dim);
  // Half floats stay as stored (views on the file); int8 codes become float32 values.
  const values = new Float32Array(keepSparse && !half ? nnz : 0);
  for (let i = 0; i < rows; i++) {
    const a = offsets[i], b = offsets[i + 1];
    if (b < a || b > nnz) bad(`row offsets must not decrease (row ${i}: ${a} → ${b})`, i);
    let previous = -1;
    for (let k = a; k < b; k++) {
      const c = cols[k];
      if (c >= dim) bad(`names column ${c}, but the space has dim ${dim}`, i);
      if (c <= previous) bad(`columns must ascend within a row (${previous} then ${c})`, i);
      previous = c;
      if (halves && keepSparse) {
        // Kept as stored: only its exponent is checked (all ones: infinity or NaN), without the table's lookup.
        if ((halves[k] & 0x7c00) === 0x7c00) bad(`has a non-finite value (${half![halves[k]]}) at [${c}]`, i);
        continue;
      }
      const v = half ? half[halves![k]] : codes![k] * scales![i];
      if (!Number.isFinite(v)) bad(`has a non-finite value (${v}) at [${c}]`, i);
      if (!keepSparse) data[i * dim + c] = v;
      else values[k] = v;
    }
  }
  if (!keepSparse) return { data };
  // Half floats: the file's own bytes, in place. Int8 codes: copies of the offsets and columns, so the file can go.
  return { data, csr: half ? { offsets, cols, values: halves!, table: half } : { offsets: offsets.slice(), cols: cols.slice(), values } };
}

/**
 * The checks `decodeSpaceRows` makes of a `csr-f16` file kept sparse, made as the file streams past (`feed`), so
 * that a 60 MB file is checked without being held: the snapshot worker reads a kept file through one small buffer
 * and leaves its rows to the page (load.ts `rowsOnDisk`). It only tells whether the file passes (`ok`); a file that does not
 * is decoded whole by `decodeSpaceRows`, which names its fault exactly as ever.
 */
export class CsrF16Check {
  private readonly head: number;
  private readonly offsets: Uint32Array;
  private nnz = -1;
  /** The row the columns have reached (-1: none yet), its last column, and where the next row starts. */
  private row = -1;
  private previous = -1;
  private next = 0;
  private failed: boolean;

  constructor(
    private readonly bytes: number,
    private readonly rows: number,
    private readonly dim: number,
  ) {
    this.head = 4 + (rows + 1) * 4;
    this.offsets = new Uint32Array(rows + 1);
    this.failed = bytes < this.head;
  }

  /** Whether every byte fed so far passed (all of them, once the file was fed whole). */
  get ok(): boolean {
    return !this.failed;
  }

  /** The file's non-zeros (known once the row offsets went past). */
  get nonZeros(): number {
    return this.nnz;
  }

  /**
   * The file's next bytes, from `at` on, in order: every chunk but the last a multiple of 4 bytes long, so that no
   * stored number is split between two chunks (the row offsets start at byte 4, the columns and values on even ones).
   */
  feed(chunk: Uint8Array, at: number): void {
    if (this.failed) return;
    // Typed views on the chunk, as decodeSpaceRows takes on the whole file (an odd offset gets an aligned copy).
    const bytes = chunk.byteOffset % 4 === 0 ? chunk : chunk.slice();
    const buf = bytes.buffer, base = bytes.byteOffset, end = at + bytes.byteLength;
    const view = <T>(make: new (b: ArrayBufferLike, o: number, n: number) => T, from: number, to: number, size: number) => new make(buf, base + from - at, (to - from) / size);
    if (at === 0 && end >= 4 && view(Uint32Array, 0, 4, 4)[0] !== this.dim) return this.fail();
    const o = this.offsets;
    if (Math.max(at, 4) < Math.min(end, this.head)) o.set(view(Uint32Array, Math.max(at, 4), Math.min(end, this.head), 4), (Math.max(at, 4) - 4) >> 2);
    if (this.nnz < 0) {
      if (end < this.head) return;
      this.nnz = o[this.rows];
      if (o[0] !== 0 || this.bytes !== this.head + this.nnz * 4) return this.fail();
    }
    const nnz = this.nnz, dim = this.dim, cols = this.head, values = cols + nnz * 2, stop = values + nnz * 2;
    if (Math.max(at, cols) < Math.min(end, values)) {
      const c = view(Uint16Array, Math.max(at, cols), Math.min(end, values), 2);
      let k = (Math.max(at, cols) - cols) >> 1, row = this.row, previous = this.previous, next = this.next;
      for (let j = 0; j < c.length; j++, k++) {
        // Each row's offsets are checked before its columns, as decodeSpaceRows does.
        while (k >= next) {
          row++;
          next = o[row + 1];
          if (next < o[row] || next > nnz) return this.fail();
          previous = -1;
        }
        if (c[j] >= dim || c[j] <= previous) return this.fail();
        previous = c[j];
      }
      [this.row, this.previous, this.next] = [row, previous, next];
    }
    // Past the last column: the rows left (empty ones) still need sound offsets.
    if (end >= values) {
      for (let r = this.row + 1; r < this.rows; r++) if (o[r + 1] < o[r] || o[r + 1] > nnz) return this.fail();
      this.row = this.rows - 1;
    }
    if (Math.max(at, values) < Math.min(end, stop)) {
      // Kept as stored: only a value's exponent is checked (all ones: infinity or NaN).
      const h = view(Uint16Array, Math.max(at, values), Math.min(end, stop), 2);
      for (let j = 0; j < h.length; j++) if ((h[j] & 0x7c00) === 0x7c00) return this.fail();
    }
  }

  private fail(): void {
    this.failed = true;
  }
}

/**
 * A space as the writer stores it: its layout (chooseDtype), the file's bytes, and the rows a loader will read
 * back. Builders rank, fit and calibrate on those rows, so what they measured is what readers get.
 */
export function storeSpace(data: Float32Array, rows: number, dim: number): { dtype: SpaceDtype; bytes: Uint8Array; rowsRead: Float32Array } {
  const dtype = chooseDtype(data, dim);
  const bytes = encodeSpaceData(data, rows, dim, dtype);
  return { dtype, bytes, rowsRead: decodeSpaceData(bytes, rows, dim, dtype, { file: 'space', field: 'space', itemOf: String }) };
}
