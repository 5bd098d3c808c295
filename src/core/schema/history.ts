/**
 * The history export file (`toonpick-history`, version 1), described once as a valibot schema: the importer
 * checks with it, the TypeScript types come from it, and its issues become a DataError naming the entry and field.
 */
import * as v from 'valibot';
import { nonEmptyString } from './issues.ts';

export const HISTORY_FORMAT = 'toonpick-history';
export const HISTORY_VERSION = 1;
/** The last millisecond a Date can hold: a later time could not be shown, exported or cleared. */
const MAX_TIME = 8.64e15;

const TIME = 'must be a time in epoch milliseconds (0 to 8.64e15)';
const time = v.pipe(v.number(TIME), v.finite(TIME), v.minValue(0, TIME), v.maxValue(MAX_TIME, TIME));
const RATING = 'must be an integer from 1 to 5';
/** The longest note a reader can keep on a title (characters). */
export const NOTE_MAX = 500;

/** One title's entry: what the reader did and when (epoch milliseconds), absent when not done. */
export const HistoryEntrySchema = v.strictObject(
  {
    id: nonEmptyString,
    readAt: v.optional(time),
    likedAt: v.optional(time),
    dislikedAt: v.optional(time),
    bookmarkedAt: v.optional(time),
    rating: v.optional(v.pipe(v.number(RATING), v.integer(RATING), v.minValue(1, RATING), v.maxValue(5, RATING))),
    ratedAt: v.optional(time),
    /** Opened from a search result (weak interest; optional, so older exports still import). */
    searchedAt: v.optional(time),
    /** The reader's short note on the title, when written, and how positive it reads (0…1, text/sentiment.ts). */
    note: v.optional(v.pipe(v.string('must be a string of at most 500 characters'), v.maxLength(NOTE_MAX, 'must be a string of at most 500 characters'))),
    noteAt: v.optional(time),
    noteSentiment: v.optional(v.pipe(v.number('must be a number from 0 to 1'), v.minValue(0, 'must be a number from 0 to 1'), v.maxValue(1, 'must be a number from 0 to 1'))),
  },
  // Said of an unknown key, and of a missing `id`.
  (issue) => (issue.input === undefined ? 'is missing' : 'is not a history field'),
);

export const HistoryFileSchema = v.object(
  {
    format: v.literal(HISTORY_FORMAT, (issue) => `is not a Toonpick history export (format is ${JSON.stringify(issue.input)})`),
    version: v.literal(HISTORY_VERSION, (issue) => `has unknown version ${JSON.stringify(issue.input)} (this app reads ${HISTORY_VERSION})`),
    exportedAt: v.optional(v.string('must be a string'), ''),
    catalog: v.optional(v.string('must be a string')),
    entries: v.array(v.unknown(), 'must be an array'),
  },
  // A missing key; without `format` it is some other JSON file altogether.
  (issue) => (issue.path?.[0]?.key === 'format' ? 'is not a Toonpick history export (it has no format)' : 'is missing'),
);

export type HistoryEntry = v.InferOutput<typeof HistoryEntrySchema>;
