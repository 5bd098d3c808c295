/**
 * Ranking metrics of the evaluation protocol (shared/design/evaluation.md), one small pure function each.
 * `rec` is one user's ranked recommendation list (catalog indices, best first, at most K long); `test` is
 * that user's held-out item set. rel_k = 1 when rec[k-1] is a test item; m = min(K, |test|).
 */

/** Relevance flags of a ranked list against a test set. */
function hits(rec: ArrayLike<number>, test: ReadonlySet<number>, k: number): number[] {
  const rel: number[] = [];
  for (let r = 0; r < Math.min(k, rec.length); r++) rel.push(test.has(rec[r]) ? 1 : 0);
  return rel;
}

// HR@K = 1 if any rel_k = 1 for k ≤ K, else 0
export function hitRate(rec: ArrayLike<number>, test: ReadonlySet<number>, k: number): number {
  return hits(rec, test, k).some((r) => r === 1) ? 1 : 0;
}

// P@K = Σ_{k≤K} rel_k / K  (a list shorter than K still divides by K)
export function precision(rec: ArrayLike<number>, test: ReadonlySet<number>, k: number): number {
  return hits(rec, test, k).reduce((s, r) => s + r, 0) / k;
}

// R@K = Σ_{k≤K} rel_k / min(K, |test|)
export function recall(rec: ArrayLike<number>, test: ReadonlySet<number>, k: number): number {
  const m = Math.min(k, test.size);
  return m === 0 ? 0 : hits(rec, test, k).reduce((s, r) => s + r, 0) / m;
}

// NDCG@K = Σ_{k≤K} rel_k / log2(k+1)  ÷  Σ_{k≤m} 1 / log2(k+1)
export function ndcg(rec: ArrayLike<number>, test: ReadonlySet<number>, k: number): number {
  const m = Math.min(k, test.size);
  let dcg = 0;
  hits(rec, test, k).forEach((r, i) => (dcg += r / Math.log2(i + 2)));
  let ideal = 0;
  for (let i = 0; i < m; i++) ideal += 1 / Math.log2(i + 2);
  return ideal === 0 ? 0 : dcg / ideal;
}

// AP@K = (1/m) Σ_{k≤K} rel_k · P@k  (MAP@K is its mean over users)
export function averagePrecision(rec: ArrayLike<number>, test: ReadonlySet<number>, k: number): number {
  const m = Math.min(k, test.size);
  if (m === 0) return 0;
  let found = 0;
  let sum = 0;
  hits(rec, test, k).forEach((r, i) => {
    if (r) sum += ++found / (i + 1);
  });
  return sum / m;
}

// Coverage@K = |∪_u rec_u| / #catalog items
export function coverage(recs: Iterable<ArrayLike<number>>, catalogSize: number): number {
  const distinct = new Set<number>();
  for (const rec of recs) for (let i = 0; i < rec.length; i++) distinct.add(rec[i]);
  return distinct.size / catalogSize;
}

// Novelty@K (one user) = mean_{i∈rec} −log2(max(1, pop_i) / #users)
export function novelty(rec: ArrayLike<number>, popularity: ArrayLike<number>, users: number): number {
  if (rec.length === 0) return 0;
  let s = 0;
  for (let r = 0; r < rec.length; r++) s -= Math.log2(Math.max(1, popularity[rec[r]]) / users);
  return s / rec.length;
}

/**
 * Unserendipity (one user) = mean_{i∈rec, j∈history} cos(v_i, v_j), with `vectors` row-major, `dim` wide and
 * already L2-normalised, so cosine = dot. Lower means more serendipitous. Computed as
 * Σ_i v_i · (Σ_j v_j) / (|rec|·|history|): one pass over the history instead of every pair.
 */
export function unserendipity(rec: ArrayLike<number>, history: ArrayLike<number>, vectors: Float32Array | Float64Array, dim: number): number {
  if (rec.length === 0 || history.length === 0) return 0;
  const sum = new Float64Array(dim);
  for (let h = 0; h < history.length; h++) {
    const o = history[h] * dim;
    for (let d = 0; d < dim; d++) sum[d] += vectors[o + d];
  }
  let s = 0;
  for (let r = 0; r < rec.length; r++) {
    const o = rec[r] * dim;
    for (let d = 0; d < dim; d++) s += vectors[o + d] * sum[d];
  }
  return s / (rec.length * history.length);
}

