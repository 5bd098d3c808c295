/**
 * One reader's evidence for every title, per space, before fusion:
 * - content spaces (genre, lexical, sts, style…): cosine to the reader's profile in that space (a recency-decayed,
 *   signed sum of the history's vectors, as the content ranker always did);
 * - `cf`: the community item-item model applied to the history, each title weighted by recency and taste;
 * - `sequence`: the sequential model's logits for the title after the reader's preferred titles.
 * Each score vector is standardised over the candidates (titles not yet consumed), so spaces on different scales
 * can be weighed against each other.
 */
import type { RankerConfig } from '../config.ts';
import type { Space, Title } from '../snapshot/format.ts';
import { addRow, normalize } from '../vectors.ts';
import type { CommunityModel, WeightedRow } from './community.ts';
import type { Reading } from './reader.ts';
import type { SequenceModel } from './sequence.ts';
import type { LearnedRanker, SerendipityCalibration } from '../snapshot/format.ts';
export type { LearnedRanker } from '../snapshot/format.ts';



export interface Community {
  model: CommunityModel;
  /** Category × category co-usage cosine over the genre space's vocabulary (serendipity). */
  categorySimilarity: Float32Array;
  /**
   * Fitted as sparse EASE (above `denseUpTo` titles, rank/sparse-ease.ts; a snapshot says so by its model's
   * `candidates`). Its rows keep only co-read titles, so the ranker adds the popularity signal.
   */
  sparse?: boolean;
  /** Readers per title in the histories a sparse model was fitted on (absent in a loaded snapshot: its titles' popularity stands in). */
  readers?: Float32Array;
  learned?: LearnedRanker;
}

/** What the ranker reads of a title: a Title is one, and so is a title of a snapshot's ranking core (titles.ts RankingCore). */
export type RankedTitle = Pick<Title, 'id' | 'genres' | 'popularity'>;

/** Everything the Ranker ranks from. A loaded Snapshot is one. */
export interface Catalog {
  items: readonly RankedTitle[];
  /** Content spaces by name. */
  spaces: Map<string, Space>;
  indexOf: Map<string, number>;
  /** Present when the catalog came with community interactions. */
  community?: Community;
  sequence?: SequenceModel;
  /** The serendipity price calibrated for a catalog without community data (rank/calibrate.ts). */
  calibration?: SerendipityCalibration;
}

/** A reader's standardised scores per space, and which titles may be recommended. */
export interface ReaderSignals {
  /** 1 for titles the reader has not consumed. */
  candidates: Uint8Array;
  z: Map<string, Float32Array>;
}

/**
 * The fusion settings in force: learned ones when the catalog has them, else the config's. `strength` is only
 * set when learned with the weights; otherwise the ranker asks rank/calibrate.ts for the catalog's own.
 */
export function rankerSettings(catalog: Catalog, cfg: RankerConfig): Omit<LearnedRanker, 'validation'> {
  const l = catalog.community?.learned;
  return l
    ? { weights: l.weights, temperature: l.temperature, center: l.center, halfLifeShare: l.halfLifeShare, ratingWeight: l.ratingWeight, ...(l.strength === undefined ? {} : { strength: l.strength }) }
    : { weights: cfg.spaceWeights, temperature: cfg.attention.temperature, center: {}, halfLifeShare: cfg.community.halfLifeShare, ratingWeight: cfg.community.ratingWeight };
}


/** 0.5^(titles newer than this one / halfLife). */
function recency(readings: readonly Reading[], halfLife: number): Float64Array {
  const n = readings.length;
  return Float64Array.from(readings, (_, p) => (Number.isFinite(halfLife) ? Math.pow(0.5, (n - 1 - p) / halfLife) : 1));
}

/** Content-profile weights: the reading's signal, decayed by recency. */
export function contentRows(readings: readonly Reading[], halfLife: number): WeightedRow[] {
  const r = recency(readings, halfLife);
  return readings.map((x, p) => ({ index: x.index, weight: x.signal * r[p] })).filter((x) => x.weight !== 0);
}

/**
 * Community weights: 1 + ratingWeight·taste for a consumed title, −1 for a dislike, the signal otherwise; × recency,
 * with a half-life of `halfLifeShare` × the reader's history length (recency relative to how much the reader has
 * read: on validation it beat every fixed half-life, which weighs long and short histories alike).
 */
export function communityRows(readings: readonly Reading[], halfLifeShare: number, ratingWeight: number): WeightedRow[] {
  const r = recency(readings, Math.max(1, halfLifeShare * readings.length));
  return readings.map((x, p) => ({ index: x.index, weight: r[p] * (x.disliked ? -1 : x.consumed ? 1 + ratingWeight * x.taste : x.signal) }));
}

/** The profile of a space: Σ weight·row, L2-normalised. */
export function profile(space: Space, rows: readonly WeightedRow[]): Float32Array {
  const p = new Float32Array(space.dim);
  for (const { index, weight } of rows) addRow(space, index, weight, p);
  return normalize(p);
}

/** Standardises in place over the candidate rows (mean 0, unit variance); constant scores become 0. */
export function standardise(scores: Float32Array, candidates: Uint8Array): Float32Array {
  const { mean, sd } = candidateStats(scores, candidates);
  for (let i = 0; i < scores.length; i++) scores[i] = sd > 1e-9 ? (scores[i] - mean) / sd : 0;
  return scores;
}

/** standardise's z-scores of some rows only (a new array, one per row given). */
export function standardisedRows(scores: Float32Array, candidates: Uint8Array, rows: readonly number[]): Float32Array {
  const { mean, sd } = candidateStats(scores, candidates);
  const out = new Float32Array(rows.length);
  for (let p = 0; p < rows.length; p++) out[p] = sd > 1e-9 ? (scores[rows[p]] - mean) / sd : 0;
  return out;
}

function candidateStats(scores: Float32Array, candidates: Uint8Array): { mean: number; sd: number } {
  let n = 0, sum = 0, sq = 0;
  for (let i = 0; i < scores.length; i++) if (candidates[i]) { n++; sum += scores[i]; sq += scores[i] * scores[i]; }
  const mean = n ? sum / n : 0;
  return { mean, sd: n ? Math.sqrt(Math.max(sq / n - mean * mean, 0)) : 0 };
}

export function candidatesOf(itemCount: number, readings: readonly Reading[]): Uint8Array {
  const c = new Uint8Array(itemCount).fill(1);
  for (const r of readings) if (r.consumed) c[r.index] = 0;
  return c;
}

/** The sequence model's input: the preferred titles in reading order. */
export function preferredSequence(readings: readonly Reading[]): number[] {
  return readings.filter((r) => r.preferred).map((r) => r.index);
}

export interface SignalOptions {
  /** Only these spaces (default: every available one). */
  spaces?: ReadonlySet<string>;
  halfLifeShare: number;
  ratingWeight: number;
  /**
   * Sequence-model scores already computed elsewhere (the page's sequence worker), by `sequenceKey`; a sequence
   * not in here is scored on the spot.
   */
  sequenceScores?: SequenceScores;
}

/** Sequence-model scores (a logit per catalog row) by `sequenceKey` of the preferred titles they were run on. */
export type SequenceScores = ReadonlyMap<string, Float32Array>;

export const sequenceKey = (sequence: readonly number[]): string => sequence.join(',');
