/**
 * The one top-k of Toonpick: the k best-scoring rows, best first, ties broken by row order (the evaluation
 * protocol's stable sort), NaN scores last. `candidates[i]` falsy skips row i. A bounded heap of the k best
 * so far: O(n log k) time and O(k) memory, whatever the catalog size.
 */

/** Is (sa, ia) worse than (sb, ib)? Lower score, or the same score and a later row. */
const worse = (sa: number, ia: number, sb: number, ib: number) => sa < sb || (sa === sb && ia > ib);

export function topK(scores: ArrayLike<number>, k: number, candidates?: ArrayLike<number>): number[] {
  const size = Math.max(0, Math.min(k, scores.length));
  const idx = new Int32Array(size);
  const val = new Float64Array(size);
  let n = 0;
  // Min-heap on (score, −row): the root is the worst of the k best so far.
  const down = (p: number) => {
    for (;;) {
      const l = 2 * p + 1, r = l + 1;
      let m = p;
      if (l < n && worse(val[l], idx[l], val[m], idx[m])) m = l;
      if (r < n && worse(val[r], idx[r], val[m], idx[m])) m = r;
      if (m === p) return;
      [idx[p], idx[m]] = [idx[m], idx[p]];
      [val[p], val[m]] = [val[m], val[p]];
      p = m;
    }
  };
  for (let i = 0; i < scores.length && size > 0; i++) {
    if (candidates && !candidates[i]) continue;
    const s = Number.isNaN(scores[i]) ? -Infinity : scores[i];
    if (n < size) {
      let p = n++;
      idx[p] = i;
      val[p] = s;
      while (p > 0) {
        const q = (p - 1) >> 1;
        if (!worse(val[p], idx[p], val[q], idx[q])) break;
        [idx[p], idx[q]] = [idx[q], idx[p]];
        [val[p], val[q]] = [val[q], val[p]];
        p = q;
      }
    } else if (worse(val[0], idx[0], s, i)) {
      idx[0] = i;
      val[0] = s;
      down(0);
    }
  }
  const out = Array.from(idx.subarray(0, n));
  const score = new Map(out.map((i, p) => [i, val[p]]));
  return out.sort((a, b) => score.get(b)! - score.get(a)! || a - b);
}

/** A candidates mask of n rows without `exclude` (the evaluation's training-history items). */
export function without(n: number, exclude: ArrayLike<number>): Uint8Array {
  const mask = new Uint8Array(n).fill(1);
  for (let i = 0; i < exclude.length; i++) mask[exclude[i]] = 0;
  return mask;
}
