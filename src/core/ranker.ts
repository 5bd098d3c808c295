/**
 * The content-based Ranker: pure functions over snapshot spaces and the reader's history.
 * Profile per space = recency-weighted sum of history vectors (dislikes with negative weight);
 * score per space = cosine to the profile; spaces are fused after standardising each one's scores,
 * because raw cosines of different spaces live on different scales.
 */
import type { RankerConfig } from './config.ts';
import { isConsumed, lastTouched, type HistoryEntry } from './history.ts';
import type { Space, Title } from './snapshot/format.ts';
import { normalize, scanDot } from './vectors.ts';

export interface Catalog {
  items: Title[];
  spaces: Map<string, Space>;
  indexOf: Map<string, number>;
}

/** One history title as the ranker sees it: a catalog row and a signed, recency-decayed weight. */
export interface Signal {
  index: number;
  weight: number;
}

export interface Explanation {
  /** The space that contributed most to the score. */
  space: string;
  /** The history title closest to this one in that space (a catalog row), if any. */
  closest?: number;
  similarity?: number;
  /** Each space's share of the fused score. */
  contributions: Record<string, number>;
}

export interface Recommendation {
  index: number;
  score: number;
  why: Explanation;
}

export function signalWeight(e: HistoryEntry, s: RankerConfig['signal']): number {
  const fromRating = e.rating !== undefined ? (e.rating - 3) / 2 : undefined;
  if (e.likedAt !== undefined) return Math.max(s.liked, fromRating ?? -Infinity);
  if (e.dislikedAt !== undefined) return Math.min(s.disliked, fromRating ?? Infinity);
  if (fromRating !== undefined) return fromRating;
  if (e.readAt !== undefined) return s.read;
  if (e.bookmarkedAt !== undefined) return s.bookmarked;
  return 0;
}

/** History → signals, oldest first; entries for titles not in this catalog are skipped. */
export function historySignals(history: HistoryEntry[], indexOf: Map<string, number>, cfg: RankerConfig): Signal[] {
  const known = history.filter((e) => indexOf.has(e.id)).sort((a, b) => lastTouched(a) - lastTouched(b) || (a.id < b.id ? -1 : 1));
  const n = known.length;
  return known
    .map((e, r) => ({ index: indexOf.get(e.id)!, weight: signalWeight(e, cfg.signal) * Math.pow(0.5, (n - 1 - r) / cfg.recencyHalfLife) }))
    .filter((s) => s.weight !== 0);
}

export function profile(space: Space, signals: Signal[]): Float32Array {
  const p = new Float32Array(space.dim);
  for (const { index, weight } of signals) {
    const o = index * space.dim;
    for (let d = 0; d < space.dim; d++) p[d] += weight * space.data[o + d];
  }
  return normalize(p);
}

/** Standardises scores over the candidate rows (mean 0, unit variance); constant scores become 0. */
function standardise(scores: Float32Array, candidates: Uint8Array): void {
  let n = 0, sum = 0, sq = 0;
  for (let i = 0; i < scores.length; i++) if (candidates[i]) { n++; sum += scores[i]; sq += scores[i] * scores[i]; }
  const mean = n ? sum / n : 0;
  const sd = n ? Math.sqrt(Math.max(sq / n - mean * mean, 0)) : 0;
  for (let i = 0; i < scores.length; i++) scores[i] = sd > 1e-9 ? (scores[i] - mean) / sd : 0;
}

/** Indices of the k best candidates by score, ties broken by catalog order. */
export function topK(scores: ArrayLike<number>, candidates: Uint8Array, k: number): number[] {
  const idx: number[] = [];
  for (let i = 0; i < scores.length; i++) if (candidates[i]) idx.push(i);
  idx.sort((a, b) => scores[b] - scores[a] || a - b);
  return idx.slice(0, k);
}

function closestIn(space: Space, item: number, among: Signal[]): { closest?: number; similarity?: number } {
  let best = -Infinity, closest: number | undefined;
  for (const s of among) {
    if (s.weight <= 0) continue;
    let d = 0;
    const a = item * space.dim, b = s.index * space.dim;
    for (let j = 0; j < space.dim; j++) d += space.data[a + j] * space.data[b + j];
    if (d > best) { best = d; closest = s.index; }
  }
  return closest === undefined ? {} : { closest, similarity: best };
}

/**
 * Scores every catalog row against a set of signals and returns the top k candidates with explanations.
 * `exclude` rows are never returned.
 */
export function rankBySignals(catalog: Catalog, signals: Signal[], weights: Record<string, number>, k: number, exclude: Set<number>): Recommendation[] {
  const n = catalog.items.length;
  const candidates = new Uint8Array(n).fill(1);
  for (const i of exclude) candidates[i] = 0;
  const used = [...catalog.spaces.values()].filter((s) => (weights[s.name] ?? 0) > 0);
  const wsum = used.reduce((a, s) => a + weights[s.name], 0);
  const perSpace = new Map<string, Float32Array>();
  const fused = new Float32Array(n);
  for (const space of used) {
    const z = scanDot(space.data, space.dim, profile(space, signals));
    standardise(z, candidates);
    const w = weights[space.name] / wsum;
    for (let i = 0; i < n; i++) { z[i] *= w; fused[i] += z[i]; }
    perSpace.set(space.name, z);
  }
  return topK(fused, candidates, k).map((index) => {
    const contributions: Record<string, number> = {};
    let space = used[0]?.name ?? '';
    for (const [name, z] of perSpace) {
      contributions[name] = z[index];
      if (z[index] > (contributions[space] ?? -Infinity)) space = name;
    }
    const sp = catalog.spaces.get(space);
    return { index, score: fused[index], why: { space, contributions, ...(sp ? closestIn(sp, index, signals) : {}) } };
  });
}

/** "For you": null when the reader has no positive signal yet (cold start: show popular titles). */
export function recommend(catalog: Catalog, history: HistoryEntry[], cfg: RankerConfig, k: number): Recommendation[] | null {
  const signals = historySignals(history, catalog.indexOf, cfg);
  if (!signals.some((s) => s.weight > 0)) return null;
  const exclude = new Set<number>();
  for (const e of history) if (isConsumed(e) && catalog.indexOf.has(e.id)) exclude.add(catalog.indexOf.get(e.id)!);
  return rankBySignals(catalog, signals, cfg.spaceWeights, k, exclude);
}

/** "More like this": the title itself is the whole profile. */
export function moreLikeThis(catalog: Catalog, index: number, cfg: RankerConfig, k: number): Recommendation[] {
  return rankBySignals(catalog, [{ index, weight: 1 }], cfg.spaceWeights, k, new Set([index]));
}

/** Most popular titles first, skipping those the reader has consumed (cold start and fallback). */
export function popular(catalog: Catalog, history: HistoryEntry[], k: number): number[] {
  const candidates = new Uint8Array(catalog.items.length).fill(1);
  for (const e of history) if (isConsumed(e) && catalog.indexOf.has(e.id)) candidates[catalog.indexOf.get(e.id)!] = 0;
  return topK(catalog.items.map((t) => t.popularity), candidates, k);
}
