/**
 * Trains the synopsis adapter (adapter.ts) with TensorFlow.js on frozen sentence vectors. Pure core code:
 * the caller embeds the texts with the base model and picks the tfjs backend.
 *
 * Loss = cosine regression on STS pairs, mean((cos(f(a), f(b)) − score/5)²), as sentence-transformers'
 * CosineSimilarityLoss, plus `contrastiveWeight` × InfoNCE over two augmented views of each catalog
 * synopsis with in-batch negatives (symmetric cross-entropy of view-to-view cosines / temperature).
 *
 * W starts at zero (the identity map). After each epoch the adapter is scored on the dev pairs (Spearman);
 * the best epoch wins, epoch 0 (the base space itself) included, so the adapter never ships worse than
 * no adapter on dev.
 */
import * as tf from '@tensorflow/tfjs';
import type { AdapterTrainingConfig } from '../config.ts';
import { rng, shuffle } from '../random.ts';
import { SynopsisAdapter } from './adapter.ts';
import { rowCosines, spearman } from './sts.ts';

/** Base-model vectors, row-major `n × dim` (rows need not be normalised). */
export interface PairVectors {
  a: Float32Array;
  b: Float32Array;
}

export interface AdapterTrainingData {
  dim: number;
  /** STS training pairs and their gold scores (0–5). */
  sts: PairVectors & { scores: ArrayLike<number> };
  /** Two augmented views of each catalog synopsis (row i of `a` and of `b` are the same title). */
  views?: PairVectors;
  /** Dev pairs that pick the epoch. */
  dev: PairVectors & { scores: ArrayLike<number> };
}

export interface AdapterEpoch {
  epoch: number;
  /** Full training objective after this epoch (fixed batches, so epochs compare). */
  loss: number;
  devSpearman: number;
}

export interface AdapterTrainingResult {
  adapter: SynopsisAdapter;
  /** The chosen epoch; 0 means the identity (training did not beat the base space on dev). */
  epoch: number;
  history: AdapterEpoch[];
  seconds: number;
}

function rows(data: Float32Array, dim: number, idx: readonly number[]): Float32Array {
  const out = new Float32Array(idx.length * dim);
  idx.forEach((r, i) => out.set(data.subarray(r * dim, (r + 1) * dim), i * dim));
  return out;
}

export async function trainAdapter(data: AdapterTrainingData, cfg: AdapterTrainingConfig): Promise<AdapterTrainingResult> {
  const started = performance.now();
  const d = data.dim;
  const nSts = data.sts.a.length / d;
  const nViews = data.views ? data.views.a.length / d : 0;
  if (nSts < 2) throw new RangeError(`adapter training needs at least 2 STS pairs, got ${nSts}`);
  if (data.sts.scores.length !== nSts) throw new RangeError(`${nSts} STS pairs but ${data.sts.scores.length} scores`);
  const random = rng(cfg.seed);

  const W = tf.variable(tf.zeros([d, d]), true, 'adapter.W');
  const b = tf.variable(tf.zeros([d]), true, 'adapter.b');
  const adapt = (x: tf.Tensor2D) => x.add(x.matMul(W, false, true)).add(b) as tf.Tensor2D;
  const unit = (x: tf.Tensor2D) => x.div(x.norm('euclidean', 1, true).add(1e-12)) as tf.Tensor2D;

  const stsLoss = (a: tf.Tensor2D, bb: tf.Tensor2D, gold: tf.Tensor1D) => {
    const cos = unit(adapt(a)).mul(unit(adapt(bb))).sum(1);
    return cos.sub(gold).square().mean() as tf.Scalar;
  };
  const contrastiveLoss = (a: tf.Tensor2D, bb: tf.Tensor2D) => {
    const logits = unit(adapt(a)).matMul(unit(adapt(bb)), false, true).div(cfg.temperature) as tf.Tensor2D;
    const labels = tf.oneHot(tf.range(0, a.shape[0], 1, 'int32'), a.shape[0]);
    return tf.losses.softmaxCrossEntropy(labels, logits).add(tf.losses.softmaxCrossEntropy(labels, logits.transpose())).div(2) as tf.Scalar;
  };

  const batchOf = (idx: number[], viewIdx: number[] | null) => {
    const gold = Float32Array.from(idx, (i) => data.sts.scores[i] / 5);
    return {
      a: tf.tensor2d(rows(data.sts.a, d, idx), [idx.length, d]),
      b: tf.tensor2d(rows(data.sts.b, d, idx), [idx.length, d]),
      gold: tf.tensor1d(gold),
      va: viewIdx && viewIdx.length > 1 ? tf.tensor2d(rows(data.views!.a, d, viewIdx), [viewIdx.length, d]) : null,
      vb: viewIdx && viewIdx.length > 1 ? tf.tensor2d(rows(data.views!.b, d, viewIdx), [viewIdx.length, d]) : null,
    };
  };
  type Batch = ReturnType<typeof batchOf>;
  const objective = (x: Batch) =>
    tf.tidy(() => {
      const l = stsLoss(x.a, x.b, x.gold);
      return x.va && x.vb && cfg.contrastiveWeight > 0 ? l.add(contrastiveLoss(x.va, x.vb).mul(cfg.contrastiveWeight)) as tf.Scalar : l;
    });
  const free = (x: Batch) => tf.dispose([x.a, x.b, x.gold, ...(x.va ? [x.va] : []), ...(x.vb ? [x.vb] : [])]);

  /** Batches in a fixed order: the loss is comparable across epochs. */
  const plan = (stsOrder: number[], viewOrder: number[]) => {
    const out: Array<[number[], number[] | null]> = [];
    for (let s = 0, v = 0; s < stsOrder.length; s += cfg.batchSize) {
      const idx = stsOrder.slice(s, s + cfg.batchSize);
      let vIdx: number[] | null = null;
      if (nViews > 1) {
        vIdx = viewOrder.slice(v, v + cfg.batchSize);
        v = v + cfg.batchSize >= viewOrder.length ? 0 : v + cfg.batchSize;
      }
      out.push([idx, vIdx]);
    }
    return out;
  };
  const identityOrder = (n: number) => Array.from({ length: n }, (_, i) => i);
  const evalPlan = plan(identityOrder(nSts), identityOrder(nViews));
  const fullLoss = async () => {
    let total = 0, count = 0;
    for (const [idx, vIdx] of evalPlan) {
      const x = batchOf(idx, vIdx);
      const l = objective(x);
      total += (await l.data())[0] * idx.length;
      count += idx.length;
      l.dispose();
      free(x);
    }
    return total / count;
  };
  const current = async () => new SynopsisAdapter(d, new Float32Array(await W.data()), new Float32Array(await b.data()));
  const devSpearman = (ad: SynopsisAdapter) => spearman(rowCosines(ad.apply(data.dev.a), ad.apply(data.dev.b), d), data.dev.scores);

  const optimizer = tf.train.adam(cfg.learningRate);
  const history: AdapterEpoch[] = [{ epoch: 0, loss: await fullLoss(), devSpearman: devSpearman(SynopsisAdapter.identity(d)) }];
  let best = { epoch: 0, adapter: SynopsisAdapter.identity(d), dev: history[0].devSpearman };
  try {
    for (let epoch = 1; epoch <= cfg.epochs; epoch++) {
      for (const [idx, vIdx] of plan(shuffle(identityOrder(nSts), random), shuffle(identityOrder(nViews), random))) {
        const x = batchOf(idx, vIdx);
        tf.dispose(optimizer.minimize(() => objective(x), true, [W, b]) ?? []);
        free(x);
      }
      const adapter = await current();
      const dev = devSpearman(adapter);
      history.push({ epoch, loss: await fullLoss(), devSpearman: dev });
      if (dev > best.dev) best = { epoch, adapter, dev };
    }
  } finally {
    optimizer.dispose();
    W.dispose();
    b.dispose();
  }
  return { adapter: best.adapter, epoch: best.epoch, history, seconds: (performance.now() - started) / 1000 };
}
