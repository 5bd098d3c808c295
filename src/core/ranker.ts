/**
 * The Ranker: pure functions over a Catalog (a loaded snapshot) and the reader's history.
 *
 * "For you" scores every title in every space the catalog has — content spaces (profile per space from the
 * history, recency-weighted, dislikes negative), the community item-item model (`cf`) and the sequential
 * next-title model (`sequence`) when the snapshot was built from community interactions — standardises each
 * space's scores, and fuses them with per-reader weights (rank/fusion.ts). Serendipity (rank/serendipity.ts)
 * then mixes in titles from categories the reader's top picks point to. Every result says which spaces carried
 * it and which history titles are behind it; serendipitous ones say so and why.
 *
 * A catalog without interactions (the webtoon demo) has no `cf` and no `sequence`: the ranker then runs on the
 * content spaces and the reader's history alone.
 */
import type { RankerConfig } from './config.ts';
import { isConsumed, lastTouched, type HistoryEntry } from './history.ts';
import type { Space } from './snapshot/format.ts';
import { scanDot } from './vectors.ts';
import { categorySimilarity, strongestNeighbour, type WeightedRow } from './rank/community.ts';
import { attentionLogits, attentionSplit, fuse, readerWeights } from './rank/fusion.ts';
import { readingsFromHistory, signalWeight, type Reading } from './rank/reader.ts';
import { itemCategories, serendipitousRanking, type Surprise } from './rank/serendipity.ts';
import {
  CF_SPACE,
  SEQUENCE_SPACE,
  communityRows,
  contentRows,
  preferredSequence,
  profile,
  rankerSettings,
  readerSignals,
  sequenceKey,
  standardise,
  type Catalog,
  type ReaderSignals,
  type SequenceScores,
} from './rank/signals.ts';

export type { Catalog, SequenceScores } from './rank/signals.ts';
export { sequenceKey } from './rank/signals.ts';
export { profile } from './rank/signals.ts';
export { signalWeight } from './rank/reader.ts';

/** One history title as the content ranker sees it: a catalog row and a signed, recency-decayed weight. */
export type Signal = WeightedRow;

export interface Explanation {
  /** The space that contributed most to the score. */
  space: string;
  /** The history title behind that space's contribution (a catalog row), if any. */
  closest?: number;
  /** Cosine to `closest` in a content space. */
  similarity?: number;
  /** Each space's share of the fused score (weight × standardised score). */
  contributions: Record<string, number>;
  /** History titles behind the contributing spaces, strongest space first (catalog rows, no repeats). */
  because: number[];
  /** Present when serendipity put this title here rather than accuracy. */
  serendipity?: Surprise;
}

export interface Recommendation {
  index: number;
  score: number;
  why: Explanation;
}

export interface RankOptions {
  /** Serendipity level in [0, 1] (default: the config's). */
  serendipity?: number;
  /** Only these spaces (ablations); default every space the catalog has. */
  spaces?: ReadonlySet<string>;
  /** Per-reader attention over the spaces (default true); false = the global weights for everyone. */
  attention?: boolean;
  /** Global weights and settings to use instead of the catalog's learned (or the config's) ones. */
  settings?: ReturnType<typeof rankerSettings>;
  /** Signals already computed for these readings (the evaluation reuses them across method variants). */
  signals?: ReaderSignals;
  logits?: Map<string, number> | null;
  /** Look up the history titles behind each result (default true; the evaluation needs only the order). */
  explain?: boolean;
  /** Sequence-model scores computed off the main thread (`sequenceQueries` says which); others run here. */
  sequenceScores?: SequenceScores;
}

/** History → content signals, oldest first; entries for titles not in this catalog are skipped. */
export function historySignals(history: HistoryEntry[], indexOf: Map<string, number>, cfg: RankerConfig): Signal[] {
  const known = history.filter((e) => indexOf.has(e.id)).sort((a, b) => lastTouched(a) - lastTouched(b) || (a.id < b.id ? -1 : 1));
  const n = known.length;
  return known
    .map((e, r) => ({ index: indexOf.get(e.id)!, weight: signalWeight(e, cfg.signal) * Math.pow(0.5, (n - 1 - r) / cfg.recencyHalfLife) }))
    .filter((s) => s.weight !== 0);
}

/** Indices of the k best candidates by score, ties broken by catalog order. */
export function topK(scores: ArrayLike<number>, candidates: Uint8Array, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (candidates[i]) idx.push(i);
  idx.sort((a, b) => scores[b] - scores[a] || a - b);
  return idx.slice(0, k);
}

function closestIn(space: Space, item: number, among: readonly Signal[]): { closest?: number; similarity?: number } {
  let best = -Infinity, closest: number | undefined;
  for (const s of among) {
    if (s.weight <= 0) continue;
    let d = 0;
    const a = item * space.dim, b = s.index * space.dim;
    for (let j = 0; j < space.dim; j++) d += space.data[a + j] * space.data[b + j];
    if (d > best) { best = d; closest = s.index; }
  }
  return closest === undefined ? {} : { closest, similarity: best };
}

/**
 * Content-only ranking: scores every catalog row against a set of signals with fixed space weights and returns
 * the top k candidates with explanations. `exclude` rows are never returned. ("More like this".)
 */
export function rankBySignals(catalog: Catalog, signals: Signal[], weights: Record<string, number>, k: number, exclude: Set<number>): Recommendation[] {
  const n = catalog.items.length;
  const candidates = new Uint8Array(n).fill(1);
  for (const i of exclude) candidates[i] = 0;
  const used = [...catalog.spaces.values()].filter((s) => (weights[s.name] ?? 0) > 0);
  const wsum = used.reduce((a, s) => a + weights[s.name], 0);
  const perSpace = new Map<string, Float32Array>();
  const fused = new Float32Array(n);
  for (const space of used) {
    const z = scanDot(space.data, space.dim, profile(space, signals));
    standardise(z, candidates);
    const w = weights[space.name] / wsum;
    for (let i = 0; i < n; i++) { z[i] *= w; fused[i] += z[i]; }
    perSpace.set(space.name, z);
  }
  return topK(fused, candidates, k).map((index) => {
    const contributions: Record<string, number> = {};
    let space = used[0]?.name ?? '';
    for (const [name, z] of perSpace) {
      contributions[name] = z[index];
      if (z[index] > (contributions[space] ?? -Infinity)) space = name;
    }
    const sp = catalog.spaces.get(space);
    const near = sp ? closestIn(sp, index, signals) : {};
    return { index, score: fused[index], why: { space, contributions, because: near.closest === undefined ? [] : [near.closest], ...near } };
  });
}

/** Category similarity of a catalog without community data: co-labelling (each title "uses" its own genres). */
const coLabelled = new WeakMap<Space, Float32Array>();
function categorySimilarityOf(catalog: Catalog, genre: Space): Float32Array {
  if (catalog.community) return catalog.community.categorySimilarity;
  let sim = coLabelled.get(genre);
  if (!sim) {
    const n = genre.data.length / genre.dim;
    sim = categorySimilarity(Array.from({ length: n }, (_, i) => [i]), itemCategories(genre), genre.dim);
    coLabelled.set(genre, sim);
  }
  return sim;
}

/** What the explanations look things up in: the reader's rows per kind of space, computed once per ranking. */
interface Evidence {
  content: Signal[];
  community: Signal[];
  sequence: number[];
}

/** The history title behind space `space`'s score for `item`. */
function behind(catalog: Catalog, evidence: Evidence, space: string, item: number): { closest?: number; similarity?: number } {
  if (space === CF_SPACE && catalog.community) {
    const n = strongestNeighbour(catalog.community.model, evidence.community, item);
    return n ? { closest: n.index } : {};
  }
  if (space === SEQUENCE_SPACE && catalog.sequence) {
    // The preferred title the model's own item embeddings tie closest to this one (among those it reads).
    const closest = catalog.sequence.closest(item, evidence.sequence);
    return closest === undefined ? {} : { closest };
  }
  const sp = catalog.spaces.get(space);
  return sp ? closestIn(sp, item, evidence.content) : {};
}

/**
 * The personalised ranking of one reader's readings (oldest first): top `k` candidates with explanations.
 * Pure and synchronous, so the page, a worker and the offline evaluation all run this same code.
 */
export function rankReadings(catalog: Catalog, readings: readonly Reading[], cfg: RankerConfig, k: number, opts: RankOptions = {}): Recommendation[] {
  const settings = opts.settings ?? rankerSettings(catalog, cfg);
  const signalOpts = { spaces: opts.spaces, halfLifeShare: settings.halfLifeShare, ratingWeight: settings.ratingWeight, sequenceScores: opts.sequenceScores };
  const signals = opts.signals ?? readerSignals(catalog, readings, cfg, signalOpts);
  const useAttention = (opts.attention ?? true) && settings.temperature !== 0;
  const logits = useAttention ? (opts.logits === undefined ? attentionLogits(catalog, readings, cfg, signalOpts) : (opts.logits ?? undefined)) : undefined;
  const weights = readerWeights(settings.weights, signals.z.keys(), logits, useAttention ? settings.temperature : 0, settings.center);
  const fused = fuse(signals, weights);

  const level = opts.serendipity ?? cfg.serendipity.level;
  const genre = catalog.spaces.get('genre');
  const history = readings.filter((r) => r.consumed).map((r) => r.index);
  const { order, surprises } = genre && level > 0
    ? serendipitousRanking(
        {
          scores: fused,
          candidates: signals.candidates,
          history,
          genre,
          categorySimilarity: categorySimilarityOf(catalog, genre),
          popularity: catalog.items.map((t) => t.popularity),
        },
        level, k, cfg.serendipity, settings.strength ?? cfg.serendipity.strength,
      )
    : { order: topK(fused, signals.candidates, k), surprises: new Map<number, Surprise>() };

  const evidence: Evidence = {
    content: contentRows(readings, cfg.recencyHalfLife),
    community: communityRows(readings, settings.halfLifeShare, settings.ratingWeight),
    sequence: catalog.sequence ? preferredSequence(readings).slice(-(catalog.sequence.spec.maxLength - 1)) : [],
  };
  return order.map((index) => {
    const contributions: Record<string, number> = {};
    for (const [name, a] of weights) contributions[name] = a * (signals.z.get(name)?.[index] ?? 0);
    const ranked = Object.keys(contributions).sort((a, b) => contributions[b] - contributions[a]);
    const space = ranked[0] ?? '';
    const because: number[] = [];
    let top: { closest?: number; similarity?: number } = {};
    for (const [r, name] of ranked.slice(0, opts.explain === false ? 0 : 2).entries()) {
      if (r > 0 && !(contributions[name] > 0)) break;
      const b = behind(catalog, evidence, name, index);
      if (r === 0) top = b;
      if (b.closest !== undefined && !because.includes(b.closest)) because.push(b.closest);
    }
    const why: Explanation = { space, contributions, because, ...top };
    const surprise = surprises.get(index);
    if (surprise) why.serendipity = surprise;
    return { index, score: fused[index], why };
  });
}

/** "For you": null when the reader has no positive signal yet (cold start: show popular titles). */
export function recommend(catalog: Catalog, history: HistoryEntry[], cfg: RankerConfig, k: number, opts: RankOptions = {}): Recommendation[] | null {
  const readings = readingsFromHistory(history, catalog.indexOf, cfg);
  if (!readings.some((r) => r.signal > 0)) return null;
  return rankReadings(catalog, readings, cfg, k, opts);
}

/**
 * The preferred-title sequences `recommend` will ask the catalog's sequence model about for this history (the
 * whole history, and the part before the latest titles when per-reader attention is on), so that the page can
 * run them in the sequence worker first and pass the results as `sequenceScores`. Empty without a sequence model.
 */
export function sequenceQueries(catalog: Catalog, history: HistoryEntry[], cfg: RankerConfig): number[][] {
  if (!catalog.sequence) return [];
  const readings = readingsFromHistory(history, catalog.indexOf, cfg);
  const out = [preferredSequence(readings)];
  const split = rankerSettings(catalog, cfg).temperature !== 0 ? attentionSplit(readings, cfg) : undefined;
  if (split) out.push(preferredSequence(split.earlier));
  const seen = new Set<string>();
  return out.filter((s) => s.length > 0 && !seen.has(sequenceKey(s)) && seen.add(sequenceKey(s)));
}

/** "More like this": the title itself is the whole profile. */
export function moreLikeThis(catalog: Catalog, index: number, cfg: RankerConfig, k: number): Recommendation[] {
  return rankBySignals(catalog, [{ index, weight: 1 }], cfg.spaceWeights, k, new Set([index]));
}

/** Most popular titles first, skipping those the reader has consumed (cold start and fallback). */
export function popular(catalog: Catalog, history: HistoryEntry[], k: number): number[] {
  const candidates = new Uint8Array(catalog.items.length).fill(1);
  for (const e of history) if (isConsumed(e) && catalog.indexOf.has(e.id)) candidates[catalog.indexOf.get(e.id)!] = 0;
  return topK(catalog.items.map((t) => t.popularity), candidates, k);
}
