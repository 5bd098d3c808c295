/**
 * The community signal: what other readers' histories say about titles, learned once (snapshot builder or eval
 * fit) and used on the reader's device with no server.
 *
 * - Item-item model: EASE (Steck, WWW 2019) on the binary reader × title matrix, B = I − P·diagMat(1/diag(P)),
 *   P = (XᵀX + λI)⁻¹, kept sparse: the `neighbours` weights of largest magnitude per title (row). A reader's score
 *   for title j is Σ_i w_i·B[i][j] over the titles i they read, each weighted by recency and taste.
 * - Category similarity (seed 003, serendipity): each genre is a vector of per-reader usage counts (how many titles
 *   of that genre each reader read); similarity = cosine of those vectors.
 */
import type { BinaryMatrix } from '../split.ts';
import { gram, invertSpd } from '../math/linalg.ts';

export const COMMUNITY_MODEL = 'ease-topn';
/** The version builders write (community-file.ts); the loader also reads version 1 (uint32 rows, float32 weights). */
export const COMMUNITY_VERSION = 2;

export interface CommunityModel {
  itemCount: number;
  /** Neighbours kept per title. */
  neighbours: number;
  /** itemCount × neighbours catalog rows; unused slots hold the title itself with weight 0. */
  index: Uint32Array;
  /** itemCount × neighbours EASE weights B[i][index]. */
  weight: Float32Array;
  /** Per title, the scale of its int8 weight codes (its largest |weight|): present on the stored form (community-file.ts storedModel). */
  scales?: Float32Array;
}

/** Item-by-item weights for a reader: one (row, weight) per history title. */
export interface WeightedRow {
  index: number;
  weight: number;
}

/** The binary matrix of `gram` from each reader's distinct titles. */
function matrixOf(readers: readonly Int32Array[], itemCount: number): BinaryMatrix {
  let nnz = 0;
  for (const r of readers) nnz += r.length;
  return { users: readers.length, items: itemCount, userItems: [...readers], itemUsers: [], nnz };
}

/**
 * Fits EASE on the readers' distinct titles (catalog rows, any order) and keeps the `neighbours` largest
 * |B[i][j]| per row. About n³/3 multiply-adds for n titles (a few seconds for 1,700 titles).
 */
export function fitCommunityModel(readers: readonly Int32Array[], itemCount: number, opts: { lambda: number; neighbours: number }): CommunityModel {
  if (!(opts.lambda > 0)) throw new Error(`EASE needs λ > 0, got ${opts.lambda}`);
  const n = itemCount;
  const N = Math.max(1, Math.min(opts.neighbours, n - 1));
  const g = gram(matrixOf(readers, n));
  for (let i = 0; i < n; i++) g[i * n + i] += opts.lambda;
  const p = invertSpd(g, n);
  const index = new Uint32Array(n * N);
  const weight = new Float32Array(n * N);
  const row = new Float64Array(n);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      row[j] = i === j ? 0 : -p[i * n + j] / p[j * n + j];
      order[j] = j;
    }
    order.sort((a, b) => Math.abs(row[b]) - Math.abs(row[a]) || a - b);
    for (let k = 0; k < N; k++) {
      const j = order[k];
      index[i * N + k] = row[j] === 0 ? i : j;
      weight[i * N + k] = row[j];
    }
  }
  return { itemCount: n, neighbours: N, index, weight };
}

/** out[j] = Σ_rows weight·B[row][j]: the reader's community score for every title. */
export function communityScores(model: CommunityModel, rows: readonly WeightedRow[], out = new Float32Array(model.itemCount)): Float32Array {
  out.fill(0);
  const N = model.neighbours;
  for (const { index, weight } of rows) {
    if (weight === 0) continue;
    const o = index * N;
    for (let k = 0; k < N; k++) out[model.index[o + k]] += weight * model.weight[o + k];
  }
  return out;
}

/** The history title that contributes most to title `j`'s community score (for explanations). */
export function strongestNeighbour(model: CommunityModel, rows: readonly WeightedRow[], j: number): { index: number; share: number } | undefined {
  const N = model.neighbours;
  let best: { index: number; share: number } | undefined;
  for (const { index, weight } of rows) {
    const o = index * N;
    for (let k = 0; k < N; k++) {
      if (model.index[o + k] !== j) continue;
      const share = weight * model.weight[o + k];
      if (share > 0 && (!best || share > best.share)) best = { index, share };
    }
  }
  return best;
}

/**
 * Cosine similarity between categories from co-usage counts (seed 003, eq. 1): column c of the reader × category
 * matrix counts the titles of category c each reader used. `itemCategories[i]` lists title i's categories.
 * Returns a categories × categories matrix (1 on the diagonal for a used category).
 */
export function categorySimilarity(readers: readonly ArrayLike<number>[], itemCategories: readonly number[][], categories: number): Float32Array {
  const dotm = new Float64Array(categories * categories);
  const counts = new Float64Array(categories);
  for (const items of readers) {
    counts.fill(0);
    for (let k = 0; k < items.length; k++) for (const c of itemCategories[items[k]]) counts[c]++;
    for (let a = 0; a < categories; a++) {
      if (counts[a] === 0) continue;
      for (let b = 0; b < categories; b++) dotm[a * categories + b] += counts[a] * counts[b];
    }
  }
  return cosines(dotm, categories);
}

/**
 * categorySimilarity where every title is its own reader (a catalog without community data: co-labelling), without
 * a reader list: one pass over the titles' categories.
 */
export function coLabelSimilarity(itemCategories: readonly number[][], categories: number): Float32Array {
  // Titles with the same categories mostly share one list (serendipity.ts itemCategories; 28 lists for 100k
  // synthetic titles): each list is counted, then its pairs added once, times its count (the same integer sums).
  const lists = new Map<readonly number[], number>();
  for (const cats of itemCategories) lists.set(cats, (lists.get(cats) ?? 0) + 1);
  const dotm = new Float64Array(categories * categories);
  for (const [cats, count] of lists) for (const a of cats) for (const b of cats) dotm[a * categories + b] += count;
  return cosines(dotm, categories);
}

/** Cosines from a categories × categories matrix of dot products. */
function cosines(dotm: Float64Array, categories: number): Float32Array {
  const sim = new Float32Array(categories * categories);
  for (let a = 0; a < categories; a++) {
    for (let b = 0; b < categories; b++) {
      const d = Math.sqrt(dotm[a * categories + a] * dotm[b * categories + b]);
      sim[a * categories + b] = d > 0 ? dotm[a * categories + b] / d : 0;
    }
  }
  return sim;
}
