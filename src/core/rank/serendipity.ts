/**
 * Serendipity (seed 003): surprise the reader without losing them.
 *
 * 1. Categories are vectors of co-usage counts (how many titles of each category each reader used); their cosine
 *    says which categories go together (`categorySimilarity`, from the community, or from the catalog's own
 *    genre co-labelling when there are no community histories).
 * 2. The `from` most frequent categories of the accuracy top `basis` each bring their `similar` most similar
 *    categories not already in that top list; the `pool` most popular unseen titles of those categories are the
 *    serendipitous candidates.
 * 3. At level s the list is filled slot by slot; slot r (0-based) takes the remaining title with the best
 *      relevance / log2(r + 2) − s·strength·similarity + s·bonus·[in the pool]
 *    where relevance is the accuracy score standardised over the candidates and similarity the title's mean
 *    genre cosine to the titles read (the evaluation's unserendipity, per title). This is the Lagrangian of
 *    "most NDCG for this much less similarity": the discount keeps the top slots for the surest titles, and one
 *    price per catalog (`strength`, calibrated for each catalog by rank/calibrate.ts) spends the surprise on the
 *    readers and slots where it costs least. Level 0 is the accuracy ranking unchanged.
 */
import type { SerendipityConfig } from '../config.ts';
import type { Space } from '../snapshot/format.ts';
import { standardisedRows } from './signals.ts';
import { topK } from '../math/top-k.ts';
import { runSteps } from '../steps.ts';

export interface Surprise {
  /** The similar category the title was drawn from… */
  category: string;
  /** …because readers of this category of the reader's top picks also read it. */
  similarTo: string;
  /** Co-usage cosine of the two categories. */
  similarity: number;
  /** Where that co-usage comes from: the community's readers, or the catalog's own genre co-labelling. */
  basis: 'community' | 'catalog';
}

export interface SerendipityInput {
  /** Accuracy scores of every title (higher = better) and which titles may be recommended. */
  scores: Float32Array;
  candidates: Uint8Array;
  /** Catalog rows the reader has consumed (the history that "similar" is measured against). */
  history: readonly number[];
  genre: Space;
  categorySimilarity: Float32Array;
  /** `community` when categorySimilarity comes from readers' co-usage, `catalog` from titles' co-labelling. */
  categoryBasis?: 'community' | 'catalog';
  popularity: ArrayLike<number>;
}


/** The genre space's vocabulary (category names, in the order of its dimensions). */
export function categoryNames(genre: Space): string[] {
  const v = genre.encoder.params?.vocabulary;
  return Array.isArray(v) ? (v as string[]) : Array.from({ length: genre.dim }, (_, i) => `#${i}`);
}

/**
 * Categories of each title: the non-zero dimensions of its genre row. Built once per genre space (per snapshot);
 * titles with the same categories share one list (a catalog has few combinations: 28 in 100k synthetic titles).
 */
const categoriesOf = new WeakMap<Space, readonly number[][]>();
export function itemCategories(genre: Space): readonly number[][] {
  return categoriesOf.get(genre) ?? runSteps(itemCategoriesSteps(genre, Infinity));
}

/**
 * itemCategories `rowsPerStep` titles at a time, yielding between them (at 100k titles the whole table was one task
 * of ~80 ms in a slow Chromium, most of it allocation and its garbage collection; an array per title held 8.5 MB).
 */
export function* itemCategoriesSteps(genre: Space, rowsPerStep: number): Generator<void, readonly number[][]> {
  const done = categoriesOf.get(genre);
  if (done) return done;
  const n = genre.data.length / genre.dim;
  const table: number[][] = new Array<number[]>(n);
  const shared = new Map<number | string, number[]>();
  // A row's categories as a key: a sum of powers of two where every one is exact in a double (52 categories or
  // fewer, as a catalog's genres are), else their list as text; no string is made per title in the first case.
  const exact = genre.dim <= 52;
  const { data, dim } = genre;
  for (let i = 0; i < n; i++) {
    if (i > 0 && i % rowsPerStep === 0) yield;
    const o = i * dim;
    let key: number | string;
    if (exact) {
      let bits = 0;
      for (let c = 0; c < dim; c++) if (data[o + c] !== 0) bits += 2 ** c;
      key = bits;
    } else {
      let text = '';
      for (let c = 0; c < dim; c++) if (data[o + c] !== 0) text += `${c},`;
      key = text;
    }
    let cats = shared.get(key);
    if (!cats) {
      cats = [];
      for (let c = 0; c < dim; c++) if (data[o + c] !== 0) cats.push(c);
      shared.set(key, cats);
    }
    table[i] = cats;
  }
  const kept = categoriesOf.get(genre) ?? table; // made meanwhile by a call that did not wait
  categoriesOf.set(genre, kept);
  return kept;
}

/** The serendipitous pool of step 2: title → why it is in it. */
export function serendipityPool(input: SerendipityInput, top: readonly number[], cfg: SerendipityConfig): Map<number, Surprise> {
  const { genre, categorySimilarity: sim } = input;
  const C = genre.dim;
  const names = categoryNames(genre);
  const cats = itemCategories(genre);
  const freq = new Float64Array(C);
  for (const i of top.slice(0, cfg.basis)) for (const c of cats[i]) freq[c]++;
  const present = (c: number) => freq[c] > 0;
  const from = [...Array(C).keys()].filter(present).sort((a, b) => freq[b] - freq[a] || a - b).slice(0, cfg.from);
  // similar category → the top category it came from (the first, i.e. most frequent, one wins)
  const similar = new Map<number, { similarTo: number; similarity: number }>();
  for (const f of from) {
    const order = [...Array(C).keys()].filter((c) => c !== f && !present(c) && sim[f * C + c] > 0).sort((a, b) => sim[f * C + b] - sim[f * C + a] || a - b);
    for (const c of order.slice(0, cfg.similar)) if (!similar.has(c)) similar.set(c, { similarTo: f, similarity: sim[f * C + c] });
  }
  const pool = new Map<number, Surprise>();
  if (similar.size === 0) return pool;
  // Straight from the genre rows (a title has a category where its row is non-zero, as in itemCategories):
  // this visits every title of the catalog.
  const simCats = Int32Array.from(similar.keys());
  const members = new Uint8Array(cats.length);
  for (let i = 0; i < cats.length; i++) {
    if (!input.candidates[i]) continue;
    for (let q = 0; q < simCats.length; q++) {
      if (genre.data[i * C + simCats[q]] !== 0) {
        members[i] = 1;
        break;
      }
    }
  }
  // The most popular members, ties by row: a bounded top-k, not a sort of every member.
  for (const i of topK(input.popularity, cfg.pool, members)) {
    const c = cats[i].filter((x) => similar.has(x)).sort((a, b) => similar.get(b)!.similarity - similar.get(a)!.similarity)[0];
    const s = similar.get(c)!;
    pool.set(i, { category: names[c], similarTo: names[s.similarTo], similarity: s.similarity, basis: input.categoryBasis ?? 'community' });
  }
  return pool;
}

/**
 * Mean genre cosine to the reader's history (0 when the history has no genres) of every title, or of `rows`
 * only (one value per row given).
 */
export function historySimilarity(genre: Space, history: readonly number[], rows?: readonly number[]): Float32Array {
  const mean = new Float32Array(genre.dim);
  for (const h of history) for (let d = 0; d < genre.dim; d++) mean[d] += genre.data[h * genre.dim + d];
  if (history.length) for (let d = 0; d < genre.dim; d++) mean[d] /= history.length;
  const n = rows ? rows.length : genre.data.length / genre.dim;
  const out = new Float32Array(n);
  for (let p = 0; p < n; p++) {
    const i = rows ? rows[p] : p;
    let s = 0;
    for (let d = 0; d < genre.dim; d++) s += genre.data[i * genre.dim + d] * mean[d];
    out[p] = s;
  }
  return out;
}

/** A serendipitous ranking: the list and the titles in it that came from the serendipitous pool (and why). */
export interface SerendipitousList {
  order: number[];
  surprises: Map<number, Surprise>;
  /**
   * Titles outside the pool that the similarity price brought in (the accuracy list of the same length does not
   * have them): surprises too, because they are unlike what the reader has read.
   */
  departures: Set<number>;
}

/**
 * Everything about one reader's serendipitous ranking that does not depend on the level or the price of
 * similarity: the accuracy list, the pool, relevance and similarity. The Surprise slider and rank/tune.ts
 * re-rank from it without scanning the catalog again (`rank(level, strength)` only reorders the shortlist).
 */
export interface SerendipityBase {
  rank(level: number, strength: number): SerendipitousList;
  /** Builds what a level above 0 needs, in steps (yielding between them), so that `rank` then only reorders. */
  prepare(): Generator<void, void>;
}

export function serendipityBase(input: SerendipityInput, depth: number, cfg: SerendipityConfig): SerendipityBase {
  const accuracy = topK(input.scores, Math.max(depth, cfg.basis) + cfg.shortlist, input.candidates);
  let rest: { pool: Map<number, Surprise>; relevance: Float32Array; similarity: Float32Array; shortlist: number[] } | undefined;
  // Built on the first level above 0: a reader who never moves the slider off 0 never pays for it. In steps, the
  // pool and the relevance each a walk over the catalog (at 100k titles one task of all was ~70 ms in a slow Chromium).
  function* restSteps() {
    const pool = serendipityPool(input, accuracy, cfg);
    yield;
    const shortlist = [...accuracy];
    const inList = new Set(accuracy);
    for (const i of pool.keys()) if (!inList.has(i)) shortlist.push(i);
    // Relevance and similarity of the shortlist alone (by position in it): nothing else is ever ranked.
    const relevance = standardisedRows(input.scores, input.candidates, shortlist);
    yield;
    rest ??= { pool, relevance, similarity: historySimilarity(input.genre, input.history, shortlist), shortlist };
  }
  const lazy = () => {
    if (!rest) runSteps(restSteps());
    return rest!;
  };
  const expected = new Set(accuracy.slice(0, depth));
  return {
    *prepare() {
      if (!rest) yield* restSteps();
    },
    rank(level: number, strength: number): SerendipitousList {
      if (!(level >= 0 && level <= 1)) throw new RangeError(`serendipity must be in [0, 1], got ${level}`);
      if (level === 0) return { order: accuracy.slice(0, depth), surprises: new Map(), departures: new Set() };
      const { pool, relevance, similarity, shortlist } = lazy();
      const price = level * strength;
      const bonus = level * cfg.bonus;
      // Positions in the shortlist.
      const left = shortlist.map((_, p) => p);
      // Relevance weighs less in lower slots (NDCG's discount); the similarity price and the bonus do not.
      const flat = left.map((p) => -price * similarity[p] + (pool.has(shortlist[p]) ? bonus : 0));
      const order: number[] = [];
      for (let r = 0; r < depth && left.length; r++) {
        const discount = 1 / Math.log2(r + 2);
        let best = 0, bestScore = -Infinity;
        for (let p = 0; p < left.length; p++) {
          const v = discount * relevance[left[p]] + flat[p];
          if (v > bestScore) {
            bestScore = v;
            best = p;
          }
        }
        order.push(shortlist[left.splice(best, 1)[0]]);
        flat.splice(best, 1);
      }
      const surprises = new Map<number, Surprise>();
      const departures = new Set<number>();
      for (const i of order) {
        if (pool.has(i)) surprises.set(i, pool.get(i)!);
        else if (!expected.has(i)) departures.add(i);
      }
      return { order, surprises, departures };
    },
  };
}

/** serendipityBase at one level: what rank/calibrate.ts prices many strengths with. */
export function serendipityPlan(input: SerendipityInput, level: number, depth: number, cfg: SerendipityConfig): { rank(strength: number): SerendipitousList } {
  if (!(level >= 0 && level <= 1)) throw new RangeError(`serendipity must be in [0, 1], got ${level}`);
  const base = serendipityBase(input, depth, cfg);
  return { rank: (strength) => base.rank(level, strength) };
}

/**
 * The ranking at serendipity `level` ∈ [0, 1], `depth` titles long. `strength` is the price of similarity at
 * level 1 (rank/tune.ts learns it per catalog).
 */
export function serendipitousRanking(input: SerendipityInput, level: number, depth: number, cfg: SerendipityConfig, strength = cfg.strength): SerendipitousList {
  return serendipityPlan(input, level, depth, cfg).rank(strength);
}
