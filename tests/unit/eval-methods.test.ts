import { describe, it, expect } from 'vitest';
import { rng } from '../../src/core/random.ts';
import type { Interaction, SourceItem } from '../../src/core/source.ts';
import { buildMatrix, temporalSplit, type TrainData, type TrainUser } from '../../src/core/split.ts';
import { gram, invertSpd, sumRows } from '../../src/core/math/linalg.ts';
import { createMethod, METHODS, REFERENCE_METHODS } from '../../src/core/eval/methods/index.ts';
import { easeWeights } from '../../src/core/eval/methods/ease.ts';
import { invertSpdBlocked } from '../../src/core/math/spd-inverse.ts';
import { chooseTfjsBackend } from '../../src/core/tfjs-backend.ts';
import { evaluate, genreSpace } from '../../src/core/eval/harness.ts';
import type { EvalMethod } from '../../src/core/eval/methods/types.ts';

/** TrainData from explicit binary rows (item indices), for hand-checked method outputs. */
function trainData(rows: number[][], nItems: number): TrainData {
  const items: SourceItem[] = Array.from({ length: nItems }, (_, i) => ({ id: String(i + 1), title: `t${i}`, synopsis: '', genres: [] }));
  const users: TrainUser[] = rows.map((r, row) => ({
    id: `u${row}`,
    row,
    history: r.map((item, n) => ({ item, rating: 5, timestamp: n })),
    seen: Int32Array.from(r).sort(),
  }));
  return { items, itemIndex: new Map(items.map((it, i) => [it.id, i])), users, matrix: buildMatrix(users, nItems), implicit: false };
}

function scores(method: EvalMethod, data: TrainData, user: TrainUser): number[] {
  const out = new Float64Array(data.items.length);
  method.score(user, out);
  return [...out];
}

describe('dense linear algebra', () => {
  it('gram counts co-occurrences of the binary columns', () => {
    const d = trainData([[0, 1], [0, 2], [1, 2], [0]], 3);
    expect([...gram(d.matrix)]).toEqual([3, 1, 1, 1, 2, 1, 1, 1, 2]);
  });

  it('invertSpd returns A⁻¹ of a symmetric positive-definite matrix', () => {
    const n = 37; // not a multiple of the 4-wide unrolling
    const next = rng(3);
    const r = Float64Array.from({ length: n * n }, () => next() - 0.5);
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = i === j ? 0.5 : 0;
        for (let k = 0; k < n; k++) s += r[k * n + i] * r[k * n + j];
        a[i * n + j] = s;
      }
    const copy = Float64Array.from(a);
    const p = invertSpd(a, n);
    expect(a).toEqual(copy); // input untouched
    let worst = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let k = 0; k < n; k++) s += a[i * n + k] * p[k * n + j];
        worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
        expect(p[i * n + j]).toBe(p[j * n + i]);
      }
    expect(worst).toBeLessThan(1e-9);
  });

  it('invertSpd refuses a matrix that is not positive definite', () => {
    expect(() => invertSpd(new Float64Array([1, 2, 2, 1]), 2)).toThrow(/positive definite/);
  });

  it('sumRows is x·W for a binary x', () => {
    const w = new Float64Array([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect([...sumRows(w, 3, [0, 2], new Float64Array(3))]).toEqual([8, 10, 12]);
  });
});

describe('reference methods', () => {
  // Items 0..3; item 3 is in nobody's row.
  const data = trainData([[0, 1], [0, 2], [1, 2], [0]], 4);

  it('popular scores every item by its column sum', () => {
    const m = createMethod('popular');
    m.fit(data);
    expect(scores(m, data, data.users[2])).toEqual([3, 2, 2, 0]);
  });

  it('random is reproducible by seed and differs between seeds', () => {
    const a = createMethod('random', { seed: 1 });
    const b = createMethod('random', { seed: 1 });
    const c = createMethod('random', { seed: 2 });
    [a, b, c].forEach((m) => m.fit(data));
    const sa = scores(a, data, data.users[0]);
    expect(scores(b, data, data.users[0])).toEqual(sa);
    expect(scores(c, data, data.users[0])).not.toEqual(sa);
    for (const v of sa) expect(v >= 0 && v < 1).toBe(true);
    a.fit(data); // refitting restarts the stream
    expect(scores(a, data, data.users[0])).toEqual(sa);
  });

  it('itemknn scores x_u·S with S the binary-column cosine, zero diagonal', () => {
    const m = createMethod('itemknn');
    m.fit(data);
    // |users(0)| = 3, |users(1)| = |users(2)| = 2, every pair co-occurs once.
    const s01 = 1 / Math.sqrt(6);
    const s12 = 1 / 2;
    const u = scores(m, data, data.users[3]); // seen = {0}
    expect(u[0]).toBe(0);
    expect(u[1]).toBeCloseTo(s01, 12);
    expect(u[2]).toBeCloseTo(s01, 12);
    expect(u[3]).toBe(0);
    const both = scores(m, data, data.users[0]); // seen = {0, 1}
    expect(both[2]).toBeCloseTo(s01 + s12, 12);
  });

  it('ease on two items is ridge regression of one column on the other: B01 = G01 / (G00 + λ)', () => {
    const two = trainData([[0, 1], [0], [0, 1], [1], [0]], 2); // G = [[4, 2], [2, 3]]
    const b = easeWeights(two, 1.5);
    expect(b[0]).toBe(0);
    expect(b[3]).toBe(0);
    expect(b[1]).toBeCloseTo(2 / (4 + 1.5), 12);
    expect(b[2]).toBeCloseTo(2 / (3 + 1.5), 12);
  });

  it('ease weights solve the constrained least squares: (G + λI)·B = G + λI − diagMat(1/diag(P))', () => {
    // Steck's closed form satisfies (G + λI)B = I·(G + λI) − diagMat(1/diag P) column by column;
    // so off the diagonal (G + λI)B equals G, which the test checks on a random matrix.
    const next = rng(11);
    const n = 9;
    const rows = Array.from({ length: 40 }, () => [...Array(n).keys()].filter(() => next() < 0.35));
    const d = trainData(rows, n);
    const lambda = 2;
    const g = gram(d.matrix);
    const b = easeWeights(d, lambda);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        let s = 0;
        for (let k = 0; k < n; k++) s += (g[i * n + k] + (i === k ? lambda : 0)) * b[k * n + j];
        expect(s).toBeCloseTo(g[i * n + j], 9);
      }
  });

  it('the blocked float32 inverse (large catalogs) agrees with the exact float64 one, and so do their top-10 lists', async () => {
    await chooseTfjsBackend('wasm');
    const next = rng(5);
    const n = 700;
    const rows = Array.from({ length: 2000 }, () => [...new Set(Array.from({ length: 8 }, () => Math.floor(next() ** 2 * n)))]);
    const d = trainData(rows, n);
    const g = gram(d.matrix);
    for (let i = 0; i < n; i++) g[i * n + i] += 250;
    const exact = invertSpd(g, n);
    // Leaves of 100 rows: three levels of Schur complements on this matrix.
    const blocked = invertSpdBlocked(g, n, 100);
    let err = 0;
    let max = 0;
    for (let i = 0; i < n * n; i++) {
      err = Math.max(err, Math.abs(exact[i] - blocked[i]));
      max = Math.max(max, Math.abs(exact[i]));
    }
    expect(err / max).toBeLessThan(1e-5);
    const top = (p: ArrayLike<number>, user: number[]) => {
      const s = Array.from({ length: n }, (_, j) => user.reduce((a, i) => a + (i === j ? 0 : -p[i * n + j] / p[j * n + j]), 0));
      return s.map((v, j) => [v, j]).filter(([, j]) => !user.includes(j)).sort((a, b) => b[0] - a[0] || a[1] - b[1]).slice(0, 10).map(([, j]) => j);
    };
    for (const user of rows.slice(0, 20)) expect(top(blocked, user)).toEqual(top(exact, user));
  });

  it('ease rejects a non-positive λ and unknown names are an error', () => {
    expect(() => createMethod('ease', { lambda: 0 })).toThrow(/λ/);
    expect(() => createMethod('nope')).toThrow(/unknown method "nope"/);
    expect(REFERENCE_METHODS.every((n) => n in METHODS)).toBe(true);
  });
});

describe('evaluate', () => {
  // 8 items with genres; two evaluated users whose test items are known.
  const genres = [['A'], ['A', 'B'], ['B'], ['C'], ['A'], ['C'], [], ['B', 'C']];
  const items: SourceItem[] = genres.map((g, i) => ({ id: String(i + 1), title: `t${i}`, synopsis: '', genres: g }));
  const rows: Interaction[] = [];
  // user a: positives on items 1..5 (index 0..4) → test = item index 4; user b: items 3..8 → test = index 7.
  [0, 1, 2, 3, 4].forEach((i, n) => rows.push({ user: 'a', item: String(i + 1), rating: 5, timestamp: n }));
  [2, 3, 5, 6, 1, 7].forEach((i, n) => rows.push({ user: 'b', item: String(i + 1), rating: 4, timestamp: n }));
  const split = temporalSplit(items, rows);

  /** Scores item i as −i: always recommends the lowest catalog indices the user has not seen. */
  const fixed: EvalMethod = {
    name: 'fixed',
    fit() {},
    score(_u, out) {
      for (let i = 0; i < out.length; i++) out[i] = -i;
    },
  };

  it('ranks the catalog minus the history and averages every metric over evaluated users', async () => {
    expect(split.evaluated.map((e) => [...e.test])).toEqual([[4], [7]]);
    const [r1, r2] = await evaluate(split, [fixed], { ks: [1, 2] });
    // a has seen 0..3 → recommends 4, 5: hit at rank 1. b has seen 1,2,3,5,6 → recommends 0, 4: miss.
    expect(r1.users).toBe(2);
    expect(r1.methods.fixed.hr).toBe(0.5);
    expect(r1.methods.fixed.precision).toBe(0.5);
    expect(r1.methods.fixed.recall).toBe(0.5);
    expect(r1.methods.fixed.ndcg).toBe(0.5);
    expect(r1.methods.fixed.map).toBe(0.5);
    expect(r1.methods.fixed.coverage).toBeCloseTo(2 / 8, 12); // items 4 and 0
    expect(r2.k).toBe(2);
    expect(r2.methods.fixed.precision).toBe(0.25);
    expect(r2.methods.fixed.coverage).toBeCloseTo(3 / 8, 12); // 4, 5, 0
    // Novelty: popularity = training column sums over 2 users. a's rec at K=1 is item 4 (pop 0 → 1):
    // −log2(1/2) = 1; b's rec is item 0 (pop 1): 1. Mean 1.
    expect(r1.methods.fixed.novelty).toBeCloseTo(1, 12);
  });

  it('unserendipity uses the normalised genre multi-hot, plus any extra space by name', async () => {
    const gs = genreSpace(items);
    expect(gs.dim).toBe(3);
    expect(gs.vectors[1 * 3 + 0]).toBeCloseTo(Math.SQRT1_2, 12); // item 1 = A+B
    expect(gs.vectors.slice(6 * 3, 7 * 3)).toEqual(new Float64Array(3)); // no genres: zero vector
    // Extra space: one unnormalised 1-D value per item; the harness normalises, so every cosine is ±1 or 0.
    const text = { dim: 1, vectors: new Float32Array([2, 2, 2, 2, 2, 2, -3, 2]) };
    const [r] = await evaluate(split, [fixed], { ks: [1], spaces: { text } });
    // a: rec 4 (A) vs history 0 (A), 1 (A+B), 2 (B), 3 (C): (1 + √½ + 0 + 0)/4.
    // b: rec 0 (A) vs history 2 (B), 3 (C), 5 (C), 6 (none), 1 (A+B): (0 + 0 + 0 + 0 + √½)/5.
    const ua = (1 + Math.SQRT1_2) / 4;
    const ub = Math.SQRT1_2 / 5;
    expect(r.methods.fixed.unserendipity).toBeCloseTo((ua + ub) / 2, 12);
    // Text: a: all +1 → 1. b: rec 0 (+) vs 2,3,5 (+), 6 (−), 1 (+): (4 − 1)/5.
    expect(r.methods.fixed.unserendipity_text).toBeCloseTo((1 + 3 / 5) / 2, 6);
  });

  it('reports progress and refuses duplicate names or bad K', async () => {
    const seen: string[] = [];
    await evaluate(split, [fixed], { ks: [1], progressEvery: 1, onProgress: (p) => seen.push(`${p.phase}:${p.done}/${p.total}`) });
    expect(seen).toEqual(['fit:0/2', 'score:1/2', 'score:2/2']);
    await expect(evaluate(split, [fixed, fixed], { ks: [1] })).rejects.toThrow(/twice/);
    await expect(evaluate(split, [fixed], { ks: [0] })).rejects.toThrow(/K/);
  });
});
