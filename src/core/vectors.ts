/** Small vector helpers. A space's rows live in one row-major Float32Array, or (large sparse spaces) as CSR rows. */
import type { Space } from './snapshot/format.ts';
import type { CsrRows } from './snapshot/encoding.ts';

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** L2-normalises in place; a zero vector stays zero. Returns the input. */
export function normalize<T extends Float32Array | Float64Array>(v: T): T {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i] * v[i];
  if (s > 0) {
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < v.length; i++) v[i] *= inv;
  }
  return v;
}

/**
 * scores[i] = data[i] · q for every row: the brute-force scan that stays fast up to ~100k rows.
 * Four rows per pass share each load of q (about 1.7× faster than one row at a time in V8).
 */
export function scanDot(data: Float32Array, dim: number, q: Float32Array, out: Float32Array = new Float32Array(data.length / dim)): Float32Array {
  const n = data.length / dim;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o0 = i * dim, o1 = o0 + dim, o2 = o1 + dim, o3 = o2 + dim;
    let a = 0, b = 0, c = 0, e = 0;
    for (let d = 0; d < dim; d++) {
      const x = q[d];
      a += data[o0 + d] * x;
      b += data[o1 + d] * x;
      c += data[o2 + d] * x;
      e += data[o3 + d] * x;
    }
    out[i] = a;
    out[i + 1] = b;
    out[i + 2] = c;
    out[i + 3] = e;
  }
  for (; i < n; i++) {
    let s = 0;
    const o = i * dim;
    for (let d = 0; d < dim; d++) s += data[o + d] * q[d];
    out[i] = s;
  }
  return out;
}

// ---- a space's rows, dense or kept sparse (Space.csr): the one place that knows both forms ----

/** The value of non-zero k of sparse rows (stored half floats go through their table). */
function csrValue(csr: CsrRows, k: number): number {
  return csr.table ? csr.table[csr.values[k]] : csr.values[k];
}

/** How many rows (titles) a space has. */
function rowCount(space: Space): number {
  return space.csr ? space.csr.offsets.length - 1 : space.data.length / space.dim;
}

/** scores[i] = row i · q for every row (scanDot for dense rows; one pass over the non-zeros for sparse ones). */
export function scanSpace(space: Space, q: Float32Array, out = new Float32Array(rowCount(space))): Float32Array {
  return scanRows(space, q, out, 0, out.length);
}

/**
 * scanSpace in steps of about `stepValues` values multiplied each, yielding between them (a page gives its thread
 * back there: at 100k titles one scan of the lexical rows was a task of ~60 ms in a slow Chromium). Each row is
 * computed as scanSpace computes it, so the scores are the same bits.
 */
export function* scanSpaceSteps(space: Space, q: Float32Array, stepValues: number): Generator<void, Float32Array> {
  const n = rowCount(space);
  const out = new Float32Array(n);
  const perRow = space.csr ? (space.csr.offsets[n] - space.csr.offsets[0]) / Math.max(1, n) : space.dim;
  const rows = Math.max(1, Math.floor(stepValues / Math.max(1, perRow)));
  for (let start = 0; start < n; start += rows) {
    if (start > 0) yield;
    scanRows(space, q, out, start, Math.min(n, start + rows));
  }
  return out;
}

/** out[i] = row i · q for the rows in [start, end) (the others are left as they are). */
function scanRows(space: Space, q: Float32Array, out: Float32Array, start: number, end: number): Float32Array {
  const csr = space.csr;
  if (!csr) {
    // scanDot's sums run over each row's columns in order, whatever rows share a pass: the same bits for a range.
    scanDot(space.data.subarray(start * space.dim, end * space.dim), space.dim, q, out.subarray(start, end));
    return out;
  }
  if (csr.kernel) {
    csr.kernel.scan(q, out, start, end);
    return out;
  }
  const { offsets, cols, values, table } = csr;
  // One loop per value form, so the hot loop has no branch.
  if (table) {
    for (let i = start; i < end; i++) {
      let s = 0;
      for (let k = offsets[i], e = offsets[i + 1]; k < e; k++) s += table[values[k]] * q[cols[k]];
      out[i] = s;
    }
    return out;
  }
  for (let i = start; i < end; i++) {
    let s = 0;
    for (let k = offsets[i], e = offsets[i + 1]; k < e; k++) s += values[k] * q[cols[k]];
    out[i] = s;
  }
  return out;
}

/** Row a · row b. */
export function rowDot(space: Space, a: number, b: number): number {
  const csr = space.csr;
  if (!csr) {
    let d = 0;
    const oa = a * space.dim, ob = b * space.dim;
    for (let j = 0; j < space.dim; j++) d += space.data[oa + j] * space.data[ob + j];
    return d;
  }
  // Both rows' columns ascend: a merge.
  const { offsets, cols } = csr;
  let d = 0;
  let i = offsets[a], j = offsets[b];
  const ea = offsets[a + 1], eb = offsets[b + 1];
  while (i < ea && j < eb) {
    if (cols[i] === cols[j]) d += csrValue(csr, i++) * csrValue(csr, j++);
    else if (cols[i] < cols[j]) i++;
    else j++;
  }
  return d;
}

/** acc += weight × row i. */
export function addRow(space: Space, i: number, weight: number, acc: Float32Array | Float64Array): void {
  const csr = space.csr;
  if (!csr) {
    const o = i * space.dim;
    for (let d = 0; d < space.dim; d++) acc[d] += weight * space.data[o + d];
    return;
  }
  for (let k = csr.offsets[i], end = csr.offsets[i + 1]; k < end; k++) acc[csr.cols[k]] += weight * csrValue(csr, k);
}

/** The rows as one dense row-major array (a writer's input; a new array for sparse rows). */
export function denseRows(space: Space): Float32Array {
  const csr = space.csr;
  if (!csr) return space.data;
  const out = new Float32Array(rowCount(space) * space.dim);
  for (let i = 0; i < out.length / space.dim; i++) addRow(space, i, 1, out.subarray(i * space.dim, (i + 1) * space.dim));
  return out;
}
