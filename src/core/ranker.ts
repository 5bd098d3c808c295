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
import { isConsumed, type HistoryEntry } from './history.ts';
import { topK } from './math/top-k.ts';
import { clampLevel, serendipityStrength } from './rank/calibrate.ts';
import { popularityOf, rankingInputSteps, type RankOptions, type RankingInput } from './rank/input.ts';
import { attentionSplit } from './rank/fusion.ts';
import { readingsFromHistory, type Reading } from './rank/reader.ts';
import { serendipityBase, type SerendipitousList, type SerendipityBase, type Surprise } from './rank/serendipity.ts';
import { signalOf, signalsOf, type ExplainContext } from './rank/signal/index.ts';
import { runSteps } from './steps.ts';
import { preferredSequence, rankerSettings, sequenceKey, type Catalog } from './rank/signals.ts';

export type { Catalog, SequenceScores } from './rank/signals.ts';
export { sequenceKey } from './rank/signals.ts';
export { signalWeight } from './rank/reader.ts';
export type { RankOptions } from './rank/input.ts';

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
  /** Present when serendipity put this title here from the serendipitous pool (a category, and why). */
  serendipity?: Surprise;
  /**
   * Present when serendipity put this title here because it is unlike the reader's history (not from the pool):
   * its taste genres the history does not have (may be empty when it differs by mix rather than by genre).
   */
  departure?: { genres: string[] };
  /**
   * The spaces that carried it: the strongest, and the next one when it added at least half as much (what a
   * card names, so two cards with different reasons never read the same).
   */
  spaces: string[];
  /** Taste genres the title shares with `closest` (format labels left out), for the card to name. */
  shared: string[];
}

export interface Recommendation {
  index: number;
  score: number;
  why: Explanation;
}


/** Genres two titles share, without the catalog's format labels (they say nothing about taste). */
function sharedGenres(catalog: Catalog, a: number, b: number, cfg: RankerConfig): string[] {
  const other = new Set(catalog.items[b].genres);
  return catalog.items[a].genres.filter((g) => other.has(g) && !cfg.survey.formatGenres.includes(g));
}

/** The explanation of one title of a reader's list (the ranking's fused scores and weights are given). */
function explainRow(ctx: ExplainContext, ranking: RankingInput, index: number, explain: boolean): Explanation {
  const { weights, signals } = ranking;
  const contributions: Record<string, number> = {};
  for (const [name, a] of weights) contributions[name] = a * (signals.z.get(name)?.[index] ?? 0);
  const ranked = Object.keys(contributions).sort((a, b) => contributions[b] - contributions[a]);
  const space = ranked[0] ?? '';
  const because: number[] = [];
  let top: { closest?: number; similarity?: number } = {};
  for (const [r, name] of ranked.slice(0, explain ? 2 : 0).entries()) {
    if (r > 0 && !(contributions[name] > 0)) break;
    const b = signalOf(name).explain(ctx, index);
    if (r === 0) top = b;
    if (b.closest !== undefined && !because.includes(b.closest)) because.push(b.closest);
  }
  const carried = ranked.filter((name, r) => r === 0 || (r === 1 && contributions[name] > 0 && contributions[name] >= 0.5 * contributions[space]));
  const shared = top.closest === undefined ? [] : sharedGenres(ctx.catalog, index, top.closest, ctx.cfg);
  return { space, contributions, because, ...top, spaces: carried.slice(0, 2), shared };
}

/** Marks what serendipity put in the list: from the pool (a category, and why), or unlike the history. */
function markSurprise(why: Explanation, list: SerendipitousList, index: number, ctx: ExplainContext): void {
  const surprise = list.surprises.get(index);
  if (surprise) why.serendipity = surprise;
  else if (list.departures.has(index)) {
    const read = new Set(ctx.readings.filter((r) => r.consumed).flatMap((r) => ctx.catalog.items[r.index].genres));
    why.departure = { genres: ctx.catalog.items[index].genres.filter((g) => !read.has(g) && !ctx.cfg.survey.formatGenres.includes(g)) };
  }
}

function explainContext(catalog: Catalog, readings: readonly Reading[], cfg: RankerConfig, ranking: RankingInput): ExplainContext {
  const { halfLifeShare, ratingWeight } = ranking.settings;
  return { catalog, readings, cfg, options: { halfLifeShare, ratingWeight }, memo: new Map() };
}

/**
 * One reader's ranking, computed once per history (and options): the list at any Surprise level and any title's
 * explanation come from it without scanning the catalog again, so moving the slider only reorders a shortlist.
 */
export interface ReaderRanking {
  /** The first `k` titles at serendipity `level` (clamped into [0, 1]), with explanations. */
  list(level: number, k: number): Recommendation[];
  /** `list` in steps (yielding between them): the first list at a level above 0 walks the catalog several times. */
  listSteps(level: number, k: number): Generator<void, Recommendation[]>;
  /** Why one title is (or is not) recommended, and whether it is a surprise in the first `k` at `level`; undefined for a title the reader has read. */
  explain(index: number, level: number, k: number): Recommendation | undefined;
}

/** The ranking of one reader's readings (oldest first). `opts.serendipity` is ignored: the level is per list. */
function rankingOfReadings(catalog: Catalog, readings: readonly Reading[], cfg: RankerConfig, opts: RankOptions = {}): ReaderRanking {
  return runSteps(rankingSteps(catalog, readings, cfg, opts));
}

function* rankingSteps(catalog: Catalog, readings: readonly Reading[], cfg: RankerConfig, opts: RankOptions = {}): Generator<void, ReaderRanking> {
  const ranking = yield* rankingInputSteps(catalog, readings, cfg, opts);
  const { input, fused, candidates, settings } = ranking;
  const ctx = explainContext(catalog, readings, cfg, ranking);
  const bases = new Map<number, SerendipityBase>();
  const rows = new Map<number, Explanation>();
  // A list at a level above 0 is built in steps the first time (the accuracy top list, then serendipity's pool,
  // then its shortlist's scores), each a walk over the catalog; after that a level only reorders the shortlist.
  function* listAtSteps(level: number, k: number): Generator<void, SerendipitousList> {
    if (!input || level === 0) return { order: topK(fused, k, candidates), surprises: new Map<number, Surprise>(), departures: new Set<number>() };
    let base = bases.get(k);
    if (!base) {
      bases.set(k, (base = serendipityBase(input, k, cfg.serendipity)));
      yield;
    }
    yield* base.prepare();
    return base.rank(level, settings.strength ?? serendipityStrength(catalog, cfg));
  }
  const listAt = (level: number, k: number): SerendipitousList => runSteps(listAtSteps(level, k));
  // A title's explanation does not depend on the level; only its surprise mark does.
  const why = (index: number, list: SerendipitousList, explain: boolean): Recommendation => {
    let row = rows.get(index);
    if (!row) rows.set(index, (row = explainRow(ctx, ranking, index, explain)));
    const w: Explanation = { ...row };
    markSurprise(w, list, index, ctx);
    return { index, score: fused[index], why: w };
  };
  function* listSteps(level: number, k: number): Generator<void, Recommendation[]> {
    const list = yield* listAtSteps(clampLevel(level), k);
    return list.order.map((index) => why(index, list, opts.explain !== false));
  }
  return {
    list: (level, k) => runSteps(listSteps(level, k)),
    listSteps,
    explain(index, level, k) {
      if (!candidates[index]) return undefined;
      return why(index, listAt(clampLevel(level), k), true);
    },
  };
}

/**
 * One reader's ranking from their history; null when the reader has no positive signal yet (cold start: show
 * popular titles). For you and the title page share it, so they always agree.
 */
export function readerRanking(catalog: Catalog, history: HistoryEntry[], cfg: RankerConfig, opts: RankOptions = {}): ReaderRanking | null {
  const readings = readingsFromHistory(history, catalog.indexOf, cfg);
  if (!readings.some((r) => r.signal > 0)) return null;
  return rankingOfReadings(catalog, readings, cfg, opts);
}

/**
 * readerRanking in steps: `pause` is awaited before each space's scan and within long ones (`cfg.stepValues`), before
 * the fusion, before the serendipity input and between the first list's walks over the catalog (`first`: the level
 * and length the page will show, computed here so that drawing it is cheap), so that no single task holds the page's
 * thread for long (a 100k-title catalog in a slow Chromium: the lexical scan was one task of ~60 ms, the first list
 * ~75 ms). The result is readerRanking's, exactly.
 */
export async function readerRankingInSteps(catalog: Catalog, history: HistoryEntry[], cfg: RankerConfig, opts: RankOptions, pause: () => Promise<void>, first?: { level: number; k: number }): Promise<ReaderRanking | null> {
  const readings = readingsFromHistory(history, catalog.indexOf, cfg);
  if (!readings.some((r) => r.signal > 0)) return null;
  const ranking = await inSteps(rankingSteps(catalog, readings, cfg, opts), pause);
  if (first) {
    await inSteps(ranking.listSteps(first.level, first.k), pause);
    await pause(); // where the budget is spent, the list is drawn in a task of its own
  }
  return ranking;
}

/** Runs a ranking's steps to the end, awaiting `pause` before each (the page's thread is given back between them). */
async function inSteps<T>(steps: Generator<void, T>, pause: () => Promise<void>): Promise<T> {
  for (;;) {
    await pause();
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * The personalised ranking of one reader's readings (oldest first): top `k` candidates with explanations.
 * Pure and synchronous, so the page, a worker and the offline evaluation all run this same code.
 */
export function rankReadings(catalog: Catalog, readings: readonly Reading[], cfg: RankerConfig, k: number, opts: RankOptions = {}): Recommendation[] {
  return rankingOfReadings(catalog, readings, cfg, opts).list(opts.serendipity ?? cfg.serendipity.level, k);
}

/**
 * Why one title is (or is not) recommended to this reader — the title page's "why" chart — from the same
 * ranking For you shows at the same level: contributions, the history titles behind them, and whether it is a
 * surprise in the reader's first `k` titles. Undefined for a new reader or a title the reader has read.
 */
export function explainTitle(catalog: Catalog, history: HistoryEntry[], cfg: RankerConfig, index: number, k: number, opts: RankOptions = {}): Recommendation | undefined {
  return readerRanking(catalog, history, cfg, opts)?.explain(index, opts.serendipity ?? cfg.serendipity.level, k);
}

/** "For you": null when the reader has no positive signal yet (cold start: show popular titles). */
export function recommend(catalog: Catalog, history: HistoryEntry[], cfg: RankerConfig, k: number, opts: RankOptions = {}): Recommendation[] | null {
  return readerRanking(catalog, history, cfg, opts)?.list(opts.serendipity ?? cfg.serendipity.level, k) ?? null;
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

/** "More like this": the title itself is the whole profile, in the content spaces with the config's weights. */
export function moreLikeThis(catalog: Catalog, index: number, cfg: RankerConfig, k: number): Recommendation[] {
  const { readings, opts } = moreLikeThisQuery(catalog, index, cfg);
  return rankReadings(catalog, readings, cfg, k, opts);
}

/**
 * moreLikeThis in steps, one space's scan each, `pause` awaited before each and before the list (the title page: on
 * a 100k-title catalog the whole ranking was one task of 69–91 ms). The same list, exactly.
 */
export async function moreLikeThisInSteps(catalog: Catalog, index: number, cfg: RankerConfig, k: number, pause: () => Promise<void>): Promise<Recommendation[]> {
  const { readings, opts } = moreLikeThisQuery(catalog, index, cfg);
  const ranking = await inSteps(rankingSteps(catalog, readings, cfg, opts), pause);
  return inSteps(ranking.listSteps(0, k), pause);
}

function moreLikeThisQuery(catalog: Catalog, index: number, cfg: RankerConfig): { readings: Reading[]; opts: RankOptions & { serendipity: 0 } } {
  const title: Reading = { index, taste: 1, disliked: false, consumed: true, preferred: true, signal: 1 };
  const spaces = new Set(signalsOf(catalog).filter((s) => s.kind === 'content').map((s) => s.name));
  const settings = { weights: cfg.spaceWeights, temperature: 0, center: {}, halfLifeShare: cfg.community.halfLifeShare, ratingWeight: cfg.community.ratingWeight };
  return { readings: [title], opts: { serendipity: 0, spaces, settings } };
}

/** Most popular titles first, skipping those the reader has consumed (cold start and fallback). */
export function popular(catalog: Catalog, history: HistoryEntry[], k: number): number[] {
  const candidates = new Uint8Array(catalog.items.length).fill(1);
  for (const e of history) if (isConsumed(e) && catalog.indexOf.has(e.id)) candidates[catalog.indexOf.get(e.id)!] = 0;
  return topK(popularityOf(catalog), k, candidates);
}
