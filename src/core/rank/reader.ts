/**
 * The reader's history as the Ranker reads it: catalog rows in reading order (oldest first), each with a signed
 * taste. The app's HistoryEntry list and the offline evaluation's rated events both become this one shape, so
 * both run the same ranking code.
 */
import { isConsumed, lastTouched, ratingOf, type HistoryEntry } from '../history.ts';
import type { RankerConfig } from '../config.ts';

export interface Reading {
  /** Catalog row. */
  index: number;
  /**
   * Signed taste in [−1, 1]: a rating r of 1–5 gives (r − 3)/2, a like 1, a dislike −1, a title only read,
   * bookmarked or opened from search 0 (an implicit signal: the reader chose it, nothing more is known).
   */
  taste: number;
  /** An explicit dislike: its neighbours are pushed away in every space. */
  disliked: boolean;
  /** Read (or rated, liked, disliked): never recommended again. Bookmarks alone are not. */
  consumed: boolean;
  /**
   * Counts as a preferred title for the sequence model (seed 003): rated above the reader's own mean rating,
   * liked, or read without a rating (implicit).
   */
  preferred: boolean;
  /** Weight of this reading in a content-space profile before recency (the app's signal strengths). */
  signal: number;
}

/** Preference for the sequence model: above the reader's own mean rating; every title when all ratings are equal. */
function markPreferred(readings: Reading[], ratings: Array<number | undefined>): void {
  const rated = ratings.filter((r): r is number => r !== undefined);
  const mean = rated.length ? rated.reduce((a, b) => a + b, 0) / rated.length : 0;
  const flat = rated.every((r) => r === rated[0]);
  readings.forEach((r, i) => {
    const rating = ratings[i];
    if (rating !== undefined) r.preferred = !r.disliked && (flat || rating > mean);
  });
}

/** The app's history → readings, ordered by the last time each title was touched; unknown titles are skipped. */
export function readingsFromHistory(history: readonly HistoryEntry[], indexOf: ReadonlyMap<string, number>, cfg: RankerConfig): Reading[] {
  const known = history.filter((e) => indexOf.has(e.id)).sort((a, b) => lastTouched(a) - lastTouched(b) || (a.id < b.id ? -1 : 1));
  const readings = known.map((e): Reading => {
    const rating = ratingOf(e);
    const fromRating = rating !== undefined ? (rating - 3) / 2 : undefined;
    const disliked = e.dislikedAt !== undefined;
    const liked = e.likedAt !== undefined;
    const taste = liked ? 1 : disliked ? -1 : (fromRating ?? 0);
    return { index: indexOf.get(e.id)!, taste, disliked, consumed: isConsumed(e), preferred: !disliked && (liked || e.readAt !== undefined), signal: signalWeight(e, cfg.signal) };
  });
  markPreferred(readings, known.map((e) => (e.likedAt !== undefined || e.dislikedAt !== undefined ? undefined : ratingOf(e))));
  return readings;
}

/** A history entry's signed strength in a content profile (liked 1, disliked −1, read 0.25…, a rating (r − 3)/2). */
export function signalWeight(e: HistoryEntry, s: RankerConfig['signal']): number {
  const rating = ratingOf(e);
  const fromRating = rating !== undefined ? (rating - 3) / 2 : undefined;
  if (e.likedAt !== undefined) return Math.max(s.liked, fromRating ?? -Infinity);
  if (e.dislikedAt !== undefined) return Math.min(s.disliked, fromRating ?? Infinity);
  if (fromRating !== undefined) return fromRating;
  if (e.readAt !== undefined) return s.read;
  if (e.bookmarkedAt !== undefined) return s.bookmarked;
  if (e.searchedAt !== undefined) return s.searched;
  return 0;
}

/**
 * Rated events in reading order (the evaluation's training history, or a community reader's) → readings.
 * `implicit`: ratings carry no taste (every interaction is a positive), as in a data set whose ratings are all ≤ 1.
 */
export function readingsFromEvents(events: ReadonlyArray<{ item: number; rating: number }>, implicit: boolean, cfg: RankerConfig): Reading[] {
  const readings = events.map((e): Reading => {
    const taste = implicit ? 0 : Math.max(-1, Math.min(1, (e.rating - 3) / 2));
    return { index: e.item, taste, disliked: false, consumed: true, preferred: true, signal: implicit ? cfg.signal.read : taste };
  });
  if (!implicit) markPreferred(readings, events.map((e) => e.rating));
  return readings;
}
