/**
 * The catalog source layout (shared/data/README.md): `catalog.jsonl` (one item a line) and an optional
 * `interactions.csv` (`user,item,rating,timestamp`). Pure parsing: callers read the files.
 */
import * as v from 'valibot';
import { DataError } from './errors.ts';
import { fieldOf } from './schema/issues.ts';
import { SourceItemSchema, type SourceItem } from './schema/source.ts';

export type { SourceItem };

export interface Interaction {
  user: string;
  item: string;
  rating: number;
  /** UNIX seconds. */
  timestamp: number;
}

/** A line the parser left out (`strict: false`): where, and why, as a DataError would say it. */
export interface SkippedLine {
  line: number;
  message: string;
}

/**
 * How a parser treats a bad line: `strict` (the default here; the builder's `--strict`) refuses the file at the
 * first one; otherwise the line is left out and recorded in `skipped`.
 */
export interface ParseOptions {
  strict?: boolean;
  skipped?: SkippedLine[];
}

function badLine(file: string, n: number, e: DataError, options: ParseOptions): void {
  if (options.strict ?? true) throw e;
  options.skipped?.push({ line: n, message: e.message });
}

export function parseCatalogJsonl(text: string, file = 'catalog.jsonl', options: ParseOptions = {}): SourceItem[] {
  const items: SourceItem[] = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (!line) continue;
    const where = `line ${n + 1}`;
    try {
      let raw: unknown;
      try {
        raw = JSON.parse(line);
      } catch (e) {
        throw new DataError(file, `${where} is not JSON (${(e as Error).message})`);
      }
      const rawId = (raw as { id?: unknown } | null)?.id;
      const r = v.safeParse(SourceItemSchema, raw, { abortEarly: true });
      if (!r.success) {
        const field = fieldOf(r.issues[0]);
        throw new DataError(file, `${where}: ${r.issues[0].message}`, { ...(typeof rawId === 'string' || typeof rawId === 'number' ? { item: String(rawId) } : {}), ...(field ? { field } : {}) });
      }
      const item = Object.fromEntries(Object.entries(r.output).filter(([, x]) => x !== null && x !== undefined)) as SourceItem;
      if (seen.has(item.id)) throw new DataError(file, `${where} repeats id`, { item: item.id, field: 'id' });
      seen.add(item.id);
      items.push(item);
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      badLine(file, n + 1, e, options);
    }
  }
  if (items.length === 0) throw new DataError(file, 'has no items');
  return items;
}

/**
 * Parses `user,item,rating,timestamp`. A row naming an item not in `knownItems` (when given), a rating or
 * timestamp that is not a number, or a repeat of the same user, item and time is a bad line.
 */
export function parseInteractionsCsv(text: string, file = 'interactions.csv', knownItems?: Set<string>, options: ParseOptions = {}): Interaction[] {
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.trim().split(',').map((h) => h.trim());
  const want = ['user', 'item', 'rating', 'timestamp'];
  if (!header || want.some((h, i) => header[i] !== h)) throw new DataError(file, `header must be "${want.join(',')}"`);
  const out: Interaction[] = [];
  const seen = new Set<string>();
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n].trim();
    if (!line) continue;
    try {
      const cells = line.split(',');
      if (cells.length !== 4) throw new DataError(file, `line ${n + 1} has ${cells.length} columns, expected 4`);
      const [user, item] = cells;
      const rating = Number(cells[2]);
      const timestamp = Number(cells[3]);
      if (!user || !item) throw new DataError(file, `line ${n + 1} has an empty user or item`);
      if (cells[2].trim() === '' || !Number.isFinite(rating)) throw new DataError(file, `line ${n + 1}: rating is not a number`, { item, field: 'rating' });
      if (cells[3].trim() === '' || !Number.isFinite(timestamp)) throw new DataError(file, `line ${n + 1}: timestamp is not a number`, { item, field: 'timestamp' });
      if (knownItems && !knownItems.has(item)) throw new DataError(file, `line ${n + 1} names an item not in the catalog`, { item, field: 'item' });
      const key = `${user}\u0000${item}\u0000${timestamp}`;
      if (seen.has(key)) throw new DataError(file, `line ${n + 1} repeats an earlier row (same user, item and time)`, { item });
      seen.add(key);
      out.push({ user, item, rating, timestamp });
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      badLine(file, n + 1, e, options);
    }
  }
  return out;
}
