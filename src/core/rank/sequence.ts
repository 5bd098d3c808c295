/**
 * The sequential next-title model (seed 003: a BERT4Rec-style encoder). Input: the reader's preferred titles in
 * reading order followed by one [MASK] slot; output: a score for every catalog title being the one that fills it.
 *
 * Token embedding = item embedding + category embedding (the title's genres, as the genre space's normalised
 * multi-hot) + position embedding, where the position counts back from the [MASK] slot (0 = the slot, 1 = the
 * latest title…), so any history length up to `maxLength` lines up with training. Then `layers` post-norm
 * transformer blocks (bidirectional self-attention over the non-padding tokens, GELU feed-forward), and a head
 * (dense + GELU + layer norm) whose output is scored against the item embeddings (tied) plus a per-item bias.
 *
 * This file is the pure-TypeScript inference path (no tfjs, synchronous, any thread); `sequence-train.ts` trains
 * the same network with tfjs and returns its weights in the layout below.
 */
import { DataError } from '../errors.ts';

export const SEQUENCE_MODEL = 'toonpick-seq';
export const SEQUENCE_VERSION = 1;

import type { SequenceSpec } from '../snapshot/format.ts';
export type { SequenceSpec };

/** Every weight of the model, in file order, with its shape. Matrices are [in, out], row-major. */
export function sequenceWeightShapes(spec: SequenceSpec): Array<[name: string, shape: number[]]> {
  const { itemCount, dim, ffDim, maxLength } = spec;
  const shapes: Array<[string, number[]]> = [
    ['item', [itemCount + 2, dim]],
    ['category', [Math.max(1, spec.categories.length), dim]],
    ['position', [maxLength, dim]],
    ['embed.norm.gamma', [dim]],
    ['embed.norm.beta', [dim]],
  ];
  for (let l = 0; l < spec.layers; l++) {
    for (const p of ['q', 'k', 'v', 'o']) shapes.push([`block${l}.${p}.w`, [dim, dim]], [`block${l}.${p}.b`, [dim]]);
    shapes.push([`block${l}.norm1.gamma`, [dim]], [`block${l}.norm1.beta`, [dim]]);
    shapes.push([`block${l}.ff1.w`, [dim, ffDim]], [`block${l}.ff1.b`, [ffDim]], [`block${l}.ff2.w`, [ffDim, dim]], [`block${l}.ff2.b`, [dim]]);
    shapes.push([`block${l}.norm2.gamma`, [dim]], [`block${l}.norm2.beta`, [dim]]);
  }
  shapes.push(['head.w', [dim, dim]], ['head.b', [dim]], ['head.norm.gamma', [dim]], ['head.norm.beta', [dim]], ['head.bias', [itemCount]]);
  return shapes;
}

export const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

export function sequenceWeightCount(spec: SequenceSpec): number {
  return sequenceWeightShapes(spec).reduce((a, [, s]) => a + sizeOf(s), 0);
}

const LN_EPS = 1e-6;

function layerNorm(x: Float32Array, rows: number, dim: number, gamma: Float32Array, beta: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const o = r * dim;
    let mean = 0;
    for (let d = 0; d < dim; d++) mean += x[o + d];
    mean /= dim;
    let v = 0;
    for (let d = 0; d < dim; d++) v += (x[o + d] - mean) ** 2;
    const inv = 1 / Math.sqrt(v / dim + LN_EPS);
    for (let d = 0; d < dim; d++) x[o + d] = (x[o + d] - mean) * inv * gamma[d] + beta[d];
  }
}

/** GELU, tanh form (the same formula the trainer uses). */
function gelu(x: number): number {
  return 0.5 * x * (1 + Math.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)));
}

/** out[rows, outDim] = x[rows, inDim] · w[inDim, outDim] + b. */
function dense(x: Float32Array, rows: number, inDim: number, w: Float32Array, b: Float32Array, outDim: number): Float32Array {
  const out = new Float32Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    const xo = r * inDim, oo = r * outDim;
    for (let j = 0; j < outDim; j++) out[oo + j] = b[j];
    for (let i = 0; i < inDim; i++) {
      const xv = x[xo + i];
      if (xv === 0) continue;
      const wo = i * outDim;
      for (let j = 0; j < outDim; j++) out[oo + j] += xv * w[wo + j];
    }
  }
  return out;
}

/**
 * A trained sequence model. `scores` runs the network on one reader's ordered titles (catalog rows, oldest first)
 * and returns a logit per catalog title for the next one.
 */
export class SequenceModel {
  readonly spec: SequenceSpec;
  /** All weights, in file order. */
  readonly weights: Float32Array;
  private readonly w: Map<string, Float32Array>;
  /** itemCount × categories, the normalised multi-hot of each title's genres. */
  readonly itemCategories: Float32Array;

  /**
   * `weights` in the layout of `sequenceWeightShapes`; `itemCategories` = the catalog's genre space rows
   * (itemCount × spec.categories.length). A model trained for another catalog is refused.
   */
  constructor(spec: SequenceSpec, weights: Float32Array, itemCategories: Float32Array, catalogItems: number) {
    if (spec.itemCount !== catalogItems)
      throw new DataError('sequence model', `was trained for ${spec.itemCount} titles but this catalog has ${catalogItems}: retrain it on this catalog (npm run train:seq)`, { field: 'itemCount' });
    const expected = sequenceWeightCount(spec);
    if (weights.length !== expected) throw new DataError('sequence model', `holds ${weights.length} weights, the spec needs ${expected}`, { field: 'weights' });
    const cats = Math.max(1, spec.categories.length);
    if (itemCategories.length !== spec.itemCount * cats)
      throw new DataError('sequence model', `needs ${cats} genres per title, got ${itemCategories.length / spec.itemCount}`, { field: 'categories' });
    this.spec = spec;
    this.weights = weights;
    this.itemCategories = itemCategories;
    this.w = new Map();
    let o = 0;
    for (const [name, shape] of sequenceWeightShapes(spec)) {
      const n = sizeOf(shape);
      this.w.set(name, weights.subarray(o, o + n));
      o += n;
    }
  }

  private get(name: string): Float32Array {
    return this.w.get(name)!;
  }

  /**
   * The title among `history` whose learned item embedding is closest (cosine) to `item`'s: the earlier read that
   * the model ties this title to (for explanations). Undefined for an empty history.
   */
  closest(item: number, history: ArrayLike<number>): number | undefined {
    const { dim } = this.spec;
    const e = this.get('item');
    const norm = (i: number) => Math.sqrt(e.subarray(i * dim, (i + 1) * dim).reduce((a, v) => a + v * v, 0)) || 1;
    const ni = norm(item);
    let best: number | undefined, bestSim = -Infinity;
    for (let k = 0; k < history.length; k++) {
      const h = history[k];
      let d = 0;
      for (let j = 0; j < dim; j++) d += e[item * dim + j] * e[h * dim + j];
      const sim = d / (ni * norm(h));
      if (sim > bestSim) {
        bestSim = sim;
        best = h;
      }
    }
    return best;
  }

  /** The model's input for a history: the latest maxLength − 1 titles and the [MASK] slot. */
  tokens(history: ArrayLike<number>): Int32Array {
    const keep = Math.min(history.length, this.spec.maxLength - 1);
    const t = new Int32Array(keep + 1);
    for (let i = 0; i < keep; i++) t[i] = history[history.length - keep + i];
    t[keep] = this.spec.itemCount + 1;
    return t;
  }

  /** Logit per catalog title (out.length = itemCount) for the title after `history`. */
  scores(history: ArrayLike<number>, out = new Float32Array(this.spec.itemCount)): Float32Array {
    for (let i = 0; i < history.length; i++) {
      if (!(history[i] >= 0 && history[i] < this.spec.itemCount)) throw new RangeError(`history item ${history[i]} is not a catalog row`);
    }
    const { dim, heads, itemCount, ffDim } = this.spec;
    const tokens = this.tokens(history);
    const L = tokens.length;
    const cats = Math.max(1, this.spec.categories.length);
    const item = this.get('item'), category = this.get('category'), position = this.get('position');

    let x: Float32Array = new Float32Array(L * dim);
    for (let c = 0; c < L; c++) {
      const t = tokens[c], xo = c * dim, po = (L - 1 - c) * dim;
      for (let d = 0; d < dim; d++) x[xo + d] = item[t * dim + d] + position[po + d];
      if (t < itemCount) {
        for (let g = 0; g < cats; g++) {
          const m = this.itemCategories[t * cats + g];
          if (m !== 0) for (let d = 0; d < dim; d++) x[xo + d] += m * category[g * dim + d];
        }
      }
    }
    layerNorm(x, L, dim, this.get('embed.norm.gamma'), this.get('embed.norm.beta'));

    const dh = dim / heads;
    const scale = 1 / Math.sqrt(dh);
    const att = new Float32Array(L);
    for (let l = 0; l < this.spec.layers; l++) {
      const p = `block${l}.`;
      // Only the [MASK] slot's output is read at the end, so the last block computes that row alone.
      const last = l === this.spec.layers - 1;
      const q0 = last ? L - 1 : 0;
      const rows = L - q0;
      const xq = last ? x.subarray(q0 * dim) : x;
      const q = dense(xq, rows, dim, this.get(p + 'q.w'), this.get(p + 'q.b'), dim);
      const k = dense(x, L, dim, this.get(p + 'k.w'), this.get(p + 'k.b'), dim);
      const v = dense(x, L, dim, this.get(p + 'v.w'), this.get(p + 'v.b'), dim);
      const ctx = new Float32Array(rows * dim);
      for (let r = 0; r < rows; r++) {
        for (let h = 0; h < heads; h++) {
          const ho = h * dh;
          let max = -Infinity;
          for (let j = 0; j < L; j++) {
            let s = 0;
            for (let d = 0; d < dh; d++) s += q[r * dim + ho + d] * k[j * dim + ho + d];
            att[j] = s * scale;
            if (att[j] > max) max = att[j];
          }
          let sum = 0;
          for (let j = 0; j < L; j++) sum += att[j] = Math.exp(att[j] - max);
          for (let j = 0; j < L; j++) {
            const a = att[j] / sum;
            for (let d = 0; d < dh; d++) ctx[r * dim + ho + d] += a * v[j * dim + ho + d];
          }
        }
      }
      const o = dense(ctx, rows, dim, this.get(p + 'o.w'), this.get(p + 'o.b'), dim);
      for (let i = 0; i < o.length; i++) o[i] += xq[i];
      layerNorm(o, rows, dim, this.get(p + 'norm1.gamma'), this.get(p + 'norm1.beta'));
      const f = dense(o, rows, dim, this.get(p + 'ff1.w'), this.get(p + 'ff1.b'), ffDim);
      for (let i = 0; i < f.length; i++) f[i] = gelu(f[i]);
      const y = dense(f, rows, ffDim, this.get(p + 'ff2.w'), this.get(p + 'ff2.b'), dim);
      for (let i = 0; i < y.length; i++) y[i] += o[i];
      layerNorm(y, rows, dim, this.get(p + 'norm2.gamma'), this.get(p + 'norm2.beta'));
      x = y;
    }

    const hidden = x.subarray(x.length - dim);
    const h = dense(hidden, 1, dim, this.get('head.w'), this.get('head.b'), dim);
    for (let d = 0; d < dim; d++) h[d] = gelu(h[d]);
    layerNorm(h, 1, dim, this.get('head.norm.gamma'), this.get('head.norm.beta'));
    const bias = this.get('head.bias');
    for (let i = 0; i < itemCount; i++) {
      let s = bias[i];
      const io = i * dim;
      for (let d = 0; d < dim; d++) s += h[d] * item[io + d];
      out[i] = s;
    }
    return out;
  }
}
