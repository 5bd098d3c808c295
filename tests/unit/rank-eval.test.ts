import { describe, it, expect, beforeAll } from 'vitest';
import { evaluate, type EvalReport } from '../../src/core/eval/harness.ts';
import { createMethod, METHODS } from '../../src/core/eval/methods/index.ts';
import { TOONPICK_VARIANTS } from '../../src/core/eval/methods/toonpick.ts';
import { temporalSplit } from '../../src/core/split.ts';
import { worldInteractions, worldItems } from './helpers/rank-world.ts';

const split = temporalSplit(worldItems(), worldInteractions());
const names = ['popular', 'toonpick', 'toonpick-serendipity', 'toonpick-no-cf', 'toonpick-no-seq', 'toonpick-no-fusion'];
let report: EvalReport;

beforeAll(async () => {
  report = (await evaluate(split, names.map((n) => createMethod(n, { seed: 7 })), { ks: [10] }))[0];
}, 120_000);

describe('toonpick in the evaluation harness', () => {
  it('registers the ranker and its ablations', () => {
    for (const v of TOONPICK_VARIANTS) expect(METHODS[v.name]).toBeDefined();
    expect(Object.keys(METHODS)).toEqual(expect.arrayContaining(['toonpick', 'toonpick-serendipity', 'toonpick-no-text', 'toonpick-no-style', 'toonpick-no-cf', 'toonpick-no-seq', 'toonpick-no-fusion']));
  });

  it('learns the reading cycle far better than popularity', () => {
    expect(report.methods.toonpick.ndcg).toBeGreaterThan(2 * report.methods.popular.ndcg);
    expect(report.methods['toonpick-no-seq'].ndcg).toBeGreaterThan(report.methods.popular.ndcg);
  });

  it('trades accuracy for surprise at the default serendipity', () => {
    expect(report.methods['toonpick-serendipity'].unserendipity).toBeLessThan(report.methods.toonpick.unserendipity);
  });

  it('is deterministic for a fixed seed (a fresh fit gives the same report)', async () => {
    const fresh = temporalSplit(worldItems(), worldInteractions());
    const again = (await evaluate(fresh, ['toonpick', 'toonpick-no-cf'].map((n) => createMethod(n, { seed: 7 })), { ks: [10] }))[0];
    expect(again.methods.toonpick).toEqual(report.methods.toonpick);
    expect(again.methods['toonpick-no-cf']).toEqual(report.methods['toonpick-no-cf']);
  }, 120_000);
});
