/**
 * What every list the Ranker makes starts from: one reader's standardised scores per space, fused with the
 * reader's weights, and what serendipity needs besides (genre space, category similarity, popularity). The
 * ranker, the serendipity calibration and the evaluation all start here, so they rank the same way.
 */
import type { RankerConfig } from '../config.ts';
import { coLabelSimilarity } from './community.ts';
import { attentionLogits, fuse, readerWeights } from './fusion.ts';
import type { Reading } from './reader.ts';
import { itemCategoriesSteps, type SerendipityInput } from './serendipity.ts';
import { rankerSettings, type Catalog, type ReaderSignals, type SequenceScores } from './signals.ts';
import { GENRE_SPACE } from '../spaces.ts';
import { availableSpaces, readerSignalSteps } from './signal/index.ts';
import { runSteps } from '../steps.ts';
import type { Space } from '../snapshot/format.ts';

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

/**
 * Category similarity of a catalog without community data: co-labelling (each title "uses" its own genres). Made
 * once per genre space, in steps: each title's categories, a slice of titles at a time, then their co-labelling.
 */
const coLabelled = new WeakMap<Space, Float32Array>();
function* categorySimilaritySteps(catalog: Catalog, genre: Space, stepValues: number): Generator<void, Float32Array> {
  if (catalog.community) return catalog.community.categorySimilarity;
  let sim = coLabelled.get(genre);
  if (!sim) {
    // A title's categories (an array) cost about as much as 64 values multiplied.
    const categories = yield* itemCategoriesSteps(genre, Math.max(1, Math.floor(stepValues / 64)));
    yield;
    sim = coLabelled.get(genre) ?? coLabelSimilarity(categories, genre.dim);
    coLabelled.set(genre, sim);
  }
  return sim;
}

/** One reader's fused scores and what serendipity needs besides (the input of every list the ranker makes). */
export interface RankingInput {
  input: SerendipityInput | undefined;
  fused: Float32Array;
  candidates: Uint8Array;
  weights: Map<string, number>;
  signals: ReaderSignals;
  settings: ReturnType<typeof rankerSettings>;
}

/** Fused scores of one reader's readings (oldest first), and the serendipity input when the catalog has genres. */
export function rankingInput(catalog: Catalog, readings: readonly Reading[], cfg: RankerConfig, opts: RankOptions = {}): RankingInput {
  return runSteps(rankingInputSteps(catalog, readings, cfg, opts));
}

/**
 * rankingInput with a pause (yield) before each space's scan, within long scans, before the fusion and before the
 * serendipity input (see readerSignalSteps).
 */
export function* rankingInputSteps(catalog: Catalog, readings: readonly Reading[], cfg: RankerConfig, opts: RankOptions = {}): Generator<void, RankingInput> {
  const settings = opts.settings ?? rankerSettings(catalog, cfg);
  // A space with no global weight cannot move the fused score (α_j ∝ w_j): it is not scanned at all.
  const weighted = [...(opts.spaces ?? availableSpaces(catalog))].filter((s) => (settings.weights[s] ?? 0) > 0);
  const signalOpts = { spaces: new Set(weighted), halfLifeShare: settings.halfLifeShare, ratingWeight: settings.ratingWeight, sequenceScores: opts.sequenceScores };
  const signals = opts.signals ?? (yield* readerSignalSteps(catalog, readings, cfg, signalOpts));
  yield;
  const useAttention = (opts.attention ?? true) && settings.temperature !== 0;
  const logits = useAttention ? (opts.logits === undefined ? attentionLogits(catalog, readings, cfg, signalOpts) : (opts.logits ?? undefined)) : undefined;
  const weights = readerWeights(settings.weights, signals.z.keys(), logits, useAttention ? settings.temperature : 0, settings.center);
  const fused = fuse(signals, weights);
  const genre = catalog.spaces.get(GENRE_SPACE);
  let input: SerendipityInput | undefined;
  if (genre) {
    yield;
    input = {
      scores: fused,
      candidates: signals.candidates,
      history: readings.filter((r) => r.consumed).map((r) => r.index),
      genre,
      categorySimilarity: yield* categorySimilaritySteps(catalog, genre, cfg.stepValues),
      categoryBasis: catalog.community ? 'community' : 'catalog',
      popularity: popularityOf(catalog),
    };
  }
  return { input, fused, candidates: signals.candidates, weights, signals, settings };
}

const popularities = new WeakMap<Catalog, Float32Array>();
export function popularityOf(catalog: Catalog): Float32Array {
  let p = popularities.get(catalog);
  if (!p) {
    // A plain loop: Float32Array.from with a map function takes ~15 ms over 100k titles in Chromium.
    const items = catalog.items;
    p = new Float32Array(items.length);
    for (let i = 0; i < items.length; i++) p[i] = items[i].popularity;
    popularities.set(catalog, p);
  }
  return p;
}

