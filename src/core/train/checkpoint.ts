/**
 * Training checkpoints, shared by the style encoder and the sequence model: everything a run needs to go on
 * after the last whole epoch as if it had never stopped — the weights, Adam's moments and bias-correction
 * products, the position of the run's random generator, and the history so far. A resumed run gives the very
 * same weights as an uninterrupted one (unit-tested), so a long training job can be stopped and restarted on
 * another machine.
 *
 * File layout (framed.ts): "TPCKPT01", the JSON header, then float32 data (weights, then Adam's first and second
 * moments, each in the model's variable order).
 */
import * as tf from '@tensorflow/tfjs';
import { DataError } from '../errors.ts';
import { decodeFramed, encodeFramed, floatsOf } from '../framed.ts';

const MAGIC = 'TPCKPT01';

/** What identifies a run: a checkpoint resumes only the run it came from (same settings, same data). */
export type RunKey = Record<string, string | number | boolean | null>;

export interface TrainCheckpoint<H = unknown> {
  /** 'style' or 'sequence': which trainer wrote it. */
  kind: string;
  run: RunKey;
  /** Whole epochs done. */
  epoch: number;
  /** The run's random generator after that epoch (`rng(random)` continues it). */
  random: number;
  /** The sample order the next epoch shuffles from (each epoch shuffles the previous one's order). */
  order: number[];
  history: H[];
  weights: Float32Array;
  adam: AdamState;
  /** The file it was read from (decodeCheckpoint), for errors. */
  file?: string;
}

export interface AdamState {
  iterations: number;
  /** β1^t and β2^t as Adam holds them (float32, multiplied up step by step: recomputing them with pow differs in the last bit). */
  accBeta1: number;
  accBeta2: number;
  /** First moments, then second moments, one block per variable in the model's order. */
  moments: Float32Array;
}

interface AdamInternals {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  iterations_: number;
}

/** Adam's state after the last step (its moments in the order of `variables`, zero before the first step). */
export async function adamState(optimizer: tf.AdamOptimizer, variables: readonly tf.Variable[]): Promise<AdamState> {
  const inner = optimizer as unknown as AdamInternals;
  const [iterations, ...saved] = await optimizer.getWeights();
  iterations.tensor.dispose(); // a fresh scalar each call; the count is read from the optimizer below
  const named = new Map(saved.map((w) => [w.name, w.tensor]));
  const total = variables.reduce((s, v) => s + v.size, 0);
  const moments = new Float32Array(2 * total);
  let o = 0;
  for (const suffix of ['m', 'v'])
    for (const v of variables) {
      const t = named.get(`${v.name}/${suffix}`);
      if (t) moments.set(await t.data<'float32'>(), o);
      o += v.size;
    }
  return { iterations: inner.iterations_, accBeta1: (await inner.accBeta1.data())[0], accBeta2: (await inner.accBeta2.data())[0], moments };
}

/** Puts `state` into a fresh Adam for `variables` (the same order as when it was taken). */
export async function restoreAdam(optimizer: tf.AdamOptimizer, variables: readonly tf.Variable[], state: AdamState): Promise<void> {
  const total = variables.reduce((s, v) => s + v.size, 0);
  if (state.moments.length !== 2 * total) throw new RangeError(`checkpoint: Adam holds ${state.moments.length} moment values, the model needs ${2 * total}`);
  const list: Array<{ name: string; tensor: tf.Tensor }> = [{ name: 'iter', tensor: tf.scalar(state.iterations, 'int32') }];
  let o = 0;
  for (const suffix of ['m', 'v'])
    for (const v of variables) {
      list.push({ name: `${v.name}/${suffix}`, tensor: tf.tensor(state.moments.subarray(o, o + v.size), v.shape) });
      o += v.size;
    }
  await optimizer.setWeights(list);
  const inner = optimizer as unknown as AdamInternals;
  // setWeights recomputes β^t with pow; the run had multiplied them up, so put back the exact float32 values.
  tf.tidy(() => {
    inner.accBeta1.assign(tf.scalar(state.accBeta1));
    inner.accBeta2.assign(tf.scalar(state.accBeta2));
  });
  for (const { tensor } of list) tensor.dispose(); // the moments' variables hold their own references
}

/** The trainable variables' values, concatenated in order. */
export async function variableValues(variables: readonly tf.Variable[]): Promise<Float32Array> {
  const out = new Float32Array(variables.reduce((s, v) => s + v.size, 0));
  let o = 0;
  for (const v of variables) {
    out.set(await v.data<'float32'>(), o);
    o += v.size;
  }
  return out;
}

/** Sets the variables from `values` (as variableValues gives them). */
export function assignValues(variables: readonly tf.Variable[], values: Float32Array): void {
  const total = variables.reduce((s, v) => s + v.size, 0);
  if (values.length !== total) throw new RangeError(`checkpoint: holds ${values.length} weights, the model needs ${total}`);
  let o = 0;
  for (const v of variables) {
    const t = tf.tensor(values.subarray(o, o + v.size), v.shape);
    v.assign(t);
    t.dispose();
    o += v.size;
  }
}

/**
 * Refuses a checkpoint that does not belong to this run, naming the first setting that differs, or one that is
 * already past the run's end, or whose sample order is not one of this run's samples.
 */
export function checkResumable(c: TrainCheckpoint, kind: string, run: RunKey, epochs: number, samples: number): void {
  const file = c.file ?? 'checkpoint';
  if (c.kind !== kind) throw new DataError(file, `is a ${c.kind} checkpoint, not a ${kind} one`);
  for (const key of new Set([...Object.keys(run), ...Object.keys(c.run)]))
    if (run[key] !== c.run[key])
      throw new DataError(file, `belongs to another run: ${key} is ${JSON.stringify(c.run[key])} there and ${JSON.stringify(run[key])} here (same settings and data are needed to resume)`, { field: key });
  if (!(Number.isInteger(c.epoch) && c.epoch >= 0 && c.epoch <= epochs)) throw new DataError(file, `stops after epoch ${c.epoch}, outside this run's ${epochs} epochs`, { field: 'epoch' });
  // The order must be a permutation of the run's samples, or the next epoch would read the wrong rows.
  const seen = new Uint8Array(samples);
  if (c.order.length !== samples || c.order.some((i) => !(Number.isInteger(i) && i >= 0 && i < samples) || seen[i]++))
    throw new DataError(file, `holds a sample order that is not a permutation of the run's ${samples} samples`, { field: 'order' });
}

interface Header {
  kind: string;
  run: RunKey;
  epoch: number;
  random: number;
  order: number[];
  history: unknown[];
  weights: number;
  adam: { iterations: number; accBeta1: number; accBeta2: number; moments: number };
}

export function encodeCheckpoint(c: TrainCheckpoint): Uint8Array {
  const header: Header = {
    kind: c.kind,
    run: c.run,
    epoch: c.epoch,
    random: c.random,
    order: c.order,
    history: c.history,
    weights: c.weights.length,
    adam: { iterations: c.adam.iterations, accBeta1: c.adam.accBeta1, accBeta2: c.adam.accBeta2, moments: c.adam.moments.length },
  };
  return encodeFramed(MAGIC, header, [c.weights, c.adam.moments]);
}

/** Reads a checkpoint, refusing a damaged or truncated one with a DataError naming `file` and what is wrong. */
export function decodeCheckpoint(bytes: Uint8Array, file: string): TrainCheckpoint {
  const { header, body } = decodeFramed(bytes, MAGIC, file, 'a Toonpick training checkpoint');
  const h = header as Header;
  const count = (v: unknown) => Number.isInteger(v) && (v as number) >= 0;
  if (typeof h?.kind !== 'string' || typeof h.run !== 'object' || !Array.isArray(h.history) || !Array.isArray(h.order) || !count(h.weights) || !count(h.adam?.moments) || !count(h.adam?.iterations) || !count(h.epoch) || !count(h.random))
    throw new DataError(file, 'has a damaged header');
  if (!(h.adam.accBeta1 > 0 && h.adam.accBeta1 < 1 && h.adam.accBeta2 > 0 && h.adam.accBeta2 < 1)) throw new DataError(file, 'has Adam products outside (0, 1)', { field: 'adam' });
  const expected = 4 * (h.weights + h.adam.moments);
  if (body.byteLength !== expected) throw new DataError(file, `holds ${body.byteLength} bytes of weights and moments, not ${expected} (truncated?)`);
  const floats = floatsOf(body);
  const bad = floats.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new DataError(file, `has a non-finite ${bad < h.weights ? `weight at ${bad}` : `Adam moment at ${bad - h.weights}`}`);
  return {
    kind: h.kind,
    run: h.run,
    epoch: h.epoch,
    random: h.random,
    order: h.order,
    history: h.history,
    weights: floats.subarray(0, h.weights),
    adam: { iterations: h.adam.iterations, accBeta1: h.adam.accBeta1, accBeta2: h.adam.accBeta2, moments: floats.subarray(h.weights) },
    file,
  };
}
