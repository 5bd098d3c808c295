/**
 * One ranking signal: a way to score every catalog title for a reader, and to say which history title is
 * behind a title's score. Every signal (content spaces, the community model, the sequence model, and whatever
 * comes next) has this one shape and is listed once in ./index.ts; the ranker, the tuner, the evaluation's
 * ablations and the "why" chart iterate over that list.
 */
import type { RankerConfig } from '../../config.ts';
import type { Reading } from '../reader.ts';
import type { Catalog, SignalOptions } from '../signals.ts';

/** What explanations look things up in, shared by the signals while one list is explained. */
export interface ExplainContext {
  catalog: Catalog;
  readings: readonly Reading[];
  cfg: RankerConfig;
  options: SignalOptions;
  /** Per-signal memo (e.g. the history's weighted rows), filled on first use. */
  memo: Map<string, unknown>;
}

export interface Signal {
  /** The space name weights, contributions and strings are keyed by (src/core/spaces.ts). */
  name: string;
  /** `content`: cosine to the reader's profile in a stored space; `model`: a trained model's scores. */
  kind: 'content' | 'model';
  /** The evaluation ablation this signal belongs to (`toonpick-no-<ablation>`), if any besides `content`. */
  ablation?: string;
  available(catalog: Catalog): boolean;
  /** Raw scores of every title for this reader, or undefined when the signal has nothing to go on. */
  scores(catalog: Catalog, readings: readonly Reading[], cfg: RankerConfig, opts: SignalOptions): Float32Array | undefined;
  /** `scores` in steps of about `cfg.stepValues` values each (yielding between them), where one scan is long. */
  scoreSteps?(catalog: Catalog, readings: readonly Reading[], cfg: RankerConfig, opts: SignalOptions): Generator<void, Float32Array | undefined>;
  /** The history title behind this signal's score for `item` (a catalog row), and how close it is. */
  explain(ctx: ExplainContext, item: number): { closest?: number; similarity?: number };
}

/** A memoised value of an explanation context. */
export function remember<T>(ctx: ExplainContext, key: string, make: () => T): T {
  if (!ctx.memo.has(key)) ctx.memo.set(key, make());
  return ctx.memo.get(key) as T;
}
