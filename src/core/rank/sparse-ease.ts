/**
 * EASE restricted to each title's candidate neighbours: the community model at platform scale, in time and memory
 * that grow with the interactions and the titles, never with titles² or titles³.
 *
 * EASE's closed form is column-separable: column j of B solves the ridge regression of X_j on the other titles,
 * b = (G₋ⱼ₋ⱼ + λI)⁻¹ G₋ⱼⱼ with G = XᵀX. Here each column regresses on its `candidates` titles that co-occur with j
 * most often (the others hardly move b: they share few readers with j), which is a K × K Cholesky solve per title.
 * With K ≥ titles − 1 it is exact EASE (tests/unit/sparse-ease.test.ts). The idea is SANSA's (Spišák et al., RecSys
 * 2023): an EASE-quality model whose memory is set by its density; the regressions per column are SLIM's.
 *
 * Cost, for n titles, readers u with |u| titles and K candidates: co-occurrence Σᵤ|u|² adds, candidate Gram blocks
 * n·K·M look-ups (M = 2K co-occurring titles kept per title), solves n·K³/6 multiply-adds; memory n·M pairs.
 */
import { fitCommunityModel, type CommunityModel } from './community.ts';
import { storedModel } from './community-file.ts';

export interface SparseEaseOptions {
  lambda: number;
  /** Weights kept per row (the snapshot's top-N format). */
  neighbours: number;
  /** Titles each column regresses on (K): the ones sharing the most readers with it. */
  candidates: number;
}

/** Each title's readers (CSR over titles): the transpose of the readers' title lists. */
function readersByTitle(readers: readonly Int32Array[], n: number): { start: Int32Array; users: Int32Array } {
  const start = new Int32Array(n + 1);
  for (const r of readers) for (const i of r) start[i + 1]++;
  for (let i = 0; i < n; i++) start[i + 1] += start[i];
  const users = new Int32Array(start[n]);
  const at = start.slice(0, n);
  readers.forEach((r, u) => {
    for (const i of r) users[at[i]++] = u;
  });
  return { start, users };
}

/**
 * For every title (row), the `keep` titles it shares most readers with — `ids` (−1 past the last) and `counts`,
 * `keep` per row, by count then lower row first — and its own reader count. Computed here from the readers, or
 * by the SQL of `sql/cooccurrence.sql` (an embedded engine, or the operator's warehouse: scripts/lib/cooccurrence.ts).
 */
export interface Cooccurrence {
  keep: number;
  ids: Int32Array;
  counts: Float64Array;
  own: Float64Array;
}

/** The co-occurrence lists `fitSparseEase` needs for `candidates` (it keeps twice as many per title). */
export const cooccurrenceKeep = (itemCount: number, candidates: number): number => Math.min(2 * Math.max(1, Math.min(candidates, itemCount - 1)), itemCount - 1);

/** Cooccurrence from the readers' title lists: one dense accumulator of n counts reused title after title. */
export function cooccurrence(readers: readonly Int32Array[], n: number, keep: number): Cooccurrence {
  const { start, users } = readersByTitle(readers, n);
  const ids = new Int32Array(n * keep).fill(-1);
  const counts = new Float64Array(n * keep);
  const own = new Float64Array(n);
  const acc = new Int32Array(n);
  const touched = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    let t = 0;
    for (let p = start[j]; p < start[j + 1]; p++) {
      for (const i of readers[users[p]]) {
        if (i === j) continue;
        if (acc[i] === 0) touched[t++] = i;
        acc[i]++;
      }
    }
    own[j] = start[j + 1] - start[j];
    const order = Array.from(touched.subarray(0, t));
    order.sort((a, b) => acc[b] - acc[a] || a - b);
    const k = Math.min(keep, t);
    for (let q = 0; q < k; q++) {
      ids[j * keep + q] = order[q];
      counts[j * keep + q] = acc[order[q]];
    }
    for (let q = 0; q < t; q++) acc[touched[q]] = 0;
  }
  return { keep, ids, counts, own };
}

/** Solves (A) x = b in place for a symmetric positive definite K × K matrix `a` (Cholesky; a is overwritten). */
function solveSpd(a: Float64Array, b: Float64Array, k: number): void {
  for (let j = 0; j < k; j++) {
    let d = a[j * k + j];
    for (let p = 0; p < j; p++) d -= a[j * k + p] * a[j * k + p];
    const l = Math.sqrt(Math.max(d, 1e-12));
    a[j * k + j] = l;
    for (let i = j + 1; i < k; i++) {
      let s = a[i * k + j];
      for (let p = 0; p < j; p++) s -= a[i * k + p] * a[j * k + p];
      a[i * k + j] = s / l;
    }
  }
  for (let i = 0; i < k; i++) {
    let s = b[i];
    for (let p = 0; p < i; p++) s -= a[i * k + p] * b[p];
    b[i] = s / a[i * k + i];
  }
  for (let i = k - 1; i >= 0; i--) {
    let s = b[i];
    for (let p = i + 1; p < k; p++) s -= a[p * k + i] * b[p];
    b[i] = s / a[i * k + i];
  }
}

/**
 * Fits the community model (community.ts's top-N format) from the readers' distinct titles (catalog rows), with
 * each EASE column restricted to its `candidates` most co-occurring titles.
 */
export function fitSparseEase(readers: readonly Int32Array[], itemCount: number, opts: SparseEaseOptions, precomputed?: Cooccurrence): CommunityModel {
  if (!(opts.lambda > 0)) throw new Error(`EASE needs λ > 0, got ${opts.lambda}`);
  const n = itemCount;
  const N = Math.max(1, Math.min(opts.neighbours, n - 1));
  const K = Math.max(1, Math.min(opts.candidates, n - 1));
  // Twice the candidates are kept per title, so that a Gram entry between two candidates of j is found in either
  // one's list; a pair in neither shares fewer readers than both lists' last entries, and counts as 0.
  const M = cooccurrenceKeep(n, opts.candidates);
  if (precomputed && (precomputed.keep !== M || precomputed.own.length !== n)) throw new Error(`co-occurrence lists of ${precomputed.keep} per title for ${precomputed.own.length} titles; this fit needs ${M} for ${n}`);
  const co = precomputed ?? cooccurrence(readers, n, M);
  const a = new Float64Array(K * K);
  const rhs = new Float64Array(K);
  const pos = new Int32Array(n).fill(-1);
  // Column j's weights, gathered by row: row r (a history title) → (j, B[r][j]).
  const rowCount = new Int32Array(n);
  const entryRow = new Int32Array(n * K);
  const entryCol = new Int32Array(n * K);
  const entryWeight = new Float64Array(n * K);
  let entries = 0;
  for (let j = 0; j < n; j++) {
    let k = 0;
    while (k < K && co.ids[j * M + k] >= 0) k++;
    if (k === 0) continue;
    for (let p = 0; p < k; p++) pos[co.ids[j * M + p]] = p;
    a.fill(0, 0, k * k);
    for (let p = 0; p < k; p++) {
      const c = co.ids[j * M + p];
      rhs[p] = co.counts[j * M + p];
      a[p * k + p] = co.own[c] + opts.lambda;
      for (let q = 0; q < M; q++) {
        const d = co.ids[c * M + q];
        if (d < 0) break;
        const at = pos[d];
        if (at >= 0 && at !== p) {
          const v = co.counts[c * M + q];
          // Symmetric: found from either side, the same count.
          a[p * k + at] = v;
          a[at * k + p] = v;
        }
      }
    }
    solveSpd(a, rhs, k);
    for (let p = 0; p < k; p++) {
      const r = co.ids[j * M + p];
      pos[r] = -1;
      if (rhs[p] === 0) continue;
      entryRow[entries] = r;
      entryCol[entries] = j;
      entryWeight[entries] = rhs[p];
      rowCount[r]++;
      entries++;
    }
  }
  // Rows: the N weights of largest magnitude (then lower column), unused slots the title itself with weight 0.
  const rowStart = new Int32Array(n + 1);
  for (let r = 0; r < n; r++) rowStart[r + 1] = rowStart[r] + rowCount[r];
  const byRow = new Int32Array(entries);
  const fill = rowStart.slice(0, n);
  for (let e = 0; e < entries; e++) byRow[fill[entryRow[e]]++] = e;
  const index = new Uint32Array(n * N);
  const weight = new Float32Array(n * N);
  for (let r = 0; r < n; r++) {
    const list = Array.from(byRow.subarray(rowStart[r], rowStart[r + 1]));
    list.sort((x, y) => Math.abs(entryWeight[y]) - Math.abs(entryWeight[x]) || entryCol[x] - entryCol[y]);
    for (let k = 0; k < N; k++) {
      const e = list[k];
      index[r * N + k] = e === undefined ? r : entryCol[e];
      weight[r * N + k] = e === undefined ? 0 : entryWeight[e];
    }
  }
  return { itemCount: n, neighbours: N, index, weight };
}

/** Whether a catalog of this size gets the sparse model (and with it the popularity signal). */
export const sparseAt = (itemCount: number, opts: { denseUpTo: number }): boolean => itemCount > opts.denseUpTo;

/**
 * The community model for a catalog of this size: exact EASE up to `denseUpTo` titles (community.ts), above it
 * EASE restricted to each title's `candidates` most co-occurring titles, whose cost grows with the interactions.
 */
export function fitCommunity(readers: readonly Int32Array[], itemCount: number, opts: SparseEaseOptions & { denseUpTo: number }, precomputed?: Cooccurrence): CommunityModel {
  // In the form the snapshot stores (int8 weights, rows in column order), so that tuning and evaluation rank with
  // what ships.
  return storedModel(sparseAt(itemCount, opts) ? fitSparseEase(readers, itemCount, opts, precomputed) : fitCommunityModel(readers, itemCount, opts));
}
