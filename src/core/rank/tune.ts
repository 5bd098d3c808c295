/**
 * Fitting the Ranker to a community's histories, with every choice made on a validation split carved from those
 * histories alone: the evaluation protocol's own temporal rule (shared/design/evaluation.md) applied again to the
 * visible data. Nothing held out for evaluation is ever read.
 *
 * 1. Carve: each reader's latest 20 % positives become validation targets; everything before them trains.
 * 2. Train on the carved data: the community model (EASE) and the sequence model.
 * 3. Score the validation readers in every space; pick the community score's recency and taste settings, then
 *    the global space weights (coordinate ascent on NDCG@10), the attention temperature τ, and the serendipity
 *    price (rank/calibrate.ts: lists a set share less similar to the history than the community model's plain
 *    lists, within an accuracy floor).
 * 4. Refit on everything: the community model again, and the sequence model continued from step 2's weights.
 *
 * This file is tfjs-free (the snapshot builder runs it); rank/train.ts adds the sequence model.
 */
import type { RankerConfig, SerendipityConfig } from '../config.ts';
import { temporalSplit, type TrainData } from '../split.ts';
import { ndcg } from '../math/metrics.ts';
import { topK } from '../math/top-k.ts';
import type { Interaction } from '../source.ts';
import { categorySimilarity, communityScores } from './community.ts';
import { fitCommunity, sparseAt, type Cooccurrence } from './sparse-ease.ts';
import { attentionLogits, fuse, readerWeights } from './fusion.ts';
import { readingsFromEvents } from './reader.ts';
import { calibrationReader, solvePrice } from './calibrate.ts';
import { itemCategories, type SerendipityInput } from './serendipity.ts';
import { candidatesOf, standardise, type Catalog, type Community, type LearnedRanker } from './signals.ts';
import { CF_SPACE } from '../spaces.ts';
import { availableSpaces, rawScores } from './signal/index.ts';

/** Every validation reader: what the spaces predicted (standardised) and what came next. */
interface ValidationReader {
  candidates: Uint8Array;
  targets: Set<number>;
  z: Map<string, Float32Array>;
  logits?: Map<string, number>;
  /** Catalog rows the reader has consumed (what serendipity measures similarity against). */
  history: number[];
  /** The community model's plain list (every history title weighing 1): serendipity's reference. */
  reference?: number[];
}

/** What serendipity needs of the carve's catalog besides each reader's scores. */
type SerendipityContext = Pick<SerendipityInput, 'genre' | 'categorySimilarity' | 'popularity'>;

/** NDCG@k of the ranking of the candidates by `scores` (the evaluation's own metric and tie rule). */
function ndcgAt(scores: Float32Array, candidates: Uint8Array, targets: ReadonlySet<number>, k: number): number {
  return ndcg(topK(scores, k, candidates), targets, k);
}

/** The validation readers of a carve, scored by a catalog trained on it. */
export class ValidationSet {
  readonly readers: ValidationReader[];
  readonly halfLifeShare: number;
  readonly ratingWeight: number;
  /** NDCG@10 of the community score alone at those settings. */
  readonly cfNdcg: number;

  /** Mean attention logit per space over the validation readers. */
  readonly center: Record<string, number>;

  private readonly serendipity?: SerendipityContext;

  /** The cut-off of every validation NDCG (config `ranker.tune.k`). */
  readonly k: number;

  constructor(readers: ValidationReader[], halfLifeShare: number, ratingWeight: number, cfNdcg: number, k: number, serendipity?: SerendipityContext) {
    this.readers = readers;
    this.k = k;
    this.serendipity = serendipity;
    const sum = new Map<string, number>();
    const count = new Map<string, number>();
    for (const r of readers) {
      for (const [s, v] of r.logits ?? []) {
        sum.set(s, (sum.get(s) ?? 0) + v);
        count.set(s, (count.get(s) ?? 0) + 1);
      }
    }
    this.center = Object.fromEntries([...sum].map(([s, v]) => [s, v / count.get(s)!]));
    this.halfLifeShare = halfLifeShare;
    this.ratingWeight = ratingWeight;
    this.cfNdcg = cfNdcg;
  }

  /** Mean NDCG@10 over the validation readers with these global weights and temperature. */
  ndcg(weights: Readonly<Record<string, number>>, temperature: number): number {
    let sum = 0;
    const out = new Float32Array(this.readers[0]?.candidates.length ?? 0);
    for (const r of this.readers) {
      const w = readerWeights(weights, r.z.keys(), temperature ? r.logits : undefined, temperature, this.center);
      sum += ndcgAt(fuse({ candidates: r.candidates, z: r.z }, w, out), r.candidates, r.targets, this.k);
    }
    return this.readers.length ? sum / this.readers.length : 0;
  }

  /**
   * The serendipity price (SerendipityConfig.strength) for these weights, calibrated on the validation readers
   * (rank/calibrate.ts): the default level's lists `reduction` less similar to the histories than the community
   * model's plain lists, keeping `accuracyFloor` of level 0's NDCG@10. Undefined without a genre space.
   */
  serendipityStrength(weights: Readonly<Record<string, number>>, temperature: number, cfg: SerendipityConfig): number | undefined {
    const context = this.serendipity;
    if (!context || !this.readers.length || !(cfg.level > 0)) return undefined;
    const readers = this.readers.map((r) => {
      const w = readerWeights(weights, r.z.keys(), temperature ? r.logits : undefined, temperature, this.center);
      const input = { ...context, scores: fuse({ candidates: r.candidates, z: r.z }, w), candidates: r.candidates, history: r.history };
      return calibrationReader(input, cfg, (order) => ndcg(order, r.targets, this.k), r.reference);
    });
    return solvePrice(readers, cfg).strength;
  }

  /**
   * Global weights over `spaces` by coordinate ascent (each weight tried at ×0, ×½, ×2 of its value, three
   * rounds), then τ from a small grid when `attention`; ties keep the simpler setting. With `serendipity`, also
   * the serendipity price for those weights.
   */
  learn(spaces: readonly string[], attention: boolean, serendipity?: SerendipityConfig): LearnedRanker {
    const weights: Record<string, number> = Object.fromEntries(spaces.map((s) => [s, 1]));
    let best = this.ndcg(weights, 0);
    for (let round = 0; round < 3; round++) {
      let improved = false;
      for (const s of spaces) {
        const was = weights[s];
        let keep = was;
        for (const v of [was * 0.5, was * 2, 0, was === 0 ? 0.5 : was * 0.75, was * 1.5]) {
          if (v === was) continue;
          weights[s] = v;
          if (Object.values(weights).some((x) => x > 0)) {
            const score = this.ndcg(weights, 0);
            if (score > best + 1e-6) {
              best = score;
              keep = v;
              improved = true;
            }
          }
        }
        weights[s] = keep;
      }
      if (!improved) break;
    }
    let temperature = 0;
    if (attention) {
      for (const t of [0.25, 0.5, 1, 2]) {
        const score = this.ndcg(weights, t);
        if (score > best + 1e-6) {
          best = score;
          temperature = t;
        }
      }
    }
    const total = Object.values(weights).reduce((a, b) => a + b, 0);
    for (const s of spaces) weights[s] = weights[s] / total;
    const strength = serendipity ? this.serendipityStrength(weights, temperature, serendipity) : undefined;
    return {
      weights,
      temperature,
      center: this.center,
      halfLifeShare: this.halfLifeShare,
      ratingWeight: this.ratingWeight,
      ...(strength === undefined ? {} : { strength }),
      validation: { users: this.readers.length, ndcg: best },
    };
  }
}

/** The visible data as interactions again (the carve re-applies the protocol's split to them). */
function interactionsOf(train: TrainData): Interaction[] {
  const out: Interaction[] = [];
  for (const u of train.users) for (const e of u.history) out.push({ user: u.id, item: train.items[e.item].id, rating: e.rating, timestamp: e.timestamp });
  return out;
}

/** Step 1: the validation carve of the visible data. */
export function carveValidation(train: TrainData) {
  return temporalSplit(train.items, interactionsOf(train));
}

/** The community model, category similarity and readers per title of some histories. */
export function communityOf(train: TrainData, content: Catalog, cfg: RankerConfig, cooccurrence?: Cooccurrence): Community {
  const genre = content.spaces.get('genre');
  const readers = train.users.map((u) => u.seen);
  return {
    model: fitCommunity(readers, train.items.length, cfg.community, cooccurrence),
    categorySimilarity: genre ? categorySimilarity(readers, itemCategories(genre), genre.dim) : new Float32Array(0),
    // The popularity signal's counts come with the sparse model only (the dense one has no such signal).
    ...(sparseAt(train.items.length, cfg.community) ? { sparse: true, readers: Float32Array.from(train.matrix.itemUsers, (u) => u.length) } : {}),
  };
}

/**
 * Step 3: scores the carve's validation readers with `inner` (a catalog whose models were trained on the carve),
 * picking the community score's settings first.
 */
export function validationSet(inner: Catalog, carve: ReturnType<typeof carveValidation>, cfg: RankerConfig): ValidationSet {
  const n = carve.train.items.length;
  const all = carve.evaluated;
  const perReader = n * (availableSpaces(inner).length + 1) * 4;
  const most = Math.min(cfg.tune.maxReaders, Math.max(100, Math.floor(cfg.tune.memoryBytes / perReader)));
  const step = all.length / most;
  const chosen = step > 1 ? Array.from({ length: most }, (_, i) => all[Math.floor(i * step)]) : all;
  const valReaders = chosen.map((e) => ({ readings: readingsFromEvents(e.user.history, carve.train.implicit, cfg), targets: new Set(e.test), history: [...e.user.seen] }));
  // Community settings: the (half-life, taste weight) whose community score alone ranks the targets best.
  let cf = { halfLifeShare: cfg.community.halfLifeShare, ratingWeight: cfg.community.ratingWeight, ndcg: -1 };
  if (inner.community) {
    for (const halfLifeShare of cfg.tune.halfLifeShares) {
      for (const ratingWeight of carve.train.implicit ? [0] : cfg.tune.ratingWeights) {
        let sum = 0;
        for (const v of valReaders) sum += ndcgAt(rawScores(inner, v.readings, CF_SPACE, cfg, { halfLifeShare, ratingWeight })!, candidatesOf(n, v.readings), v.targets, cfg.tune.k);
        if (sum / valReaders.length > cf.ndcg + 1e-6) cf = { halfLifeShare, ratingWeight, ndcg: sum / valReaders.length };
      }
    }
  }
  const signalOpts = { halfLifeShare: cf.halfLifeShare, ratingWeight: cf.ratingWeight };
  const spaces = availableSpaces(inner);
  const readers: ValidationReader[] = valReaders.map((v) => {
    const candidates = candidatesOf(n, v.readings);
    const z = new Map<string, Float32Array>();
    for (const s of spaces) {
      const raw = rawScores(inner, v.readings, s, cfg, signalOpts);
      if (raw) z.set(s, standardise(raw, candidates));
    }
    const reference = inner.community
      ? topK(communityScores(inner.community.model, v.history.map((index) => ({ index, weight: 1 }))), cfg.serendipity.basis, candidates)
      : undefined;
    return { candidates, targets: v.targets, z, logits: attentionLogits(inner, v.readings, cfg, signalOpts), history: v.history, ...(reference ? { reference } : {}) };
  });
  const genre = inner.spaces.get('genre');
  const serendipity = genre && inner.community
    ? { genre, categorySimilarity: inner.community.categorySimilarity, popularity: inner.items.map((t) => t.popularity) }
    : undefined;
  return new ValidationSet(readers, cf.halfLifeShare, cf.ratingWeight, cf.ndcg, cfg.tune.k, serendipity);
}

/** Step 4 for the community part, and what the validation chose; no `learned` when nobody could be validated. */
export function finish(train: TrainData, content: Catalog, cfg: RankerConfig, validation: ValidationSet, spaces: string[], cooccurrence?: Cooccurrence): { community: Community; learned?: LearnedRanker } {
  const learned = validation.readers.length ? validation.learn(spaces, true, cfg.serendipity) : undefined;
  return { community: { ...communityOf(train, content, cfg, cooccurrence), ...(learned ? { learned } : {}) }, learned };
}

/**
 * Steps 1–4 without a sequence model, synchronously: what the snapshot builder runs on a source with
 * interactions (`npm run train:seq` later adds the sequence model and learns the fusion again).
 */
/**
 * `cooccurrence`, when given, is the whole data's co-occurrence lists computed outside (SQL: the builder's
 * `--engine duckdb` or `--cooccurrence <parquet>`) for the final fit; the validation carve's model is fitted here.
 */
export function fitCommunityRanker(train: TrainData, content: Catalog, cfg: RankerConfig, cooccurrence?: Cooccurrence): { community: Community; validation: ValidationSet; learned?: LearnedRanker } {
  const carve = carveValidation(train);
  const inner: Catalog = { ...content, community: communityOf(carve.train, content, cfg) };
  const validation = validationSet(inner, carve, cfg);
  return { ...finish(train, content, cfg, validation, availableSpaces(inner), cooccurrence), validation };
}
