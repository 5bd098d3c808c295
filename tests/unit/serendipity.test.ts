import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { defaultConfig, type SerendipityConfig } from '../../src/core/config.ts';
import { rng } from '../../src/core/random.ts';
import { categorySimilarity, coLabelSimilarity } from '../../src/core/rank/community.ts';
import { historySimilarity, itemCategories, serendipitousRanking, serendipityPool, type SerendipityInput } from '../../src/core/rank/serendipity.ts';
import { topK } from '../../src/core/math/top-k.ts';
import { standardise, standardisedRows } from '../../src/core/rank/signals.ts';
import { genreSpace } from '../../src/core/snapshot/build.ts';
import type { Space } from '../../src/core/snapshot/format.ts';

const GENRES = ['Action', 'Romance', 'Comedy', 'Horror', 'Fantasy', 'Drama'];
const cfg: SerendipityConfig = { ...defaultConfig.ranker.serendipity };

/** A random catalog of `n` titles with one or two genres each, a reader, and random accuracy scores. */
function world(seed: number, n = 120): SerendipityInput {
  const random = rng(seed);
  const items = Array.from({ length: n }, () => {
    const a = Math.floor(random() * GENRES.length);
    const b = Math.floor(random() * GENRES.length);
    return { genres: random() < 0.4 && a !== b ? [GENRES[a], GENRES[b]] : [GENRES[a]] };
  });
  const genre = genreSpace(items, GENRES);
  // Readers of the community: each uses titles of two genres (which genres go together).
  const readers = Array.from({ length: 60 }, () => Array.from({ length: 8 }, () => Math.floor(random() * n)));
  const history = Array.from({ length: 10 }, () => Math.floor(random() * n));
  const candidates = new Uint8Array(n).fill(1);
  for (const h of history) candidates[h] = 0;
  const sim = historySimilarity(genre, history);
  // Accuracy favours the reader's genres, as a real ranker does, plus noise.
  const scores = Float32Array.from(sim, (s) => s + random());
  return { scores, candidates, history, genre, categorySimilarity: categorySimilarity(readers, itemCategories(genre), GENRES.length), popularity: Array.from({ length: n }, () => random()) };
}

const meanSimilarity = (input: SerendipityInput, order: number[]) => {
  const sim = historySimilarity(input.genre, input.history);
  return order.reduce((a, i) => a + sim[i], 0) / order.length;
};

describe('serendipity (rank/serendipity.ts)', () => {
  it('at level 0 is the accuracy ranking, candidates only', () => {
    const input = world(1);
    const { order, surprises } = serendipitousRanking(input, 0, 10, cfg, 3);
    expect(order).toEqual(topK(input.scores, 10, input.candidates));
    expect(surprises.size).toBe(0);
  });

  it('fills slot r with the best discount·relevance − price·similarity + bonus·[pool]', () => {
    const input = world(2);
    const level = 0.6, strength = 3;
    const { order } = serendipitousRanking(input, level, 10, cfg, strength);
    const z = standardise(Float32Array.from(input.scores), input.candidates);
    const sim = historySimilarity(input.genre, input.history);
    const pool = serendipityPool(input, topK(input.scores, 400, input.candidates), cfg);
    const left = new Set([...input.candidates.keys()].filter((i) => input.candidates[i]));
    order.forEach((picked, r) => {
      const value = (i: number) => z[i] / Math.log2(r + 2) - level * strength * sim[i] + (pool.has(i) ? level * cfg.bonus : 0);
      for (const i of left) expect(value(picked)).toBeGreaterThanOrEqual(value(i) - 1e-6);
      left.delete(picked);
    });
    expect(new Set(order).size).toBe(order.length);
    for (const i of order) expect(input.candidates[i]).toBe(1);
  });

  it('lowers the list’s similarity to the history as the level rises, and costs relevance for it', () => {
    for (const seed of [3, 4, 5, 6]) {
      const input = world(seed);
      const lists = [0, 0.25, 0.5, 0.75, 1].map((level) => serendipitousRanking(input, level, 10, cfg, 4).order);
      const sims = lists.map((o) => meanSimilarity(input, o));
      for (let i = 1; i < sims.length; i++) expect(sims[i]).toBeLessThanOrEqual(sims[i - 1] + 1e-9);
      expect(sims.at(-1)!).toBeLessThan(sims[0]);
      const relevance = (o: number[]) => o.reduce((a, i) => a + input.scores[i], 0);
      expect(relevance(lists.at(-1)!)).toBeLessThan(relevance(lists[0]));
    }
  });

  it('marks titles from the pool: popular unseen titles of categories that go with the top picks’ ones', () => {
    const input = world(7);
    const names = GENRES;
    const top = topK(input.scores, cfg.basis, input.candidates);
    const topCategories = new Set(top.flatMap((i) => itemCategories(input.genre)[i]).map((c) => names[c]));
    const pool = serendipityPool(input, top, cfg);
    expect(pool.size).toBeGreaterThan(0);
    for (const [i, s] of pool) {
      expect(input.candidates[i]).toBe(1);
      expect(topCategories.has(s.similarTo)).toBe(true);
      expect(topCategories.has(s.category)).toBe(false);
      expect(itemCategories(input.genre)[i].map((c) => names[c])).toContain(s.category);
    }
    const { surprises } = serendipitousRanking(input, 1, 20, cfg, 4);
    for (const [i, s] of surprises) expect(pool.get(i)).toEqual(s);
  });

  it('co-labelling similarity (no community) is categorySimilarity with each title its own reader', () => {
    const { genre } = world(4, 300);
    const cats = itemCategories(genre);
    const n = cats.length;
    expect(Array.from(coLabelSimilarity(cats, GENRES.length))).toEqual(Array.from(categorySimilarity(Array.from({ length: n }, (_, i) => [i]), cats, GENRES.length)));
  });

  it("lists each title's categories, one shared list per combination, for genre spaces of any width", () => {
    // Up to 60 categories: past 52 a combination's key is text, not a sum of powers of two.
    const space = fc.integer({ min: 1, max: 60 }).chain((dim) =>
      fc.array(fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.constant(-0), fc.constant(1), fc.double({ noNaN: true })), { minLength: dim, maxLength: dim }), { maxLength: 40 }).map((rows) => ({ dim, rows })),
    );
    fc.assert(
      fc.property(space, ({ dim, rows }) => {
        const genre: Space = { name: 'genre', dim, data: Float32Array.from(rows.flat()), normalized: false, encoder: { name: 'test', version: 1 } };
        const table = itemCategories(genre);
        const expected = Array.from(genre.data).reduce<number[][]>((out, x, k) => {
          if (k % dim === 0) out.push([]);
          if (x !== 0) out[out.length - 1].push(k % dim);
          return out;
        }, []);
        expect(table.map((c) => [...c])).toEqual(expected);
        for (let i = 0; i < table.length; i++) for (let j = 0; j < i; j++) expect(table[i] === table[j]).toBe(expected[i].join() === expected[j].join());
      }),
      { numRuns: 300 },
    );
  });

  it('co-labels as if every title were a reader of its own categories, whether titles share their lists or not', () => {
    const lists = fc.integer({ min: 1, max: 8 }).chain((categories) =>
      fc.record({
        categories: fc.constant(categories),
        combos: fc.array(fc.uniqueArray(fc.nat({ max: categories - 1 }), { maxLength: categories }), { minLength: 1, maxLength: 5 }),
        picks: fc.array(fc.record({ combo: fc.nat(), copy: fc.boolean() }), { maxLength: 60 }),
      }),
    );
    fc.assert(
      fc.property(lists, ({ categories, combos, picks }) => {
        // A copy is a list equal to a shared one but not the same array (a table made some other way).
        const cats = picks.map(({ combo, copy }) => (copy ? [...combos[combo % combos.length]] : combos[combo % combos.length]));
        const own = cats.map((_, i) => [i]);
        expect(Array.from(coLabelSimilarity(cats, categories))).toEqual(Array.from(categorySimilarity(own, cats, categories)));
      }),
      { numRuns: 300 },
    );
  });

  it('measures a few rows exactly as the whole catalog (what the shortlist reads)', () => {
    const w = world(11);
    const rows = [5, 0, 77, 119, 42];
    const all = historySimilarity(w.genre, w.history);
    expect(Array.from(historySimilarity(w.genre, w.history, rows))).toEqual(rows.map((i) => all[i]));
    const z = standardise(Float32Array.from(w.scores), w.candidates);
    expect(Array.from(standardisedRows(w.scores, w.candidates, rows))).toEqual(rows.map((i) => z[i]));
  });

  it('refuses a level outside [0, 1]', () => {
    expect(() => serendipitousRanking(world(8), 1.5, 10, cfg)).toThrow(RangeError);
  });
});

describe('the serendipity price learned on validation readers (rank/tune.ts)', () => {
  it('is higher for a larger reduction, and zero reduction costs nothing', async () => {
    const { temporalSplit } = await import('../../src/core/split.ts');
    const { contentCatalog } = await import('../../src/core/eval/methods/toonpick.ts');
    const { fitCommunityRanker } = await import('../../src/core/rank/tune.ts');
    const { worldInteractions, worldItems } = await import('./helpers/rank-world.ts');
    const { train } = temporalSplit(worldItems(), worldInteractions());
    const ranker = defaultConfig.ranker;
    const { validation, learned } = fitCommunityRanker(train, contentCatalog(train), ranker);
    expect(validation.readers.length).toBeGreaterThan(50);
    const strength = (reduction: number) => validation.serendipityStrength(learned!.weights, learned!.temperature, { ...ranker.serendipity, reduction })!;
    const [low, mid, high] = [0.1, 0.2, 0.4].map(strength);
    expect(low).toBeGreaterThan(0);
    expect(mid).toBeGreaterThanOrEqual(low);
    expect(high).toBeGreaterThan(low);
    expect(learned!.strength).toBeCloseTo(strength(ranker.serendipity.reduction), 6);
    expect(strength(0)).toBeLessThan(0.05 * ranker.serendipity.strength);
  });
});
