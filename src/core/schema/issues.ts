/**
 * From a valibot check to our one error type: the first issue becomes a DataError naming the file, the item (an
 * entry's id, else its position) and the field (the issue's path, `spaces[0].dim`), with the schema's message.
 */
import * as v from 'valibot';
import { DataError } from '../errors.ts';

/** `a.b[2].c` from an issue's path (object keys joined by dots, array positions in brackets). */
export function fieldOf(issue: v.BaseIssue<unknown>, skip = 0): string | undefined {
  let out = '';
  for (const p of (issue.path ?? []).slice(skip)) out += typeof p.key === 'number' ? `[${p.key}]` : `${out ? '.' : ''}${String(p.key)}`;
  return out || undefined;
}

export function refusal(file: string, issues: readonly v.BaseIssue<unknown>[], where: { item?: string; skip?: number } = {}): DataError {
  const field = fieldOf(issues[0], where.skip);
  return new DataError(file, issues[0].message, { ...(where.item !== undefined ? { item: where.item } : {}), ...(field !== undefined ? { field } : {}) });
}

/** Checks `raw` against `schema` and gives the typed output, or throws the first issue as a DataError. */
export function parseWith<S extends v.GenericSchema>(schema: S, raw: unknown, file: string, where: { item?: string; skip?: number } = {}): v.InferOutput<S> {
  const r = v.safeParse(schema, raw, { abortEarly: true });
  if (!r.success) throw refusal(file, r.issues, where);
  return r.output;
}

// The few shapes every format uses, each with the message a reader of the error needs.
/** An object's own message: said of a missing key (input undefined), of a field that is not an object, or of a whole file. */
export const objectMessage = (issue: v.BaseIssue<unknown>) => (!issue.path?.length ? 'is not a JSON object' : issue.input === undefined ? 'is missing' : 'must be an object');
export const nonEmptyString = v.pipe(v.string('must be a non-empty string'), v.nonEmpty('must be a non-empty string'));
export const finiteNumber = v.pipe(v.number('must be a finite number'), v.finite('must be a finite number'));
export const positiveInteger = v.pipe(v.number('must be a positive integer'), v.integer('must be a positive integer'), v.minValue(1, 'must be a positive integer'));
export const countOf = v.pipe(v.number('must be a non-negative integer'), v.integer('must be a non-negative integer'), v.minValue(0, 'must be a non-negative integer'));
export const stringList = v.array(v.string('must be a string'), 'must be an array of strings');
