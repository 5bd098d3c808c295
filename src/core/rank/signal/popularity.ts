/**
 * `popularity`: how many of the community's readers read each title, the same for every reader, weighed like any
 * signal (learned on the validation carve, 0 where it does not help). Only with the sparse community model: its
 * rows keep a title's co-read titles alone, where dense EASE's rows spread over every title, which carries
 * popularity (README, "How For you ranks": on the synthetic 10k-title set it lifts toonpick above dense EASE;
 * with the dense model on the MovieLens sets validation gave it no weight, or a weight that cost on test).
 */
import { POPULARITY_SPACE } from '../../spaces.ts';
import type { Catalog } from '../signals.ts';
import type { Signal } from './signal.ts';

const scored = new WeakMap<object, Float32Array>();

/**
 * −log(rank share) of each title's reader count (ties share their mean rank): scale-free, so the counts of a
 * fit and the percentiles a snapshot stores give the same scores, and long-tailed like the counts themselves.
 */
export function popularityScores(counts: ArrayLike<number>): Float32Array {
  const n = counts.length;
  // A numeric typed-array sort and two binary searches per title: no comparator callbacks (100k titles on the
  // page's thread).
  const sorted = Float64Array.from(counts).sort();
  const bound = (v: number, upper: boolean) => {
    let lo = 0, hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid] < v || (upper && sorted[mid] === v)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    // Ranks from the most read: the titles read more come first, then this one's ties.
    const above = n - bound(counts[i], true);
    const ties = bound(counts[i], true) - bound(counts[i], false);
    out[i] = -Math.log((above + ties / 2) / n);
  }
  return out;
}

function scoresOf(catalog: Catalog): Float32Array {
  // The community's own counts where its fit kept them (the tuner's carve), else the titles' stored popularity.
  const key = catalog.community?.readers ?? catalog.items;
  let s = scored.get(key);
  // A title list that grew since (titles arriving in batches) is scored again.
  if (!s || s.length !== key.length) {
    s = popularityScores(catalog.community?.readers ?? catalog.items.map((t) => t.popularity));
    scored.set(key, s);
  }
  return s;
}

export const popularitySignal: Signal = {
  name: POPULARITY_SPACE,
  kind: 'model',
  ablation: POPULARITY_SPACE,
  available: (catalog) => catalog.community?.sparse === true,
  // A copy: standardising happens in place.
  scores: (catalog) => (catalog.community?.sparse ? Float32Array.from(scoresOf(catalog)) : undefined),
  // No history title is behind it.
  explain: () => ({}),
};
