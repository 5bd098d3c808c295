/**
 * The sparse community model (rank/sparse-ease.ts): exact EASE when every column may regress on every title it
 * shares readers with, close to it with fewer candidates, and in the snapshot's top-N format.
 */
import { describe, it, expect } from 'vitest';
import { communityScores, fitCommunityModel } from '../../src/core/rank/community.ts';
import { storedModel } from '../../src/core/rank/community-file.ts';
import { fitCommunity, fitSparseEase } from '../../src/core/rank/sparse-ease.ts';
import { rng } from '../../src/core/random.ts';

/** Readers of `n` titles with a power-law popularity and a few taste clusters, each reader's titles distinct. */
function readers(n: number, users: number, per: number, seed: number): Int32Array[] {
  const random = rng(seed);
  return Array.from({ length: users }, (_, u) => {
    const set = new Set<number>();
    const cluster = u % 4;
    while (set.size < per) {
      const pop = Math.floor(n * random() ** 2);
      set.add(random() < 0.6 ? (pop - (pop % 4) + cluster) % n : pop);
    }
    return Int32Array.from([...set].sort((a, b) => a - b));
  });
}

/** Row i of a top-N model as a map column → weight. */
const rowOf = (m: { neighbours: number; index: Uint32Array; weight: Float32Array }, i: number) => {
  const out = new Map<number, number>();
  for (let k = 0; k < m.neighbours; k++) if (m.weight[i * m.neighbours + k] !== 0) out.set(m.index[i * m.neighbours + k], m.weight[i * m.neighbours + k]);
  return out;
};

describe('sparse EASE', () => {
  it('is exact EASE when every title shares readers with every other and K covers them all', () => {
    const n = 14;
    const data = readers(n, 400, 8, 1);
    const dense = fitCommunityModel(data, n, { lambda: 5, neighbours: n - 1 });
    const sparse = fitSparseEase(data, n, { lambda: 5, neighbours: n - 1, candidates: n - 1 });
    for (let i = 0; i < n; i++) {
      const a = rowOf(dense, i);
      const b = rowOf(sparse, i);
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort());
      for (const [j, w] of a) expect(b.get(j)!).toBeCloseTo(w, 5);
    }
  });

  it('recommends what exact EASE recommends, the more so the more candidates it regresses on', () => {
    const n = 400;
    const data = readers(n, 3000, 12, 2);
    const top10 = (m: ReturnType<typeof fitSparseEase>, r: Int32Array) => {
      const s = communityScores(m, Array.from(r, (index) => ({ index, weight: 1 })));
      const seen = new Set(r);
      return [...s.keys()].filter((j) => !seen.has(j)).sort((a, b) => s[b] - s[a] || a - b).slice(0, 10);
    };
    const dense = fitCommunityModel(data, n, { lambda: 50, neighbours: 200 });
    const agreement = [20, 80, n - 1].map((candidates) => {
      const sparse = fitSparseEase(data, n, { lambda: 50, neighbours: 200, candidates });
      let shared = 0;
      for (const r of data.slice(0, 300)) {
        const want = new Set(top10(dense, r));
        shared += top10(sparse, r).filter((j) => want.has(j)).length / 10;
      }
      return shared / 300;
    });
    // Top-10 lists shared with dense EASE: 0.59, 0.75, 0.90 on this data (the rest: titles no co-reader links).
    expect(agreement[0]).toBeGreaterThan(0.5);
    expect(agreement[1]).toBeGreaterThan(agreement[0]);
    expect(agreement[2]).toBeGreaterThan(0.85);
  });

  it('picks the exact model up to denseUpTo titles and the sparse one above, in the same format', () => {
    const data = readers(60, 500, 6, 3);
    const opts = { lambda: 10, neighbours: 10, candidates: 8 };
    const small = fitCommunity(data, 60, { ...opts, denseUpTo: 60 });
    const large = fitCommunity(data, 60, { ...opts, denseUpTo: 59 });
    // Both in the form the snapshot stores (int8 weights, rows in column order: community-file.ts).
    expect(small).toEqual(storedModel(fitCommunityModel(data, 60, opts)));
    expect(large).toEqual(storedModel(fitSparseEase(data, 60, opts)));
    expect(large.index.length).toBe(60 * 10);
    // A title nobody read: a row of itself with weight 0, as the loader expects.
    const lonely = fitSparseEase([...data, Int32Array.of(0)], 61, opts);
    expect(Array.from(lonely.index.subarray(60 * 10, 61 * 10))).toEqual(new Array(10).fill(60));
    expect(() => fitSparseEase(data, 60, { ...opts, lambda: 0 })).toThrow(/λ > 0/);
  });
});
