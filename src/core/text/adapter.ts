/**
 * The synopsis adapter (domain adaptation, seed paper 000): a residual linear map applied after the frozen
 * sentence encoder, `y = normalize(x + W x + b)`. With W = 0 and b = 0 it is the identity, so training
 * starts from the base model's own space and can only move away from it where the data asks.
 *
 * Pure TypeScript: the worker, the Node scripts and the tests apply it with the same code; only training
 * (adapter-train.ts) needs TensorFlow.js. File format: float32 little-endian, W row-major (dim × dim, row =
 * output), then b (dim).
 */
import { normalize } from '../vectors.ts';

export const ADAPTER_KIND = 'residual-linear' as const;

export class SynopsisAdapter {
  readonly dim: number;
  /** dim × dim, row-major: y_i = x_i + Σ_j W[i][j] x_j + b_i. */
  readonly weight: Float32Array;
  readonly bias: Float32Array;

  constructor(dim: number, weight: Float32Array, bias: Float32Array) {
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`adapter dim must be a positive integer, got ${dim}`);
    if (weight.length !== dim * dim) throw new RangeError(`adapter weight has ${weight.length} values, expected ${dim} × ${dim}`);
    if (bias.length !== dim) throw new RangeError(`adapter bias has ${bias.length} values, expected ${dim}`);
    this.dim = dim;
    this.weight = weight;
    this.bias = bias;
  }

  static identity(dim: number): SynopsisAdapter {
    return new SynopsisAdapter(dim, new Float32Array(dim * dim), new Float32Array(dim));
  }

  /** Reads the file format above; the size must match the space's dim exactly. */
  static fromBytes(bytes: Uint8Array, dim: number, file = 'adapter'): SynopsisAdapter {
    const expected = (dim * dim + dim) * 4;
    if (bytes.byteLength !== expected) throw new RangeError(`${file} is ${bytes.byteLength} bytes, a ${dim}-d adapter is ${expected}`);
    const all = new Float32Array(dim * dim + dim);
    new Uint8Array(all.buffer).set(bytes);
    for (let i = 0; i < all.length; i++) if (!Number.isFinite(all[i])) throw new RangeError(`${file} has a non-finite value at ${i}`);
    return new SynopsisAdapter(dim, all.subarray(0, dim * dim), all.subarray(dim * dim));
  }

  toBytes(): Uint8Array {
    const all = new Float32Array(this.dim * this.dim + this.dim);
    all.set(this.weight);
    all.set(this.bias, this.dim * this.dim);
    return new Uint8Array(all.buffer);
  }

  /** Adapts each row of a row-major matrix; rows come out L2-normalised. */
  apply(vectors: Float32Array): Float32Array {
    const d = this.dim;
    if (vectors.length % d !== 0) throw new RangeError(`adapter expects rows of ${d} values, got ${vectors.length} values`);
    const out = new Float32Array(vectors.length);
    const y = new Float64Array(d);
    for (let o = 0; o < vectors.length; o += d) {
      for (let i = 0; i < d; i++) {
        let s = vectors[o + i] + this.bias[i];
        const w = i * d;
        for (let j = 0; j < d; j++) s += this.weight[w + j] * vectors[o + j];
        y[i] = s;
      }
      out.set(normalize(y), o);
    }
    return out;
  }
}
