import { describe, it, expect } from 'vitest';
import { rng } from '../../src/core/random.ts';
import { averagePrecision, coverage, hitRate, ndcg, novelty, precision, recall, unserendipity } from '../../src/core/math/metrics.ts';
import { topK, without } from '../../src/core/math/top-k.ts';

// rel = [0, 1, 0, 1] at K = 4; |test| = 3 so m = 3.
const rec = [5, 1, 7, 3];
const test = new Set([1, 3, 9]);

describe('ranking metrics, hand-computed', () => {
  it('hit rate is 1 only when a test item is within the first K', () => {
    expect(hitRate(rec, test, 4)).toBe(1);
    expect(hitRate(rec, test, 1)).toBe(0); // rank 1 is a miss; the hit at rank 2 is past K
    expect(hitRate([], test, 10)).toBe(0);
  });

  it('precision divides by K, even when the list is shorter', () => {
    expect(precision(rec, test, 4)).toBe(0.5);
    expect(precision([1], test, 10)).toBeCloseTo(0.1, 12);
  });

  it('recall divides by min(K, |test|), not by |test|', () => {
    expect(recall(rec, test, 4)).toBeCloseTo(2 / 3, 12);
    expect(recall([1, 3], test, 2)).toBe(1); // m = 2: both slots hit
  });

  it('NDCG discounts by log2(rank + 1) and normalises by m leading hits', () => {
    const dcg = 1 / Math.log2(3) + 1 / Math.log2(5);
    const ideal = 1 + 1 / Math.log2(3) + 1 / Math.log2(4);
    expect(ndcg(rec, test, 4)).toBeCloseTo(dcg / ideal, 12); // 0.49819…
    expect(ndcg(rec, test, 4)).toBeCloseTo(0.498193, 5);
    expect(ndcg([1, 3], test, 2)).toBeCloseTo(1, 12); // ideal uses m = 2, not |test| = 3
    expect(ndcg([3, 5], test, 2)).toBeCloseTo(1 / (1 + 1 / Math.log2(3)), 12);
  });

  it('AP@K averages precision at each hit over m', () => {
    expect(averagePrecision(rec, test, 4)).toBeCloseTo((1 / 2 + 2 / 4) / 3, 12);
    expect(averagePrecision([1, 3], test, 2)).toBeCloseTo(1, 12);
    expect(averagePrecision([5, 1], test, 2)).toBeCloseTo(0.5 / 2, 12);
    expect(averagePrecision([5, 7], test, 2)).toBe(0);
  });

  it('coverage counts distinct recommended items over the catalog', () => {
    expect(coverage([[0, 1], [1, 2]], 10)).toBeCloseTo(0.3, 12);
  });

  it('novelty is the mean self-information of the recommended items, popularity floored at 1', () => {
    const pop = [1, 0, 4];
    // −log2(1/8) = 3, the unseen item counts as 1 → 3, −log2(4/8) = 1
    expect(novelty([0, 1, 2], pop, 8)).toBeCloseTo(7 / 3, 12);
    expect(novelty([2], pop, 8)).toBeCloseTo(1, 12);
  });

  it('unserendipity is the mean cosine over every (recommended, history) pair', () => {
    const s = Math.SQRT1_2;
    const v = new Float32Array([1, 0, 0, 1, s, s]); // items 0, 1, 2 in 2-D, unit length
    expect(unserendipity([2], [0, 1], v, 2)).toBeCloseTo(s, 6);
    expect(unserendipity([0, 1], [0], v, 2)).toBeCloseTo(0.5, 6);
    expect(unserendipity([0, 2], [0, 2], v, 2)).toBeCloseTo((1 + s + s + 1) / 4, 6);
    // Against the plain pairwise definition on random unit vectors.
    const dim = 5;
    const next = rng(7);
    const r = new Float64Array(8 * dim).map(() => next() - 0.5);
    for (let i = 0; i < 8; i++) {
      const row = r.subarray(i * dim, (i + 1) * dim);
      const n = Math.hypot(...row);
      row.forEach((x, d) => (row[d] = x / n));
    }
    const recs = [1, 4, 6];
    const hist = [0, 2, 3, 7];
    let pairs = 0;
    for (const a of recs) for (const b of hist) for (let d = 0; d < dim; d++) pairs += r[a * dim + d] * r[b * dim + d];
    expect(unserendipity(recs, hist, r, dim)).toBeCloseTo(pairs / 12, 12);
  });
});

describe('topK', () => {
  it('ranks by score, ties in catalog order', () => {
    expect([...topK([1, 3, 3, 2, 0], 3)]).toEqual([1, 2, 3]);
    expect([...topK([5, 5, 5, 5], 3)]).toEqual([0, 1, 2]);
    expect([...topK([0, 1, 2, 3, 4, 5], 6)]).toEqual([5, 4, 3, 2, 1, 0]);
  });

  it('never returns excluded items', () => {
    expect([...topK([1, 3, 3, 2, 0], 3, without(5, [1]))]).toEqual([2, 3, 0]);
    expect([...topK([1, 3, 3, 2, 0], 10, without(5, [0, 1, 2, 3, 4]))]).toEqual([]);
  });

  it('equals a full stable sort on random scores with many ties (the bounded heap is only faster)', () => {
    const random = rng(5);
    for (let t = 0; t < 200; t++) {
      const n = 1 + Math.floor(random() * 300);
      const scores = Array.from({ length: n }, () => Math.floor(random() * 20) / 4);
      const mask = Uint8Array.from({ length: n }, () => (random() < 0.8 ? 1 : 0));
      const k = Math.floor(random() * (n + 5));
      const naive = [...scores.keys()].filter((i) => mask[i]).sort((a, b) => scores[b] - scores[a] || a - b).slice(0, k);
      expect(topK(scores, k, mask)).toEqual(naive);
    }
  });

  it('returns fewer than K when candidates run out, NaN scores last', () => {
    expect([...topK([NaN, 1, -5], 5)]).toEqual([1, 2, 0]);
    expect([...topK([NaN, 1, -5], 2)]).toEqual([1, 2]);
  });
});
