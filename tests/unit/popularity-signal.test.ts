import { describe, it, expect } from 'vitest';
import { defaultConfig } from '../../src/core/config.ts';
import { rng } from '../../src/core/random.ts';
import type { Interaction } from '../../src/core/source.ts';
import { temporalSplit } from '../../src/core/split.ts';
import { contentCatalog } from '../../src/core/eval/methods/toonpick.ts';
import { carveValidation, communityOf, fitCommunityRanker } from '../../src/core/rank/tune.ts';
import { availableSpaces } from '../../src/core/rank/signal/index.ts';
import { popularityScores, popularitySignal } from '../../src/core/rank/signal/popularity.ts';
import { readingsFromHistory } from '../../src/core/rank/reader.ts';
import { buildSnapshot, serializeSnapshot } from '../../src/core/snapshot/build.ts';
import { loadSnapshot } from '../../src/core/snapshot/load.ts';
import { DataError } from '../../src/core/errors.ts';
import { worldItems } from './helpers/rank-world.ts';

/** The ranker's settings with the sparse community model at any size (what a catalog above denseUpTo gets). */
const sparse = { ...defaultConfig.ranker, community: { ...defaultConfig.ranker.community, denseUpTo: 0 } };
const opts = { halfLifeShare: 0.3, ratingWeight: 0.5 };

/** Readers who follow the crowd: each reads 6–10 titles drawn by a power law over a fixed popularity order. */
function crowdInteractions(readers = 300, seed = 5): Interaction[] {
  const random = rng(seed);
  const items = worldItems();
  const order = items.map((_, i) => (i * 17) % items.length);
  const out: Interaction[] = [];
  for (let u = 0; u < readers; u++) {
    const seen = new Set<number>();
    const length = 6 + Math.floor(random() * 5);
    while (seen.size < length) seen.add(order[Math.floor(items.length * random() ** 3)]);
    let t = 1_000_000 + u * 10_000;
    for (const i of seen) out.push({ user: `u${u}`, item: items[i].id, rating: 4, timestamp: (t += 1 + Math.floor(random() * 100)) });
  }
  return out;
}

describe('the popularity signal (rank/signal/popularity.ts)', () => {
  it('scores by reader count, ties alike, and the same from counts, shares or percentiles', () => {
    const counts = [5, 0, 12, 5, 1, 0, 40];
    const s = popularityScores(counts);
    expect(s[6]).toBeGreaterThan(s[2]);
    expect(s[2]).toBeGreaterThan(s[0]);
    expect(s[0]).toBe(s[3]);
    expect(s[1]).toBe(s[5]);
    expect(s[4]).toBeGreaterThan(s[1]);
    // What a snapshot stores is the titles' popularity percentile, what a fit has its counts: the same scores.
    const percentile = counts.map((c) => counts.filter((d) => d < c).length / counts.length);
    expect(Array.from(popularityScores(percentile))).toEqual(Array.from(s));
    expect(Array.from(popularityScores(counts.map((c) => c / 40)))).toEqual(Array.from(s));
  });

  it('exists only with the sparse community model', () => {
    const { train } = temporalSplit(worldItems(), crowdInteractions());
    const content = contentCatalog(train);
    expect(availableSpaces(content)).not.toContain('popularity');
    const dense = communityOf(train, content, defaultConfig.ranker);
    expect(dense.sparse).toBeUndefined();
    expect(availableSpaces({ ...content, community: dense })).not.toContain('popularity');
    const readings = readingsFromHistory([{ id: 't1', readAt: 1, likedAt: 1 }], content.indexOf, defaultConfig.ranker);
    expect(popularitySignal.scores({ ...content, community: dense }, readings, defaultConfig.ranker, opts)).toBeUndefined();
    const community = communityOf(train, content, sparse);
    expect(community.sparse).toBe(true);
    expect(availableSpaces({ ...content, community })).toContain('popularity');
  });

  it('gives a loaded snapshot the scores its builder tuned with', async () => {
    const built = buildSnapshot({ name: 'crowd', items: worldItems(), interactions: crowdInteractions(), builtAt: new Date(0), ranker: sparse });
    expect(built.community!.sparse).toBe(true);
    expect(Object.keys(built.community!.learned!.weights)).toContain('popularity');
    const files = await serializeSnapshot(built);
    const loaded = await loadSnapshot(async (p) => {
      const b = files.get(p);
      if (!b) throw new DataError(p, 'is missing');
      return b;
    });
    expect(loaded.community!.sparse).toBe(true);
    expect(loaded.community!.readers).toBeUndefined();
    const readings = readingsFromHistory([{ id: 't1', readAt: 1, likedAt: 1 }], loaded.indexOf, sparse);
    // Counted from the interactions by the builder, from the titles' stored popularity after loading.
    expect(Array.from(popularitySignal.scores(loaded, readings, sparse, opts)!)).toEqual(Array.from(popularitySignal.scores(built, readings, sparse, opts)!));
    // A dense model's snapshot has none.
    const dense = await serializeSnapshot(buildSnapshot({ name: 'crowd', items: worldItems(), interactions: crowdInteractions(), builtAt: new Date(0), ranker: defaultConfig.ranker }));
    const again = await loadSnapshot(async (p) => dense.get(p)!);
    expect(again.community!.sparse).toBeUndefined();
    expect(Object.keys(again.community!.learned!.weights)).not.toContain('popularity');
  });

  it('is counted on the validation carve without its held-out titles, and learned where readers follow the crowd', () => {
    const { train } = temporalSplit(worldItems(), crowdInteractions());
    const carve = carveValidation(train);
    const inner = communityOf(carve.train, contentCatalog(carve.train), sparse);
    const expected = new Float32Array(train.items.length);
    for (const u of carve.train.users) for (const i of u.seen) expected[i]++;
    expect(Array.from(inner.readers!)).toEqual(Array.from(expected));
    const all = communityOf(train, contentCatalog(train), sparse);
    // The held-out titles are not counted: the carve's readers read fewer.
    expect(inner.readers!.reduce((a, b) => a + b, 0)).toBeLessThan(all.readers!.reduce((a, b) => a + b, 0));

    const { validation, learned } = fitCommunityRanker(train, contentCatalog(train), sparse);
    expect(learned!.weights.popularity).toBeGreaterThan(0);
    const without = validation.learn(Object.keys(learned!.weights).filter((s) => s !== 'popularity'), true);
    expect(learned!.validation.ndcg).toBeGreaterThan(without.validation.ndcg);
  });
});
