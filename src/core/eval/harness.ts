/**
 * The offline evaluation harness: fits each method once on the split's visible data, ranks the full catalog
 * minus the training history for every evaluated user, and averages the metrics of evaluation.md over them.
 * Several K are measured from one scoring pass (the ranking at K=20 starts with the one at K=10).
 */
import { normalize } from '../vectors.ts';
import type { SourceItem } from '../source.ts';
import type { EvalSplit } from '../split.ts';
import type { EvalMethod } from './methods/types.ts';
import { averagePrecision, coverage, hitRate, ndcg, novelty, precision, recall, unserendipity } from '../math/metrics.ts';
import { topK, without } from '../math/top-k.ts';
import { itemPopularity } from './methods/popular.ts';

/** Averages for one method at one K. Extra similarity spaces add `unserendipity_<space>` keys. */
export interface MethodMetrics {
  hr: number;
  precision: number;
  recall: number;
  ndcg: number;
  map: number;
  coverage: number;
  novelty: number;
  /** Over the L2-normalised genre multi-hot. */
  unserendipity: number;
  [extra: `unserendipity_${string}`]: number;
}

/** One K: exactly the JSON shape `npm run eval -- --json` writes. */
export interface EvalReport {
  k: number;
  users: number;
  methods: Record<string, MethodMetrics>;
}

/** Item vectors of one similarity space: row i belongs to catalog item i. Need not be normalised. */
export interface VectorSpace {
  dim: number;
  vectors: Float32Array | Float64Array;
}

export interface EvalProgress {
  method: string;
  phase: 'fit' | 'score';
  /** Users scored so far (0 during fit). */
  done: number;
  total: number;
}

export interface EvalOptions {
  /** Cut-offs to report, e.g. [10, 20]. */
  ks: readonly number[];
  /** Extra unserendipity spaces by name, e.g. { text: synopsis embeddings } → `unserendipity_text`. */
  spaces?: Readonly<Record<string, VectorSpace>>;
  onProgress?: (p: EvalProgress) => void;
  /** How many users between progress calls while scoring (default 100). */
  progressEvery?: number;
}

/** L2-normalised genre multi-hot, one row per catalog item; genres in first-seen order. */
export function genreSpace(items: readonly SourceItem[]): VectorSpace {
  const ids = new Map<string, number>();
  for (const it of items) for (const g of it.genres) if (!ids.has(g)) ids.set(g, ids.size);
  const dim = Math.max(1, ids.size);
  const vectors = new Float64Array(items.length * dim);
  items.forEach((it, i) => {
    for (const g of it.genres) vectors[i * dim + ids.get(g)!] = 1;
    normalize(vectors.subarray(i * dim, (i + 1) * dim));
  });
  return { dim, vectors };
}

/** A normalised Float64 copy, so the metric's cosine = dot holds whatever the caller passed. */
function normalizedSpace(space: VectorSpace, items: number): VectorSpace {
  if (space.vectors.length !== items * space.dim)
    throw new Error(`vector space has ${space.vectors.length} values, expected ${items} items × ${space.dim}`);
  const vectors = Float64Array.from(space.vectors);
  for (let i = 0; i < items; i++) normalize(vectors.subarray(i * space.dim, (i + 1) * space.dim));
  return { dim: space.dim, vectors };
}

/** All metrics for every method at every K in `options.ks`, averaged over the split's evaluated users. */
export async function evaluate(split: EvalSplit, methods: readonly EvalMethod[], options: EvalOptions): Promise<EvalReport[]> {
  const { train, evaluated } = split;
  const nItems = train.items.length;
  const ks = [...options.ks];
  if (ks.length === 0 || ks.some((k) => !Number.isInteger(k) || k < 1)) throw new Error(`K must be positive integers, got ${ks.join(', ')}`);
  if (evaluated.length === 0) throw new Error('no user has enough positives to be evaluated');
  const names = new Set<string>();
  for (const m of methods) {
    if (names.has(m.name)) throw new Error(`method "${m.name}" given twice`);
    names.add(m.name);
  }
  const maxK = Math.max(...ks);
  const every = options.progressEvery ?? 100;

  const spaces: [string, VectorSpace][] = [['unserendipity', genreSpace(train.items)]];
  for (const [name, space] of Object.entries(options.spaces ?? {})) spaces.push([`unserendipity_${name}`, normalizedSpace(space, nItems)]);
  // Novelty's popularity: training interactions per item (the binary matrix's column sums) over all matrix users.
  const popularity = itemPopularity(train);
  const tests = evaluated.map((e) => new Set(e.test));

  const reports: EvalReport[] = ks.map((k) => ({ k, users: evaluated.length, methods: {} }));
  const scores = new Float64Array(nItems);
  for (const method of methods) {
    options.onProgress?.({ method: method.name, phase: 'fit', done: 0, total: evaluated.length });
    await method.fit(train);

    // Per K: running sums of the per-user metrics, and the union of recommended items for coverage.
    const sums = ks.map(() => new Map<string, number>());
    const recommended = ks.map(() => new Set<number>());
    const add = (ki: number, key: string, v: number) => sums[ki].set(key, (sums[ki].get(key) ?? 0) + v);

    for (let u = 0; u < evaluated.length; u++) {
      const { user } = evaluated[u];
      scores.fill(0);
      method.score(user, scores);
      const ranked = Int32Array.from(topK(scores, maxK, without(scores.length, user.seen)));
      ks.forEach((k, ki) => {
        const rec = ranked.subarray(0, k);
        const test = tests[u];
        add(ki, 'hr', hitRate(rec, test, k));
        add(ki, 'precision', precision(rec, test, k));
        add(ki, 'recall', recall(rec, test, k));
        add(ki, 'ndcg', ndcg(rec, test, k));
        add(ki, 'map', averagePrecision(rec, test, k));
        add(ki, 'novelty', novelty(rec, popularity, train.matrix.users));
        for (const [key, space] of spaces) add(ki, key, unserendipity(rec, user.seen, space.vectors, space.dim));
        for (const i of rec) recommended[ki].add(i);
      });
      if ((u + 1) % every === 0 || u + 1 === evaluated.length)
        options.onProgress?.({ method: method.name, phase: 'score', done: u + 1, total: evaluated.length });
    }

    ks.forEach((_, ki) => {
      const mean = (key: string) => (sums[ki].get(key) ?? 0) / evaluated.length;
      const row: MethodMetrics = {
        hr: mean('hr'),
        precision: mean('precision'),
        recall: mean('recall'),
        ndcg: mean('ndcg'),
        map: mean('map'),
        coverage: coverage([[...recommended[ki]]], nItems),
        novelty: mean('novelty'),
        unserendipity: mean('unserendipity'),
      };
      for (const [key] of spaces.slice(1)) row[key as `unserendipity_${string}`] = mean(key);
      reports[ki].methods[method.name] = row;
    });
  }
  return reports;
}
