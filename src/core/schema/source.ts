/**
 * One line of a catalog source's `catalog.jsonl` (shared/data/README.md), described once as a valibot schema: the
 * builder's parser checks with it and SourceItem is derived from it. Optional fields may be null (spreadsheet
 * exports write them so); a numeric id is read as its string.
 */
import * as v from 'valibot';
import { isSnapshotPath, isWebUrl } from '../snapshot/paths.ts';
import { finiteNumber, nonEmptyString, objectMessage } from './issues.ts';

const optionalNumber = v.nullish(finiteNumber);
const optionalString = v.nullish(v.string('must be a string'));

export const SourceItemSchema = v.object(
  {
    id: v.pipe(v.union([nonEmptyString, v.pipe(v.number(), v.integer())], 'must be a non-empty string or an integer'), v.transform(String)),
    title: v.pipe(v.string('must be a non-empty string'), v.trim(), v.nonEmpty('must be a non-empty string')),
    synopsis: v.pipe(v.optional(v.nullish(v.string('must be a string')), ''), v.transform((s) => (s ?? '').trim())),
    genres: v.pipe(v.optional(v.nullish(v.array(v.string('must be a string'), 'must be an array of strings')), []), v.transform((g) => [...new Set(g ?? [])])),
    /** A file inside the source folder (never `..` or an absolute path). */
    cover: v.nullish(v.pipe(v.string('must be a path inside the source folder'), v.check((p: string) => isSnapshotPath(p), 'must be a path inside the source folder'))),
    author: optionalString,
    rating: optionalNumber,
    likes: optionalNumber,
    comments: optionalNumber,
    year: optionalNumber,
    votes: optionalNumber,
    age: optionalString,
    completed: v.nullish(v.boolean('must be true or false')),
    /** The title's page on its site: http(s) only. */
    source_url: v.nullish(v.pipe(v.string('must be an http(s) URL'), v.check((u: string) => isWebUrl(u), 'must be an http(s) URL'))),
  },
  objectMessage,
);

type Parsed = v.InferOutput<typeof SourceItemSchema>;
/** A catalog title as the builder reads it (nulls dropped). */
export type SourceItem = { [K in keyof Parsed]: Exclude<Parsed[K], null> };
