/**
 * One meaning for the Surprise slider on every catalog: the serendipity price (SerendipityConfig.strength) is
 * calibrated for each catalog on readers it can be checked on, never carried over from another catalog.
 *
 * At the default level the price is the smallest that makes the first titles `reduction` less similar (genre
 * cosine) to the reader's history than a reference list — the community model's plain list where the catalog
 * has one, else the ranker's own accuracy list — unless that costs more than `1 − accuracyFloor` of the
 * accuracy; then it is the largest price that keeps the floor. Accuracy is measured the way each catalog can be:
 * - with community data: NDCG@10 of the validation carve's readers (rank/tune.ts);
 * - without (the webtoon demo): genre precision@10 of pseudo-readers who like a few titles of one taste genre,
 *   the rest of that genre being what they would pick (seed 000's survey). Readers alternate between a
 *   calibration half and a report half; only the calibration half is used here (eval:survey reports the other).
 */
import type { RankerConfig, SerendipityConfig } from '../config.ts';
import { rng, shuffle } from '../random.ts';
import type { SerendipityCalibration } from '../snapshot/format.ts';
import type { Reading } from './reader.ts';
import { categoryNames, historySimilarity, serendipityPlan, type SerendipitousList, type SerendipityInput } from './serendipity.ts';
import { rankingInput } from './input.ts';
import { rankerSettings, type Catalog } from './signals.ts';
import { GENRE_SPACE } from '../spaces.ts';

/** What the calibration needs of one reader. */
export interface CalibrationReader {
  /** The list at the default level for a price (serendipity.ts's plan). */
  plan: { rank(strength: number): SerendipitousList };
  /** The accuracy list (level 0). */
  accuracy: number[];
  /** How good a list is for this reader (NDCG@10, genre precision@10…). */
  score(order: readonly number[]): number;
  /** Genre similarity of every title to the reader's history. */
  similarity: Float32Array;
  /** Mean similarity of the reference list's first titles. */
  reference: number;
}

const meanSimilarity = (order: readonly number[], similarity: Float32Array, depth: number) => {
  const top = order.slice(0, depth);
  return top.reduce((a, i) => a + similarity[i], 0) / Math.max(1, top.length);
};

/** The readers' lists turned into a plan for `solvePrice`. */
export function calibrationReader(input: SerendipityInput, cfg: SerendipityConfig, score: (order: readonly number[]) => number, reference?: readonly number[]): CalibrationReader {
  const accuracy = serendipityPlan(input, 0, cfg.basis, cfg).rank(0).order;
  const similarity = historySimilarity(input.genre, input.history);
  return {
    plan: serendipityPlan(input, cfg.level, cfg.basis, cfg),
    accuracy,
    score,
    similarity,
    reference: meanSimilarity(reference ?? accuracy, similarity, cfg.basis),
  };
}

/**
 * The price for these readers (see the file comment), with what it reached. Bisection on each criterion: the
 * similarity falls and the accuracy falls (both roughly monotonically) as the price rises.
 */
export function solvePrice(readers: readonly CalibrationReader[], cfg: SerendipityConfig): Omit<SerendipityCalibration, 'readers' | 'count' | 'spaces'> {
  const n = Math.max(1, readers.length);
  const at = (price: number) => {
    let acc = 0, sim = 0;
    for (const r of readers) {
      const order = r.plan.rank(price).order;
      acc += r.score(order);
      sim += meanSimilarity(order, r.similarity, cfg.basis);
    }
    return { accuracy: acc / n, similarity: sim / n };
  };
  const accuracy0 = readers.reduce((a, r) => a + r.score(r.accuracy), 0) / n;
  const reference = readers.reduce((a, r) => a + r.reference, 0) / n;
  const target = (1 - cfg.reduction) * reference;
  const floor = cfg.accuracyFloor * accuracy0;
  // The price at which a criterion just holds: `ok(price)` true below it (accuracy) or above it (similarity).
  const bisect = (ok: (p: number) => boolean, okBelow: boolean): number => {
    let lo = 0, hi = 1;
    while (ok(hi) === okBelow && hi < 1e4) [lo, hi] = [hi, hi * 2];
    if (ok(hi) === okBelow) return hi;
    for (let step = 0; step < 20 && hi - lo > 0.005 * hi; step++) {
      const mid = (lo + hi) / 2;
      if (ok(mid) === okBelow) lo = mid;
      else hi = mid;
    }
    return okBelow ? lo : hi;
  };
  const forSimilarity = bisect((p) => at(p).similarity > target, true);
  const forAccuracy = at(0).accuracy < floor ? 0 : bisect((p) => at(p).accuracy >= floor, true);
  const strength = Math.min(forSimilarity, forAccuracy);
  const reached = at(strength);
  return { strength, accuracy: [accuracy0, reached.accuracy], similarity: [reference, reached.similarity] };
}

/** A reader who likes `liked` (catalog rows, in that order) and would pick the rest of `genre`. */
export interface PseudoReader {
  genre: string;
  liked: number[];
  relevant: Set<number>;
}

/**
 * The genres that are tastes: the genre space's categories, without the catalog's format labels (config
 * `survey.formatGenres`, e.g. 스토리/에피소드/옴니버스 on Naver) and without any carried by more than half the
 * catalog (a label that broad says nothing about taste), with enough titles to like `likes` and pick 10 more.
 */
export function tasteGenres(catalog: Catalog, cfg: RankerConfig): Array<{ name: string; rows: number[] }> {
  const genre = catalog.spaces.get(GENRE_SPACE);
  if (!genre) return [];
  const names = categoryNames(genre);
  const n = catalog.items.length;
  const out: Array<{ name: string; rows: number[] }> = [];
  for (let c = 0; c < genre.dim; c++) {
    if (cfg.survey.formatGenres.includes(names[c])) continue;
    const rows: number[] = [];
    for (let i = 0; i < n; i++) if (genre.data[i * genre.dim + c] !== 0) rows.push(i);
    if (rows.length > n / 2 || rows.length < cfg.survey.likes + 10) continue;
    out.push({ name: names[c], rows });
  }
  return out;
}

/**
 * Seeded pseudo-readers, `perGenre` per taste genre, each liking `likes` random titles of it. Reader j of a genre
 * belongs to the calibration half when j is even, to the report half when odd.
 */
export function pseudoReaders(catalog: Catalog, cfg: RankerConfig, part: 'calibration' | 'report' | 'all', seed = cfg.survey.seed): PseudoReader[] {
  const random = rng(seed);
  const out: PseudoReader[] = [];
  for (const g of tasteGenres(catalog, cfg)) {
    for (let j = 0; j < cfg.survey.perGenre; j++) {
      const liked = shuffle([...g.rows], random).slice(0, cfg.survey.likes);
      if (part === 'all' || (part === 'calibration') === (j % 2 === 0)) {
        const taken = new Set(liked);
        out.push({ genre: g.name, liked, relevant: new Set(g.rows.filter((i) => !taken.has(i))) });
      }
    }
  }
  return out;
}

/** A pseudo-reader's likes as the ranker reads them (oldest first, as a reader's likes in the app). */
export function pseudoReadings(reader: PseudoReader, cfg: RankerConfig): Reading[] {
  return reader.liked.map((index) => ({ index, taste: 1, disliked: false, consumed: true, preferred: true, signal: cfg.signal.liked }));
}

/** precision@k = |top k ∩ relevant| / k */
export function precisionAt(order: readonly number[], relevant: ReadonlySet<number>, k: number): number {
  let hits = 0;
  for (const i of order.slice(0, k)) if (relevant.has(i)) hits++;
  return hits / k;
}

/** Which spaces a catalog ranks with, in a stable order (what a calibration is valid for). */
export const calibratedSpaces = (catalog: Catalog): string[] => [...catalog.spaces.keys()].sort();

/** A level from the URL, storage or a slider: clamped into [0, 1]; anything not a number is level 0. */
export function clampLevel(level: unknown): number {
  const v = typeof level === 'number' ? level : Number(level);
  return Number.isFinite(v) ? Math.min(1, Math.max(0, v)) : 0;
}

/**
 * The catalog's serendipity price from pseudo-readers (a catalog without community data); undefined without a
 * genre space or taste genres to draw readers from.
 */
export function calibrateCatalog(catalog: Catalog, cfg: RankerConfig): SerendipityCalibration | undefined {
  const readers = pseudoReaders(catalog, cfg, 'calibration');
  const settings = { ...rankerSettings(catalog, cfg), strength: undefined };
  const plans: CalibrationReader[] = [];
  for (const r of readers) {
    const { input } = rankingInput(catalog, pseudoReadings(r, cfg), cfg, { settings });
    if (input) plans.push(calibrationReader(input, cfg.serendipity, (order) => precisionAt(order, r.relevant, cfg.serendipity.basis)));
  }
  if (!plans.length) return undefined;
  return { ...solvePrice(plans, cfg.serendipity), readers: 'pseudo', count: plans.length, spaces: calibratedSpaces(catalog) };
}

const recalibrated = new WeakMap<Catalog, number>();

/**
 * The price of similarity for a catalog's lists when it was not learned with community weights: the catalog's
 * stored calibration when it was made for the spaces the catalog has now; calibrated again (once per catalog)
 * when spaces changed since (the reader's device added `sts`); the config's last-resort value when the snapshot
 * carries none (the loader says so in the console).
 */
export function serendipityStrength(catalog: Catalog, cfg: RankerConfig): number {
  const c = catalog.calibration;
  if (!c) return cfg.serendipity.strength;
  if (c.spaces.join() === calibratedSpaces(catalog).join()) return c.strength;
  let s = recalibrated.get(catalog);
  if (s === undefined) recalibrated.set(catalog, (s = calibrateCatalog(catalog, cfg)?.strength ?? c.strength));
  return s;
}
