/**
 * The reader's history: per title, what they did and when. Pure data + validation; src/store persists it.
 * Liked and disliked exclude each other; a rating or a like implies the title was read.
 */
import { DataError } from './errors.ts';

export interface HistoryEntry {
  id: string;
  /** Epoch milliseconds of each action, absent when not done. */
  readAt?: number;
  likedAt?: number;
  dislikedAt?: number;
  bookmarkedAt?: number;
  rating?: number;
  ratedAt?: number;
  /** Opened from a search result (weak interest; optional, so older exports still import). */
  searchedAt?: number;
}

export type History = HistoryEntry[];

export type Action =
  | { kind: 'read'; on: boolean }
  | { kind: 'like'; on: boolean }
  | { kind: 'dislike'; on: boolean }
  | { kind: 'bookmark'; on: boolean }
  | { kind: 'rate'; value: number | null }
  | { kind: 'searched' };

/** Applies one reader action; returns the new entry (null when nothing is left to remember). */
export function applyAction(prev: HistoryEntry | undefined, id: string, action: Action, now: number): HistoryEntry | null {
  const e: HistoryEntry = { ...(prev ?? { id }) };
  switch (action.kind) {
    case 'read':
      if (action.on) e.readAt ??= now;
      else delete e.readAt;
      break;
    case 'like':
      if (action.on) {
        e.likedAt = now;
        e.readAt ??= now;
        delete e.dislikedAt;
      } else delete e.likedAt;
      break;
    case 'dislike':
      if (action.on) {
        e.dislikedAt = now;
        e.readAt ??= now;
        delete e.likedAt;
      } else delete e.dislikedAt;
      break;
    case 'bookmark':
      if (action.on) e.bookmarkedAt = now;
      else delete e.bookmarkedAt;
      break;
    case 'searched':
      e.searchedAt = now;
      break;
    case 'rate':
      if (action.value === null) {
        delete e.rating;
        delete e.ratedAt;
      } else {
        if (!Number.isInteger(action.value) || action.value < 1 || action.value > 5) throw new RangeError('a rating is an integer from 1 to 5');
        e.rating = action.value;
        e.ratedAt = now;
        e.readAt ??= now;
      }
      break;
  }
  const { id: _id, ...rest } = e;
  return Object.keys(rest).length ? e : null;
}

/** The most recent moment the reader touched this title. */
export function lastTouched(e: HistoryEntry): number {
  return Math.max(e.readAt ?? 0, e.likedAt ?? 0, e.dislikedAt ?? 0, e.ratedAt ?? 0, e.bookmarkedAt ?? 0, e.searchedAt ?? 0);
}

/** A title the reader has already seen: never recommended again. */
export function isConsumed(e: HistoryEntry): boolean {
  return e.readAt !== undefined || e.likedAt !== undefined || e.dislikedAt !== undefined || e.rating !== undefined;
}

export const HISTORY_FORMAT = 'toonpick-history';
export const HISTORY_VERSION = 1;

export interface HistoryFile {
  format: typeof HISTORY_FORMAT;
  version: typeof HISTORY_VERSION;
  exportedAt: string;
  catalog?: string;
  entries: History;
}

export function exportHistory(entries: History, catalog?: string, now = new Date()): HistoryFile {
  return { format: HISTORY_FORMAT, version: HISTORY_VERSION, exportedAt: now.toISOString(), ...(catalog ? { catalog } : {}), entries };
}

const TIME_FIELDS = ['readAt', 'likedAt', 'dislikedAt', 'bookmarkedAt', 'ratedAt', 'searchedAt'] as const;
const KNOWN_FIELDS = new Set<string>(['id', 'rating', ...TIME_FIELDS]);
/** The last millisecond a Date can hold. */
const MAX_TIME = 8.64e15;

/**
 * Validates an import file completely before anything is written, so a bad file changes nothing.
 * Errors name the entry and field.
 */
export function parseHistoryFile(text: string, file = 'history file'): HistoryFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new DataError(file, `is not JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new DataError(file, 'is not a Toonpick history export (expected a JSON object)');
  const r = raw as Record<string, unknown>;
  if (r.format !== HISTORY_FORMAT) throw new DataError(file, `is not a Toonpick history export (format is ${JSON.stringify(r.format)})`, { field: 'format' });
  if (r.version !== HISTORY_VERSION) throw new DataError(file, `has unknown version ${JSON.stringify(r.version)} (this app reads ${HISTORY_VERSION})`, { field: 'version' });
  if (!Array.isArray(r.entries)) throw new DataError(file, 'must be an array', { field: 'entries' });
  const seen = new Set<string>();
  const entries = r.entries.map((x: unknown, i: number): HistoryEntry => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new DataError(file, 'must be an object', { item: `#${i}` });
    const e = x as Record<string, unknown>;
    if (typeof e.id !== 'string' || !e.id) throw new DataError(file, 'must be a non-empty string', { item: `#${i}`, field: 'id' });
    const id = e.id;
    if (seen.has(id)) throw new DataError(file, 'appears twice', { item: id, field: 'id' });
    seen.add(id);
    for (const k of Object.keys(e)) if (!KNOWN_FIELDS.has(k)) throw new DataError(file, 'is not a history field', { item: id, field: k });
    const out: HistoryEntry = { id };
    for (const k of TIME_FIELDS) {
      if (e[k] === undefined) continue;
      // Within the Date range (±8.64e15 ms), or the History page could not show it, and export, import and clear with it.
      if (typeof e[k] !== 'number' || !Number.isFinite(e[k]) || (e[k] as number) < 0 || (e[k] as number) > MAX_TIME)
        throw new DataError(file, 'must be a time in epoch milliseconds (0 to 8.64e15)', { item: id, field: k });
      out[k] = e[k] as number;
    }
    if (e.rating !== undefined) {
      if (!Number.isInteger(e.rating) || (e.rating as number) < 1 || (e.rating as number) > 5) throw new DataError(file, 'must be an integer from 1 to 5', { item: id, field: 'rating' });
      out.rating = e.rating as number;
      if (out.ratedAt === undefined) throw new DataError(file, 'is required with a rating', { item: id, field: 'ratedAt' });
    }
    if (out.likedAt !== undefined && out.dislikedAt !== undefined) throw new DataError(file, 'a title cannot be both liked and disliked', { item: id, field: 'dislikedAt' });
    if (lastTouched(out) === 0) throw new DataError(file, 'records no action', { item: id });
    return out;
  });
  return { format: HISTORY_FORMAT, version: HISTORY_VERSION, exportedAt: String(r.exportedAt ?? ''), ...(typeof r.catalog === 'string' ? { catalog: r.catalog } : {}), entries };
}

/** Merging an import: per title, the entry touched most recently wins. */
export function mergeHistory(current: History, incoming: History): History {
  const byId = new Map(current.map((e) => [e.id, e]));
  for (const e of incoming) {
    const old = byId.get(e.id);
    if (!old || lastTouched(e) >= lastTouched(old)) byId.set(e.id, e);
  }
  return [...byId.values()];
}
