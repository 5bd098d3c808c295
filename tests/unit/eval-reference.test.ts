/**
 * Reproduces the reference table of shared/design/evaluation.md on MovieLens 100K, read in place from
 * ../shared/data (never copied into the repository). One split and one fit per method, shared by all checks.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { sharedData } from './helpers/paths.ts';
import { parseCatalogJsonl, parseInteractionsCsv } from '../../src/core/source.ts';
import { temporalSplit, type EvalSplit } from '../../src/core/split.ts';
import { evaluate, type EvalReport, type MethodMetrics } from '../../src/core/eval/harness.ts';
import { createMethod, REFERENCE_METHODS } from '../../src/core/eval/methods/index.ts';

const dir = path.resolve(sharedData, 'movielens-100k');

// evaluation.md, "Reference numbers", K = 10.
const REFERENCE: Record<string, Omit<MethodMetrics, `unserendipity_${string}`>> = {
  random: { hr: 0.0746, precision: 0.0076, recall: 0.0098, ndcg: 0.0081, map: 0.0025, coverage: 0.9958, novelty: 6.22, unserendipity: 0.2265 },
  popular: { hr: 0.4392, precision: 0.0729, recall: 0.1011, ndcg: 0.0919, map: 0.0417, coverage: 0.0416, novelty: 1.31, unserendipity: 0.2262 },
  itemknn: { hr: 0.6301, precision: 0.1251, recall: 0.1898, ndcg: 0.1694, map: 0.0886, coverage: 0.1189, novelty: 1.8, unserendipity: 0.2438 },
  ease: { hr: 0.6429, precision: 0.1322, recall: 0.1988, ndcg: 0.1791, map: 0.0951, coverage: 0.2325, novelty: 2.06, unserendipity: 0.2698 },
};

let split: EvalSplit;
let k10: EvalReport;
let k20: EvalReport;

beforeAll(async () => {
  const items = parseCatalogJsonl(readFileSync(path.join(dir, 'catalog.jsonl'), 'utf8'));
  const interactions = parseInteractionsCsv(readFileSync(path.join(dir, 'interactions.csv'), 'utf8'));
  split = temporalSplit(items, interactions);
  [k10, k20] = await evaluate(
    split,
    REFERENCE_METHODS.map((n) => createMethod(n, { seed: 42, lambda: 250 })),
    { ks: [10, 20] },
  );
}, 120_000);

describe('MovieLens 100K split', () => {
  it('evaluates 938 of 943 users and never shows a test item to a method', () => {
    expect(split.train.items).toHaveLength(1682);
    expect(split.train.users).toHaveLength(943);
    expect(split.evaluated).toHaveLength(938);
    expect(k10.users).toBe(938);
    for (const e of split.evaluated) {
      const col = split.train.matrix.itemUsers;
      for (const t of e.test) {
        expect(e.user.seen.includes(t)).toBe(false);
        expect(col[t].includes(e.user.row)).toBe(false);
      }
    }
  });
});

describe('reference methods reproduce evaluation.md at K = 10', () => {
  for (const name of ['popular', 'itemknn', 'ease'] as const) {
    it(name, () => {
      const got = k10.methods[name];
      const want = REFERENCE[name];
      for (const key of ['hr', 'precision', 'recall', 'ndcg', 'map', 'coverage', 'unserendipity'] as const)
        expect(Math.abs(got[key] - want[key]), `${name} ${key}: ${got[key]} vs ${want[key]}`).toBeLessThanOrEqual(0.002);
      // The table gives novelty to two decimals.
      expect(Math.abs(got.novelty - want.novelty), `${name} novelty ${got.novelty}`).toBeLessThanOrEqual(0.01);
    });
  }

  it('random matches only statistically (it is a different random stream)', () => {
    const r = k10.methods.random;
    // HR over 938 users with p ≈ 0.075 has a standard error ≈ 0.009: ±0.035 is almost 4 of them.
    expect(Math.abs(r.hr - REFERENCE.random.hr)).toBeLessThan(0.035);
    expect(r.ndcg).toBeLessThan(0.02);
    expect(r.coverage).toBeGreaterThan(0.98);
    expect(Math.abs(r.novelty - REFERENCE.random.novelty)).toBeLessThan(0.15);
    expect(Math.abs(r.unserendipity - REFERENCE.random.unserendipity)).toBeLessThan(0.01);
  });

  it('orders the methods as the table does on NDCG and MAP', () => {
    const m = k10.methods;
    for (const key of ['ndcg', 'map'] as const) {
      expect(m.random[key]).toBeLessThan(m.popular[key]);
      expect(m.popular[key]).toBeLessThan(m.itemknn[key]);
      expect(m.itemknn[key]).toBeLessThan(m.ease[key]);
    }
  });
});

describe('K = 20 from the same pass', () => {
  it('is consistent with K = 10 (a longer list of the same ranking)', () => {
    for (const name of REFERENCE_METHODS) {
      const a = k10.methods[name];
      const b = k20.methods[name];
      expect(b.hr).toBeGreaterThanOrEqual(a.hr);
      expect(b.recall).toBeGreaterThanOrEqual(a.recall);
      expect(b.coverage).toBeGreaterThanOrEqual(a.coverage);
      // Precision@20 · 20 counts at least the hits of the first 10.
      expect(b.precision * 20).toBeGreaterThanOrEqual(a.precision * 10 - 1e-9);
    }
  });
});
