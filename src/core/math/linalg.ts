/**
 * Dense Float64 helpers for the item × item reference methods (item-kNN, EASE). Matrices are n × n,
 * row-major in one Float64Array. Inner loops walk rows contiguously so a 1,682² matrix stays cache-friendly.
 */
import type { BinaryMatrix } from '../split.ts';

/** G = XᵀX of the binary matrix: G[i][j] = number of users with both i and j (G[i][i] = column sum). */
export function gram(matrix: BinaryMatrix): Float64Array {
  const n = matrix.items;
  const g = new Float64Array(n * n);
  for (const row of matrix.userItems) {
    for (let a = 0; a < row.length; a++) {
      const o = row[a] * n;
      for (let b = 0; b < row.length; b++) g[o + row[b]] += 1;
    }
  }
  return g;
}

/** Σ_k x[xo + k]·y[yo + k] for k < len: the one kernel every factorisation step below is made of. */
function dotAt(x: Float64Array, xo: number, y: Float64Array, yo: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  // Four accumulators let the CPU overlap the additions.
  for (; k + 3 < len; k += 4) {
    s0 += x[xo + k] * y[yo + k];
    s1 += x[xo + k + 1] * y[yo + k + 1];
    s2 += x[xo + k + 2] * y[yo + k + 2];
    s3 += x[xo + k + 3] * y[yo + k + 3];
  }
  for (; k < len; k++) s0 += x[xo + k] * y[yo + k];
  return s0 + s1 + s2 + s3;
}

/**
 * Inverse of a symmetric positive-definite matrix via Cholesky: A = LLᵀ, M = L⁻¹, A⁻¹ = MᵀM.
 * Reads only the lower triangle of `a` and leaves `a` unchanged. About n³ multiply-adds in all, every one
 * a dot product of two contiguous rows. Throws if `a` is not positive definite.
 */
export function invertSpd(a: Float64Array, n: number): Float64Array {
  // 1. Cholesky–Banachiewicz, row by row: L[i][j] = (A[i][j] − L[i][:j]·L[j][:j]) / L[j][j].
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const io = i * n;
    for (let j = 0; j <= i; j++) {
      const jo = j * n;
      const s = a[io + j] - dotAt(l, io, l, jo, j);
      if (i === j) {
        if (!(s > 0)) throw new Error(`matrix is not positive definite (pivot ${i} is ${s})`);
        l[io + i] = Math.sqrt(s);
      } else {
        l[io + j] = s / l[jo + j];
      }
    }
  }

  // 2. M = L⁻¹, lower triangular, written over L row by row: row i of M needs row i of L and rows < i of M.
  //    M[i][i] = 1/L[i][i];  M[i][j] = −(Σ_{j≤k<i} L[i][k]·M[k][j]) / L[i][i].
  const acc = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const io = i * n;
    acc.fill(0, 0, i);
    for (let k = 0; k < i; k++) {
      const lik = l[io + k];
      if (lik === 0) continue;
      const ko = k * n;
      for (let j = 0; j <= k; j++) acc[j] += lik * l[ko + j]; // row k already holds M[k]
    }
    const inv = 1 / l[io + i];
    for (let j = 0; j < i; j++) l[io + j] = -acc[j] * inv;
    l[io + i] = inv;
  }

  // 3. A⁻¹ = MᵀM: P[a][b] = Σ_{k ≥ max(a,b)} M[k][a]·M[k][b]. With T = Mᵀ (upper triangular) that is the
  //    dot of rows a and b of T from column max(a,b) on, again contiguous.
  const t = new Float64Array(n * n);
  for (let k = 0; k < n; k++) for (let j = 0; j <= k; j++) t[j * n + k] = l[k * n + j];
  const p = l; // M is no longer needed: reuse its memory for the result
  for (let r = 0; r < n; r++) {
    const ro = r * n;
    for (let c = 0; c <= r; c++) {
      // max(r, c) = r since c ≤ r
      const v = dotAt(t, ro + r, t, c * n + r, n - r);
      p[ro + c] = v;
      p[c * n + r] = v;
    }
  }
  return p;
}

/** out = Σ_{i ∈ rows} W[i][:] = x·W for a binary row vector x given by its ones. */
export function sumRows(w: Float64Array | Float32Array, n: number, rows: ArrayLike<number>, out: Float64Array): Float64Array {
  out.fill(0);
  for (let r = 0; r < rows.length; r++) {
    const o = rows[r] * n;
    for (let j = 0; j < n; j++) out[j] += w[o + j];
  }
  return out;
}
