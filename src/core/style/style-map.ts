/**
 * The style map shipped in a snapshot (`style/map.f32`, listed in the style space's `encoder.files.map`):
 * itemCount rows of float32 [x, y, cluster] in items.json order — t-SNE coordinates of the style vectors and
 * their K-means cluster (−1 for a title that has no cover).
 */
import { DataError } from '../errors.ts';
import { chooseClusters, type ClusterChoice } from './cluster.ts';
import { tsne } from './tsne.ts';
import { rng, shuffle } from '../random.ts';

export { STYLE_SPACE, GRAM_SPACE } from '../spaces.ts';
export const STYLE_MAP_FILE = 'style/map.f32';
export const STYLE_WEIGHTS_FILE = 'style/weights.json';
export const STYLE_DATA_FILE = 'style/weights.bin';

export interface StylePoint {
  x: number;
  y: number;
  cluster: number;
}

/**
 * How a style map is made: K-means++ with K in [minK, maxK] by best mean silhouette, and t-SNE, both seeded. Both
 * are O(N²) (exact t-SNE, silhouettes), so a catalog of more than `sample` titles is laid out on a seeded sample of
 * that many, and every other title is placed among them (`placeAmong`).
 */
export interface StyleMapOptions {
  minK: number;
  maxK: number;
  seed: number;
  sample?: number;
}

export const defaultStyleMapOptions: Readonly<StyleMapOptions> = Object.freeze({ minK: 4, maxK: 16, seed: 0, sample: 2500 });

/**
 * The style map of `style` (itemCount × dim, rows L2-normalised): what `npm run train:style` ships, and what the
 * style worker recomputes after the reader retrains the encoder.
 */
export function buildStyleMap(style: Float32Array, dim: number, options: StyleMapOptions = defaultStyleMapOptions): { points: StylePoint[]; clusters: ClusterChoice; laidOut: number } {
  const n = style.length / dim;
  const sample = options.sample ?? defaultStyleMapOptions.sample!;
  const rows = n <= sample ? Array.from({ length: n }, (_, i) => i) : shuffle(Array.from({ length: n }, (_, i) => i), rng(options.seed + 7)).slice(0, sample).sort((a, b) => a - b);
  const vectors = rows.length === n ? style : gatherRows(style, dim, rows);
  const clusters = chooseClusters(vectors, dim, options.minK, options.maxK, { seed: options.seed });
  const xy = tsne(vectors, dim, { seed: options.seed });
  const laid = rows.map((_, k) => ({ x: xy[2 * k], y: xy[2 * k + 1], cluster: clusters.best.labels[k] }));
  if (rows.length === n) return { points: laid, clusters, laidOut: n };
  const at = new Int32Array(n).fill(-1);
  rows.forEach((r, k) => (at[r] = k));
  const points = Array.from({ length: n }, (_, i) => (at[i] >= 0 ? laid[at[i]] : placeAmong(style, dim, i, rows, (j) => laid[at[j]])));
  return { points, clusters, laidOut: rows.length };
}

function gatherRows(v: Float32Array, dim: number, rows: readonly number[]): Float32Array {
  const out = new Float32Array(rows.length * dim);
  rows.forEach((r, k) => out.set(v.subarray(r * dim, (r + 1) * dim), k * dim));
  return out;
}

/**
 * Where row `i` goes on a map laid out without it: the similarity-weighted mean of the places of its 5 nearest
 * `anchors` (rows of the same L2-normalised `vectors`, ties to the earlier anchor), in the cluster most of them
 * are in. With no anchors: (0, 0), cluster −1.
 */
export function placeAmong(vectors: Float32Array, dim: number, i: number, anchors: readonly number[], placeOf: (anchor: number) => StylePoint): StylePoint {
  const best: Array<[number, number]> = []; // [anchor, similarity], most similar first, at most 5
  for (const j of anchors) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += vectors[i * dim + d] * vectors[j * dim + d];
    if (best.length === 5 && s <= best[4][1]) continue;
    let k = Math.min(best.length, 4);
    if (best.length < 5) best.push([j, s]);
    while (k > 0 && best[k - 1][1] < s) {
      best[k] = best[k - 1];
      k--;
    }
    best[k] = [j, s];
  }
  if (!best.length) return { x: 0, y: 0, cluster: -1 };
  let x = 0;
  let y = 0;
  let w = 0;
  const votes = new Map<number, number>();
  for (const [j, s] of best) {
    const p = placeOf(j);
    const weight = Math.max(s, 0) + 1e-3;
    x += weight * p.x;
    y += weight * p.y;
    w += weight;
    votes.set(p.cluster, (votes.get(p.cluster) ?? 0) + weight);
  }
  const cluster = [...votes].sort((a, b) => b[1] - a[1])[0][0];
  return { x: x / w, y: y / w, cluster };
}

export function encodeStyleMap(points: readonly StylePoint[]): Uint8Array {
  const out = new Float32Array(points.length * 3);
  points.forEach((p, i) => out.set([p.x, p.y, p.cluster], i * 3));
  return new Uint8Array(out.buffer);
}

/** Checks the size and every value, so a damaged map is refused rather than drawn wrong. */
export function decodeStyleMap(bytes: Uint8Array, itemCount: number, file = STYLE_MAP_FILE): StylePoint[] {
  if (bytes.byteLength !== itemCount * 12) throw new DataError(file, `has ${bytes.byteLength} bytes, expected ${itemCount} rows × 3 float32 = ${itemCount * 12}`);
  const f = new Float32Array(bytes.slice().buffer);
  const points: StylePoint[] = [];
  for (let i = 0; i < itemCount; i++) {
    const [x, y, cluster] = [f[3 * i], f[3 * i + 1], f[3 * i + 2]];
    if (!Number.isFinite(x) || !Number.isFinite(y)) throw new DataError(file, `row ${i} has a non-finite coordinate`, { field: 'x,y' });
    if (!Number.isInteger(cluster) || cluster < -1) throw new DataError(file, `row ${i} has cluster ${cluster}, expected an integer ≥ −1`, { field: 'cluster' });
    points.push({ x, y, cluster });
  }
  return points;
}

/**
 * Genre agreement of neighbours: for each title with genres, the share of its `k` nearest titles (by cosine of
 * `vectors`, rows L2-normalised) that share at least one of its genres, ignoring genres in `ignore`; averaged.
 * With `random` instead of vectors, the neighbours are k titles drawn at random (the baseline). `only`: measured
 * for these titles alone (a sample of a large catalog).
 */
export function neighbourGenreAgreement(
  genres: readonly (readonly string[])[],
  k: number,
  neighbours: (i: number) => number[],
  ignore: ReadonlySet<string> = new Set(),
  only?: ReadonlySet<number>,
): number {
  let sum = 0;
  let counted = 0;
  const kept = genres.map((g) => g.filter((x) => !ignore.has(x)));
  for (let i = 0; i < kept.length; i++) {
    if (kept[i].length === 0 || (only && !only.has(i))) continue;
    const mine = new Set(kept[i]);
    const near = neighbours(i).slice(0, k);
    if (near.length === 0) continue;
    sum += near.filter((j) => kept[j].some((g) => mine.has(g))).length / near.length;
    counted++;
  }
  return counted ? sum / counted : 0;
}

/** The k nearest rows to row i by dot product (rows L2-normalised → cosine), i itself excluded. */
export function nearestRows(vectors: Float32Array, dim: number, i: number, k: number): number[] {
  const n = vectors.length / dim;
  const scores: [number, number][] = [];
  for (let j = 0; j < n; j++) {
    if (j === i) continue;
    let s = 0;
    for (let d = 0; d < dim; d++) s += vectors[i * dim + d] * vectors[j * dim + d];
    scores.push([s, j]);
  }
  scores.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  return scores.slice(0, k).map((s) => s[1]);
}
