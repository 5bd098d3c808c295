/**
 * The pluggable method interface of the offline evaluation. A method trains once on the visible data, then
 * fills a score for every catalog item for one user at a time; the harness removes the user's training-history
 * items and takes the top K (ties in catalog order), so a method never has to rank or filter.
 */
import type { TrainData, TrainUser } from '../../split.ts';

export interface EvalMethod {
  /** Row name in the report and the JSON (`methods[name]`). */
  readonly name: string;
  /** Trains on everything visible: the catalog, every user's ordered history, the binary matrix. */
  fit(data: TrainData): void | Promise<void>;
  /**
   * Writes a score for every catalog item (out.length === data.items.length) for `user`, a user of the
   * TrainData given to fit (its `row`, `history` and `seen` are the visible part only). Higher is better.
   * `out` is reused between calls: write every entry.
   */
  score(user: TrainUser, out: Float64Array): void;
}

/** Settings a method factory may read; each method documents the ones it uses. */
export interface MethodOptions {
  /** Seed for anything random (default 42). */
  seed?: number;
  /** EASE L2 regularisation λ (default 250). */
  lambda?: number;
  /** Sparse EASE's candidates per column (`ease-sparse`, and `toonpick*` forced to the sparse community model). */
  candidates?: number;
  /** Where a method reports what its fit did (e.g. what its validation tuning chose); silent when absent. */
  log?: (message: string) => void;
}

export type MethodFactory = (options: MethodOptions) => EvalMethod;
