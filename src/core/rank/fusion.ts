/**
 * User-aware fusion (seed 001's multi-modal contribution measurement, α_j = softmax_j(v_user · e_j)).
 *
 * Every space j has a global weight w_j learned on the community's histories. For one reader, each space is asked
 * to predict the reader's latest preferred titles from the history before them: e_j is that space's standardised
 * prediction, v_user the indicator of those latest titles, so v_user · e_j / |latest| is how well space j explains
 * this reader (its mean z-score on them). The reader's weights are α_j ∝ w_j · exp(τ · v_user · e_j): a reader
 * whose taste follows genres leans on genre, one who follows the crowd on the community model. τ = 0 gives
 * everyone the global weights; τ is learned on the validation split with the weights.
 */
import type { RankerConfig } from '../config.ts';
import { type Catalog, type ReaderSignals, type SignalOptions } from './signals.ts';
import { readerSignals } from './signal/index.ts';
import type { Reading } from './reader.ts';

/**
 * The reader's latest `recent` preferred titles (reading positions) and the history before the first of them;
 * undefined when the history is too short to hold any back.
 */
export function attentionSplit(readings: readonly Reading[], cfg: RankerConfig): { earlier: readonly Reading[]; latest: number[] } | undefined {
  const latest: number[] = [];
  for (let p = readings.length - 1; p >= 0 && latest.length < cfg.attention.recent; p--) if (readings[p].preferred && readings[p].consumed) latest.push(p);
  if (latest.length === 0) return undefined;
  const first = latest[latest.length - 1];
  if (first === 0) return undefined;
  return { earlier: readings.slice(0, first), latest };
}

/**
 * Each space's attention logit for this reader: the mean standardised score, from the history before them, of
 * the reader's latest `recent` preferred titles. Undefined when the history is too short to hold any back.
 */
export function attentionLogits(catalog: Catalog, readings: readonly Reading[], cfg: RankerConfig, opts: SignalOptions): Map<string, number> | undefined {
  const split = attentionSplit(readings, cfg);
  if (!split) return undefined;
  const { earlier: before, latest } = split;
  const earlier = readerSignals(catalog, before, cfg, opts);
  const logits = new Map<string, number>();
  for (const [name, z] of earlier.z) {
    let s = 0;
    for (const p of latest) s += z[readings[p].index];
    logits.set(name, s / latest.length);
  }
  return logits;
}

/**
 * α_j ∝ w_j · exp(τ · (logit_j − center_j)) over the spaces this reader has signals in, scaled to sum to 1.
 * `center_j` is the typical reader's logit (learned with the weights), so τ moves a reader's weights by how
 * much more (or less) than usual each space explains them, not by the spaces' different scales.
 */
export function readerWeights(
  global: Readonly<Record<string, number>>,
  names: Iterable<string>,
  logits: ReadonlyMap<string, number> | undefined,
  temperature: number,
  center: Readonly<Record<string, number>> = {},
): Map<string, number> {
  const spaces = [...names];
  const a = (s: string) => (logits?.has(s) ? temperature * (logits.get(s)! - (center[s] ?? 0)) : 0);
  const w = new Map<string, number>();
  let sum = 0;
  let max = -Infinity;
  for (const s of spaces) max = Math.max(max, a(s));
  for (const s of spaces) {
    const g = global[s] ?? 0;
    if (!(g > 0)) continue;
    const v = g * Math.exp(a(s) - max);
    w.set(s, v);
    sum += v;
  }
  for (const [s, v] of w) w.set(s, sum > 0 ? v / sum : 0);
  return w;
}

/** Σ_j α_j · z_j: the fused score of every title (non-candidates included; the caller skips them). */
export function fuse(signals: ReaderSignals, weights: ReadonlyMap<string, number>, out = new Float32Array(signals.candidates.length)): Float32Array {
  out.fill(0);
  for (const [name, a] of weights) {
    const z = signals.z.get(name);
    if (!z || a === 0) continue;
    for (let i = 0; i < out.length; i++) out[i] += a * z[i];
  }
  return out;
}
