/**
 * Exact t-SNE (van der Maaten & Hinton 2008) for a 2-D map of up to a few thousand points: O(N²) per step,
 * which for the ~1000 titles of a catalog is a few seconds. Seeded, so the same vectors give the same map.
 */
import { rng } from '../random.ts';

export interface TsneOptions {
  /** Effective number of neighbours. Default 30 (lowered to (N − 1) / 3 for small N). */
  perplexity?: number;
  /** Default 1000. */
  iterations?: number;
  /** Default max(N / 16, 10) (the "auto" rule of Belkina et al. 2019 for exaggeration 4): a fixed 200 scatters small sets. */
  learningRate?: number;
  seed?: number;
}

/** Affinities p_j|i with a per-point Gaussian width found by bisection so that 2^H(P_i) = perplexity; then symmetrised. */
function affinities(points: Float32Array, n: number, dim: number, perplexity: number): Float64Array {
  const d2 = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      let s = 0;
      for (let d = 0; d < dim; d++) {
        const t = points[i * dim + d] - points[j * dim + d];
        s += t * t;
      }
      d2[i * n + j] = d2[j * n + i] = s;
    }
  const p = new Float64Array(n * n);
  const target = Math.log(perplexity);
  for (let i = 0; i < n; i++) {
    let beta = 1;
    let lo = 0;
    let hi = Infinity;
    for (let step = 0; step < 64; step++) {
      let sum = 0;
      let weighted = 0;
      for (let j = 0; j < n; j++) {
        if (j === i) continue;
        const v = Math.exp(-beta * d2[i * n + j]);
        p[i * n + j] = v;
        sum += v;
        weighted += v * d2[i * n + j];
      }
      if (sum === 0) sum = 1e-300;
      const entropy = Math.log(sum) + (beta * weighted) / sum; // H in nats
      for (let j = 0; j < n; j++) p[i * n + j] /= sum;
      if (Math.abs(entropy - target) < 1e-5) break;
      if (entropy > target) {
        lo = beta;
        beta = hi === Infinity ? beta * 2 : (beta + hi) / 2;
      } else {
        hi = beta;
        beta = (beta + lo) / 2;
      }
    }
  }
  const sym = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sym[i * n + j] = Math.max((p[i * n + j] + p[j * n + i]) / (2 * n), 1e-12);
  return sym;
}

/** N×dim points → N×2 map coordinates (row-major), centred on 0. */
export function tsne(points: Float32Array, dim: number, options: TsneOptions = {}): Float32Array {
  if (!Number.isInteger(dim) || dim <= 0 || points.length % dim !== 0) throw new RangeError(`tsne: length ${points.length} is not a multiple of dim ${dim}`);
  const n = points.length / dim;
  if (n < 2) return new Float32Array(n * 2);
  const perplexity = Math.min(options.perplexity ?? 30, (n - 1) / 3);
  const iterations = options.iterations ?? 1000;
  const eta = options.learningRate ?? Math.max(n / 16, 10);
  const random = rng(options.seed ?? 0);
  const P = affinities(points, n, dim, Math.max(perplexity, 1));
  const y = new Float64Array(n * 2);
  // Small Gaussian start (Box–Muller), as in the paper.
  for (let i = 0; i < n * 2; i++) y[i] = 1e-4 * Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  const update = new Float64Array(n * 2);
  const gains = new Float64Array(n * 2).fill(1);
  const num = new Float64Array(n * n);
  const grad = new Float64Array(n * 2);
  for (let iter = 0; iter < iterations; iter++) {
    // Early exaggeration for the first 100 steps lets clusters form; momentum rises from 0.5 to 0.8 after 250.
    const exaggeration = iter < 100 ? 4 : 1;
    const momentum = iter < 250 ? 0.5 : 0.8;
    let sumQ = 0;
    for (let i = 0; i < n; i++)
      for (let j = i + 1; j < n; j++) {
        const dx = y[2 * i] - y[2 * j];
        const dy = y[2 * i + 1] - y[2 * j + 1];
        const q = 1 / (1 + dx * dx + dy * dy); // Student-t kernel
        num[i * n + j] = num[j * n + i] = q;
        sumQ += 2 * q;
      }
    grad.fill(0);
    // dC/dy_i = 4 Σ_j (p_ij − q_ij) (y_i − y_j) / (1 + ‖y_i − y_j‖²)
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) {
        if (i === j) continue;
        const q = num[i * n + j];
        const m = 4 * (exaggeration * P[i * n + j] - q / sumQ) * q;
        grad[2 * i] += m * (y[2 * i] - y[2 * j]);
        grad[2 * i + 1] += m * (y[2 * i + 1] - y[2 * j + 1]);
      }
    for (let k = 0; k < n * 2; k++) {
      // Jacobs' adaptive gains: grow a step that keeps its direction, shrink one that flips.
      gains[k] = Math.sign(grad[k]) !== Math.sign(update[k]) ? gains[k] + 0.2 : Math.max(gains[k] * 0.8, 0.01);
      update[k] = momentum * update[k] - eta * gains[k] * grad[k];
      y[k] += update[k];
    }
    let mx = 0;
    let my = 0;
    for (let i = 0; i < n; i++) {
      mx += y[2 * i];
      my += y[2 * i + 1];
    }
    for (let i = 0; i < n; i++) {
      y[2 * i] -= mx / n;
      y[2 * i + 1] -= my / n;
    }
  }
  return Float32Array.from(y);
}
