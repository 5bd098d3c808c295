/**
 * The reader's history: per title, what they did and when. Pure data + validation; src/store persists it.
 * Liked and disliked exclude each other; a rating or a like implies the title was read.
 */
import * as v from 'valibot';
import { DataError } from './errors.ts';
import { refusal } from './schema/issues.ts';
import { HISTORY_FORMAT, HISTORY_VERSION, HistoryEntrySchema, HistoryFileSchema, NOTE_MAX, type HistoryEntry } from './schema/history.ts';

export { HISTORY_FORMAT, HISTORY_VERSION, type HistoryEntry };

export type History = HistoryEntry[];

export type Action =
  | { kind: 'read'; on: boolean }
  | { kind: 'like'; on: boolean }
  | { kind: 'dislike'; on: boolean }
  | { kind: 'bookmark'; on: boolean }
  | { kind: 'rate'; value: number | null }
  | { kind: 'searched' }
  /** A note (empty text removes it) and how positive it reads, when the sentiment model could tell. */
  | { kind: 'note'; text: string; sentiment?: number };

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
    case 'note': {
      const text = action.text.trim().slice(0, NOTE_MAX);
      delete e.noteSentiment;
      if (!text) {
        delete e.note;
        delete e.noteAt;
      } else {
        e.note = text;
        e.noteAt = now;
        e.readAt ??= now;
        if (action.sentiment !== undefined && Number.isFinite(action.sentiment)) e.noteSentiment = Math.min(1, Math.max(0, action.sentiment));
      }
      break;
    }
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
  return Math.max(e.readAt ?? 0, e.likedAt ?? 0, e.dislikedAt ?? 0, e.ratedAt ?? 0, e.bookmarkedAt ?? 0, e.searchedAt ?? 0, e.noteAt ?? 0);
}

/**
 * The rating an entry stands for: the reader's own, else their note's sentiment read as one (0 → 1 star,
 * 1 → 5 stars), so a note counts in the ranking like a rating would.
 */
export function ratingOf(e: HistoryEntry): number | undefined {
  return e.rating ?? (e.noteSentiment !== undefined ? 1 + 4 * e.noteSentiment : undefined);
}

/** A title the reader has already seen: never recommended again. */
export function isConsumed(e: HistoryEntry): boolean {
  return e.readAt !== undefined || e.likedAt !== undefined || e.dislikedAt !== undefined || e.rating !== undefined;
}

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
  const head = v.safeParse(HistoryFileSchema, raw);
  if (!head.success) throw refusal(file, head.issues);
  const seen = new Set<string>();
  const entries = head.output.entries.map((x: unknown, index: number): HistoryEntry => {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new DataError(file, 'must be an object', { item: `#${index}` });
    const rawId = (x as { id?: unknown }).id;
    const id = typeof rawId === 'string' && rawId ? rawId : undefined;
    const parsed = v.safeParse(HistoryEntrySchema, x);
    if (!parsed.success) throw refusal(file, parsed.issues, { item: id ?? `#${index}` });
    const out = parsed.output;
    // What one field's type cannot say: the rules between fields and entries.
    if (seen.has(out.id)) throw new DataError(file, 'appears twice', { item: out.id, field: 'id' });
    seen.add(out.id);
    if (out.rating !== undefined && out.ratedAt === undefined) throw new DataError(file, 'is required with a rating', { item: out.id, field: 'ratedAt' });
    if ((out.note !== undefined || out.noteSentiment !== undefined) && out.noteAt === undefined) throw new DataError(file, 'is required with a note', { item: out.id, field: 'noteAt' });
    if (out.likedAt !== undefined && out.dislikedAt !== undefined) throw new DataError(file, 'a title cannot be both liked and disliked', { item: out.id, field: 'dislikedAt' });
    if (lastTouched(out) === 0) throw new DataError(file, 'records no action', { item: out.id });
    return out;
  });
  const { exportedAt, catalog } = head.output;
  return { format: HISTORY_FORMAT, version: HISTORY_VERSION, exportedAt, ...(catalog !== undefined ? { catalog } : {}), entries };
}

/**
 * The entries as read back from storage, each checked like an imported one: a damaged entry (written by a bug, an
 * extension, or a newer version) is left out and counted, so it never hides the rest of the history.
 */
export function storedHistory(raw: readonly unknown[]): { entries: History; damaged: number } {
  const entries: History = [];
  let damaged = 0;
  for (const x of raw) {
    const r = v.safeParse(HistoryEntrySchema, x);
    if (r.success && lastTouched(r.output) > 0 && !(r.output.likedAt !== undefined && r.output.dislikedAt !== undefined)) entries.push(r.output);
    else damaged++;
  }
  return { entries, damaged };
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
