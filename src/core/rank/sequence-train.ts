/**
 * Trains the sequential model of `sequence.ts` with TensorFlow.js (any backend; Node uses wasm). Pure core code:
 * the caller picks the backend (`chooseSequenceBackend`) and hands in the community's preference sequences.
 *
 * Training task (BERT4Rec's cloze task, tilted towards the inference case): every sequence is cut at a random
 * end with probability `cropProbability` (more "what comes next" examples from one history), its last title is
 * always masked (exactly what inference asks: [MASK] after the history) and each other title is masked with
 * probability `maskProbability`. Loss: softmax cross-entropy over all titles at the masked slots.
 */
import * as tf from '@tensorflow/tfjs';
import { chooseTfjsBackend } from '../tfjs-backend.ts';
import type { SequenceConfig } from '../config.ts';
import { rng, shuffle } from '../random.ts';
import { sha256Hex } from '../snapshot/format.ts';
import { adamState, assignValues, checkResumable, restoreAdam, variableValues, type RunKey, type TrainCheckpoint } from '../train/checkpoint.ts';
import { sequenceWeightCount, sequenceWeightShapes, sizeOf, type SequenceSpec } from './sequence.ts';

/** The config's sequence settings (docs in config.ts); `epochs` is the length of this run. */
export type SequenceTrainOptions = Omit<SequenceConfig, 'fineTuneEpochs'>;

export interface SequenceTrainInput {
  itemCount: number;
  /** The genre vocabulary and each title's normalised multi-hot (itemCount × categories.length). */
  categories: string[];
  itemCategories: Float32Array;
  /** Each community reader's preferred titles (catalog rows) in reading order; sequences under 2 are skipped. */
  sequences: number[][] | SequenceSource;
}

/**
 * The community's sequences, read a batch at a time: an operator's trainer keeps them in a file (train:seq), so
 * that only their lengths and one batch are in memory; `packSequences` keeps them packed in memory.
 */
export interface SequenceSource {
  /** Each sequence's length (what the batching by length and the skipping of short ones need). */
  readonly lengths: Int32Array;
  /** The sequences of `rows`, in that order. */
  read(rows: readonly number[]): Promise<number[][]>;
}

/** Sequences packed into one Int32Array (4 bytes a title, instead of a JS array per reader). */
export function packSequences(sequences: Iterable<readonly number[]>): SequenceSource {
  const lengths: number[] = [];
  let tokens = new Int32Array(1024);
  let used = 0;
  for (const s of sequences) {
    if (used + s.length > tokens.length) {
      const grown = new Int32Array(Math.max(2 * tokens.length, used + s.length));
      grown.set(tokens.subarray(0, used));
      tokens = grown;
    }
    tokens.set(s, used);
    used += s.length;
    lengths.push(s.length);
  }
  const offsets = new Float64Array(lengths.length + 1);
  lengths.forEach((l, i) => (offsets[i + 1] = offsets[i] + l));
  return { lengths: Int32Array.from(lengths), read: async (rows) => rows.map((r) => Array.from(tokens.subarray(offsets[r], offsets[r + 1]))) };
}

/** Checkpoints and resuming (train/checkpoint.ts): the same run, stopped and resumed, gives the same weights. */
export interface SequenceTrainRun {
  onEpoch?: (epoch: number, loss: number) => void;
  /** Continues from these weights (a model with the same spec) instead of a fresh initialisation. */
  from?: Float32Array;
  onCheckpoint?: (checkpoint: TrainCheckpoint<number>) => void | Promise<void>;
  resume?: TrainCheckpoint;
  /** Identifies the training data in checkpoints, beyond the sequence counts. */
  dataKey?: string;
}

export interface SequenceTrainResult {
  spec: SequenceSpec;
  weights: Float32Array;
  /** Mean training loss of each epoch. */
  losses: number[];
  seconds: number;
}

/** Training runs on the project's one tfjs backend choice, starting at wasm (XNNPACK), else cpu. */
export const chooseSequenceBackend = (): Promise<string> => chooseTfjsBackend('wasm');

/** Row lookup whose gradient is a scatter-add (the wasm backend lacks UnsortedSegmentSum, gather's own gradient). */
const gatherRows = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [table, ids, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
  save([ids]);
  const [rows, cols] = table.shape;
  return {
    value: tf.gather(table, ids) as tf.Tensor2D,
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [tf.scatterND(saved[0].reshape([-1, 1]), dy, [rows, cols]), tf.zerosLike(saved[0])],
  };
}) as (table: tf.Tensor2D, ids: tf.Tensor1D) => tf.Tensor2D;

/**
 * a·b for 2-D tensors whose gradients use explicitly transposed operands: the wasm backend multiplies plain
 * [m, k]·[k, n] matrices with XNNPACK but falls back to a ~6× slower loop when asked to transpose an operand.
 */
const matMul = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
  const [a, b, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.GradSaveFunc];
  save([a, b]);
  return {
    value: tf.matMul(a, b),
    gradFunc: (dy: tf.Tensor2D, [sa, sb]: tf.Tensor[]) => [tf.matMul(dy, tf.transpose(sb as tf.Tensor2D)), tf.matMul(tf.transpose(sa as tf.Tensor2D), dy)],
  };
}) as (a: tf.Tensor, b: tf.Tensor) => tf.Tensor2D;

function gelu(x: tf.Tensor): tf.Tensor {
  // 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), the same form as the inference path.
  return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(tf.mul(tf.add(x, tf.mul(tf.mul(tf.square(x), x), 0.044715)), 0.7978845608028654))));
}

function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-6))), gamma), beta);
}

interface Batch {
  /** [B, L] token ids, left-padded with [PAD]. */
  tokens: Int32Array;
  /** 1 for real tokens (keys that may be attended to). */
  keyMask: Float32Array;
  /** Flat positions (b·L + c) of the masked slots and the titles they hide. */
  slots: Int32Array;
  targets: Int32Array;
  size: number;
  length: number;
}

function makeBatch(seqs: number[][], spec: SequenceSpec, opts: SequenceTrainOptions, random: () => number): Batch {
  const pad = spec.itemCount, mask = spec.itemCount + 1;
  const cut = seqs.map((s) => {
    let end = s.length;
    if (random() < opts.cropProbability && s.length > 2) end = 2 + Math.floor(random() * (s.length - 1)); // in [2, length]
    return s.slice(Math.max(0, end - Math.min(opts.window, spec.maxLength)), end);
  });
  const L = Math.max(...cut.map((s) => s.length));
  const tokens = new Int32Array(seqs.length * L).fill(pad);
  const keyMask = new Float32Array(seqs.length * L);
  const slots: number[] = [];
  const targets: number[] = [];
  cut.forEach((s, b) => {
    const off = b * L + (L - s.length);
    s.forEach((item, i) => {
      const masked = i === s.length - 1 || random() < opts.maskProbability;
      tokens[off + i] = masked ? mask : item;
      keyMask[off + i] = 1;
      if (masked) {
        slots.push(off + i);
        targets.push(item);
      }
    });
  });
  return { tokens, keyMask, slots: Int32Array.from(slots), targets: Int32Array.from(targets), size: seqs.length, length: L };
}

/**
 * The network of sequence.ts on a batch: logits over the catalog at each masked slot ([slots, itemCount]).
 * `dropout` is the identity outside training.
 */
function slotLogits(spec: SequenceSpec, W: (name: string) => tf.Tensor, itemCats: tf.Tensor2D, batch: Batch, dropout: (x: tf.Tensor) => tf.Tensor): tf.Tensor2D {
  const { dim, heads } = spec;
  const dh = dim / heads;
  const B = batch.size, L = batch.length;
  const table = tf.add(W('item'), matMul(itemCats, W('category'))) as tf.Tensor2D;
  const ids = tf.tensor1d(batch.tokens, 'int32');
  // Positions count back from the end: column c of a left-padded row of length L is L − 1 − c from the [MASK] end.
  const pos = tf.reverse(tf.slice(W('position'), [0, 0], [L, dim]), 0);
  let x = tf.add(tf.reshape(gatherRows(table, ids), [B, L, dim]), pos) as tf.Tensor;
  x = dropout(layerNorm(x, W('embed.norm.gamma'), W('embed.norm.beta')));
  const keyBias = tf.reshape(tf.mul(tf.sub(1, tf.tensor2d(batch.keyMask, [B, L])), -1e9), [B, 1, 1, L]);
  const split = (t: tf.Tensor) => tf.transpose(tf.reshape(t, [B, L, heads, dh]), [0, 2, 1, 3]);
  for (let l = 0; l < spec.layers; l++) {
    const p = `block${l}.`;
    const flat = tf.reshape(x, [B * L, dim]);
    const proj = (n: string) => tf.add(matMul(flat, W(p + n + '.w')), W(p + n + '.b'));
    const q = split(proj('q')), k = split(proj('k')), v = split(proj('v'));
    const att = tf.softmax(tf.add(tf.mul(tf.matMul(q, k, false, true), 1 / Math.sqrt(dh)), keyBias));
    const ctx = tf.reshape(tf.transpose(tf.matMul(dropout(att), v), [0, 2, 1, 3]), [B * L, dim]);
    const o = dropout(tf.add(matMul(ctx, W(p + 'o.w')), W(p + 'o.b')));
    const h1 = layerNorm(tf.add(flat, o), W(p + 'norm1.gamma'), W(p + 'norm1.beta'));
    const f = tf.add(matMul(gelu(tf.add(matMul(h1, W(p + 'ff1.w')), W(p + 'ff1.b'))), W(p + 'ff2.w')), W(p + 'ff2.b'));
    x = tf.reshape(layerNorm(tf.add(h1, dropout(f)), W(p + 'norm2.gamma'), W(p + 'norm2.beta')), [B, L, dim]);
  }
  const hidden = gatherRows(tf.reshape(x, [B * L, dim]) as tf.Tensor2D, tf.tensor1d(batch.slots, 'int32'));
  const h = layerNorm(gelu(tf.add(matMul(hidden, W('head.w')), W('head.b'))), W('head.norm.gamma'), W('head.norm.beta'));
  // The head scores against the item embeddings alone (not the genre part), as the inference path does.
  const itemOnly = tf.slice(W('item'), [0, 0], [spec.itemCount, dim]);
  return tf.add(matMul(h, tf.transpose(itemOnly)), W('head.bias')) as tf.Tensor2D;
}

/** [PAD] and [MASK] have no genres: two zero rows under the catalog's multi-hot. */
function categoryRows(itemCount: number, cats: number, itemCategories: Float32Array): tf.Tensor2D {
  const rows = new Float32Array((itemCount + 2) * cats);
  rows.set(itemCategories);
  return tf.tensor2d(rows, [itemCount + 2, cats]);
}

/**
 * The tfjs forward pass for histories (each followed by [MASK]), for checking the pure-TypeScript inference of
 * sequence.ts against the network that was trained. Returns one logit vector per history.
 */
export async function tfjsScores(spec: SequenceSpec, weights: Float32Array, itemCategories: Float32Array, histories: number[][]): Promise<Float32Array[]> {
  const tensors = new Map<string, tf.Tensor>();
  let o = 0;
  for (const [name, shape] of sequenceWeightShapes(spec)) {
    tensors.set(name, tf.tensor(weights.subarray(o, o + sizeOf(shape)), shape));
    o += sizeOf(shape);
  }
  const cats = Math.max(1, spec.categories.length);
  const itemCats = categoryRows(spec.itemCount, cats, itemCategories);
  const seqs = histories.map((h) => [...h.slice(Math.max(0, h.length - (spec.maxLength - 1))), spec.itemCount + 1]);
  const L = Math.max(...seqs.map((s) => s.length));
  const tokens = new Int32Array(seqs.length * L).fill(spec.itemCount);
  const keyMask = new Float32Array(seqs.length * L);
  seqs.forEach((s, b) => s.forEach((t, i) => {
    tokens[b * L + L - s.length + i] = t;
    keyMask[b * L + L - s.length + i] = 1;
  }));
  const batch: Batch = { tokens, keyMask, slots: Int32Array.from(seqs, (_, b) => b * L + L - 1), targets: new Int32Array(seqs.length), size: seqs.length, length: L };
  const logits = tf.tidy(() => slotLogits(spec, (n) => tensors.get(n)!, itemCats, batch, (x) => x));
  const data = (await logits.data()) as Float32Array;
  logits.dispose();
  itemCats.dispose();
  for (const t of tensors.values()) t.dispose();
  return seqs.map((_, b) => data.slice(b * spec.itemCount, (b + 1) * spec.itemCount));
}

/** Glorot-uniform matrices, zero biases and betas, unit gammas; seeded so a training run is reproducible. */
function initialWeights(spec: SequenceSpec, seed: number, from?: Float32Array): Map<string, tf.Variable> {
  const random = rng(seed);
  const vars = new Map<string, tf.Variable>();
  let o = 0;
  for (const [name, shape] of sequenceWeightShapes(spec)) {
    const data = new Float32Array(sizeOf(shape));
    if (from) data.set(from.subarray(o, o + data.length));
    else if (name.endsWith('.gamma')) data.fill(1);
    else if (shape.length === 2) {
      // Embedding tables get a small normal-ish init (as in BERT); dense layers Glorot.
      const limit = ['item', 'category', 'position'].includes(name) ? 0.02 * Math.sqrt(3) : Math.sqrt(6 / (shape[0] + shape[1]));
      for (let i = 0; i < data.length; i++) data[i] = (random() * 2 - 1) * limit;
    }
    o += data.length;
    vars.set(name, tf.variable(tf.tensor(data, shape), true, name));
  }
  return vars;
}

/** Trains for `opts.epochs` epochs, reading the sequences a batch at a time. */
export async function trainSequenceModel(input: SequenceTrainInput, opts: SequenceTrainOptions, run: SequenceTrainRun = {}): Promise<SequenceTrainResult> {
  const { onEpoch, from, resume } = run;
  const started = performance.now();
  const spec: SequenceSpec = {
    itemCount: input.itemCount,
    categories: input.categories,
    maxLength: opts.maxLength,
    dim: opts.dim,
    heads: opts.heads,
    layers: opts.layers,
    ffDim: opts.ffDim,
  };
  if (opts.dim % opts.heads !== 0) throw new Error(`sequence model dim ${opts.dim} is not a multiple of heads ${opts.heads}`);
  const cats = Math.max(1, input.categories.length);
  if (input.itemCategories.length !== input.itemCount * cats) throw new Error(`itemCategories has ${input.itemCategories.length} values, expected ${input.itemCount} × ${cats}`);
  const source = Array.isArray(input.sequences) ? packSequences(input.sequences) : input.sequences;
  const usable: number[] = [];
  let tokens = 0;
  source.lengths.forEach((l, i) => {
    if (l < 2) return;
    usable.push(i);
    tokens += l;
  });
  if (usable.length === 0) throw new Error('no community sequence has two or more preferred titles: nothing to train the sequence model on');
  const key: RunKey = { ...(opts as unknown as RunKey), spec: JSON.stringify(spec), sequences: usable.length, tokens, from: from ? ((await sha256Hex(new Uint8Array(from.buffer, from.byteOffset, from.byteLength))) ?? `${from.length} weights`) : null, data: run.dataKey ?? null };
  if (resume) checkResumable(resume, 'sequence', key, opts.epochs, usable.length);

  if (from && from.length !== sequenceWeightCount(spec)) throw new Error(`warm-start weights hold ${from.length} values, the spec needs ${sequenceWeightCount(spec)}`);
  const w = initialWeights(spec, opts.seed, from);
  const W = (name: string) => w.get(name)!;
  const variables = [...w.values()];
  const itemCats = categoryRows(input.itemCount, cats, input.itemCategories);
  const optimizer = tf.train.adam(opts.learningRate);
  // Freed however the run ends (a failed batch, a checkpoint that cannot be written): the names are reused next run.
  try {
    if (resume) {
      assignValues(variables, resume.weights);
      await restoreAdam(optimizer, variables, resume.adam);
    }
    const random = rng(resume ? resume.random : opts.seed ^ 0x5eed);
    const dropout = (x: tf.Tensor) => (opts.dropout > 0 ? tf.dropout(x, opts.dropout, undefined, Math.floor(random() * 2 ** 31)) : x);

    const lossOf = (batch: Batch): tf.Scalar => {
      const logits = slotLogits(spec, W, itemCats, batch, dropout);
      const labels = tf.oneHot(tf.tensor1d(batch.targets, 'int32'), spec.itemCount);
      return tf.losses.softmaxCrossEntropy(labels, logits) as tf.Scalar;
    };

    const losses: number[] = resume ? (resume.history as number[]).slice() : [];
    // Positions in `usable`: the order carries over from epoch to epoch (each shuffles the last one's).
    const order = resume ? resume.order.slice() : usable.map((_, i) => i);
    const lengthOf = (k: number) => source.lengths[usable[k]];
    for (let epoch = resume?.epoch ?? 0; epoch < opts.epochs; epoch++) {
      shuffle(order, random);
      // Similar lengths share a batch (less padding): sort shuffled chunks of 8 batches by length.
      const chunk = opts.batchSize * 8;
      for (let s = 0; s < order.length; s += chunk) {
        const part = order.slice(s, s + chunk).sort((a, b) => lengthOf(a) - lengthOf(b));
        order.splice(s, part.length, ...part);
      }
      let sum = 0, count = 0;
      for (let s = 0; s < order.length; s += opts.batchSize) {
        const batch = makeBatch(await source.read(order.slice(s, s + opts.batchSize).map((k) => usable[k])), spec, opts, random);
        const loss = optimizer.minimize(() => tf.tidy(() => lossOf(batch)), true, variables) as tf.Scalar;
        sum += (await loss.data())[0] * batch.slots.length;
        count += batch.slots.length;
        loss.dispose();
      }
      losses.push(sum / count);
      onEpoch?.(epoch, sum / count);
      if (run.onCheckpoint)
        await run.onCheckpoint({ kind: 'sequence', run: key, epoch: epoch + 1, random: random.state(), order: order.slice(), history: losses.slice(), weights: await variableValues(variables), adam: await adamState(optimizer, variables) });
    }

    // Variables in sequenceWeightShapes order: the file's layout.
    return { spec, weights: await variableValues(variables), losses, seconds: (performance.now() - started) / 1000 };
  } finally {
    for (const v of variables) v.dispose();
    itemCats.dispose();
    optimizer.dispose();
  }
}
