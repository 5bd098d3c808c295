/**
 * Grouping the style vectors for the style map: K-means with K-means++ seeding (Arthur & Vassilvitskii 2007),
 * and the mean silhouette to choose K. Points are N×dim row-major Float32Arrays; distances are Euclidean.
 */
import { rng } from '../random.ts';

export interface KMeansResult {
  k: number;
  /** Cluster of each point, 0..k-1. */
  labels: Int32Array;
  /** k × dim, row-major. */
  centroids: Float32Array;
  /** Σ squared distance of each point to its centroid. */
  inertia: number;
}

export interface KMeansOptions {
  seed?: number;
  /** Default 100 Lloyd iterations (it stops earlier once no label changes). */
  maxIterations?: number;
}

function rows(points: Float32Array, dim: number): number {
  if (!Number.isInteger(dim) || dim <= 0 || points.length % dim !== 0) throw new RangeError(`points: length ${points.length} is not a multiple of dim ${dim}`);
  return points.length / dim;
}

// ‖a − b‖² between row i of a and row j of b.
function sqDist(a: Float32Array, i: number, b: Float32Array, j: number, dim: number): number {
  let s = 0;
  for (let d = 0; d < dim; d++) {
    const t = a[i * dim + d] - b[j * dim + d];
    s += t * t;
  }
  return s;
}

/** K-means++: the first centre uniformly, each next one with probability ∝ squared distance to the nearest chosen centre. */
export function kmeans(points: Float32Array, dim: number, k: number, options: KMeansOptions = {}): KMeansResult {
  const n = rows(points, dim);
  if (!Number.isInteger(k) || k < 1 || k > n) throw new RangeError(`kmeans: k must be an integer in 1..${n}, got ${k}`);
  const random = rng(options.seed ?? 0);
  const maxIterations = options.maxIterations ?? 100;
  const centroids = new Float32Array(k * dim);
  const nearest = new Float64Array(n).fill(Infinity);
  let pick = Math.floor(random() * n);
  for (let c = 0; c < k; c++) {
    centroids.set(points.subarray(pick * dim, (pick + 1) * dim), c * dim);
    let total = 0;
    for (let i = 0; i < n; i++) {
      nearest[i] = Math.min(nearest[i], sqDist(points, i, centroids, c, dim));
      total += nearest[i];
    }
    if (c === k - 1) break;
    // Duplicate points can leave total 0: any point then serves.
    let r = random() * total;
    pick = n - 1;
    for (let i = 0; i < n; i++) {
      r -= nearest[i];
      if (r < 0) {
        pick = i;
        break;
      }
    }
  }
  const labels = new Int32Array(n).fill(-1);
  const counts = new Int32Array(k);
  let inertia = 0;
  for (let iter = 0; iter < maxIterations; iter++) {
    let changed = false;
    inertia = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      let bestD = Infinity;
      for (let c = 0; c < k; c++) {
        const d = sqDist(points, i, centroids, c, dim);
        if (d < bestD) {
          bestD = d;
          best = c;
        }
      }
      inertia += bestD;
      if (labels[i] !== best) {
        labels[i] = best;
        changed = true;
      }
    }
    if (!changed) break;
    const sums = new Float64Array(k * dim);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      counts[labels[i]]++;
      for (let d = 0; d < dim; d++) sums[labels[i] * dim + d] += points[i * dim + d];
    }
    // An emptied cluster keeps its old centre.
    for (let c = 0; c < k; c++) if (counts[c] > 0) for (let d = 0; d < dim; d++) centroids[c * dim + d] = sums[c * dim + d] / counts[c];
  }
  return { k, labels, centroids, inertia };
}

/**
 * Mean silhouette: s(i) = (b − a) / max(a, b), a = mean distance to the other points of i's cluster,
 * b = smallest mean distance to another cluster's points; s(i) = 0 for a point alone in its cluster.
 */
export function meanSilhouette(points: Float32Array, dim: number, labels: Int32Array, k: number): number {
  const n = rows(points, dim);
  if (labels.length !== n) throw new RangeError(`silhouette: ${labels.length} labels for ${n} points`);
  const counts = new Int32Array(k);
  for (const l of labels) counts[l]++;
  const sums = new Float64Array(k);
  let total = 0;
  for (let i = 0; i < n; i++) {
    sums.fill(0);
    for (let j = 0; j < n; j++) if (j !== i) sums[labels[j]] += Math.sqrt(sqDist(points, i, points, j, dim));
    const own = labels[i];
    if (counts[own] <= 1) continue;
    const a = sums[own] / (counts[own] - 1);
    let b = Infinity;
    for (let c = 0; c < k; c++) if (c !== own && counts[c] > 0) b = Math.min(b, sums[c] / counts[c]);
    if (Number.isFinite(b) && Math.max(a, b) > 0) total += (b - a) / Math.max(a, b);
  }
  return total / n;
}

export interface ClusterChoice {
  best: KMeansResult;
  /** Mean silhouette for each K tried, in order. */
  curve: { k: number; silhouette: number }[];
}

/** Runs K-means for every K in [minK, maxK] and keeps the one with the highest mean silhouette. */
export function chooseClusters(points: Float32Array, dim: number, minK: number, maxK: number, options: KMeansOptions = {}): ClusterChoice {
  const n = rows(points, dim);
  if (!(Number.isInteger(minK) && Number.isInteger(maxK) && minK >= 2 && minK <= maxK && maxK < n))
    throw new RangeError(`chooseClusters: need integers 2 ≤ minK ≤ maxK < ${n}, got ${minK}..${maxK}`);
  const curve: { k: number; silhouette: number }[] = [];
  let best: KMeansResult | undefined;
  let bestScore = -Infinity;
  for (let k = minK; k <= maxK; k++) {
    const r = kmeans(points, dim, k, options);
    const silhouette = meanSilhouette(points, dim, r.labels, k);
    curve.push({ k, silhouette });
    if (silhouette > bestScore) {
      bestScore = silhouette;
      best = r;
    }
  }
  return { best: best!, curve };
}
