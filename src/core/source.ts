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

/** What a row of interactions.csv must satisfy besides its shape: titles the catalog has, a declared rating range. */
export interface InteractionRules {
  knownItems?: Set<string>;
  /** Ratings outside [min, max] are bad lines (e.g. `--rating-range 1,5`). */
  ratingRange?: readonly [number, number];
}

const HEADER = ['user', 'item', 'rating', 'timestamp'];

/**
 * interactions.csv one line at a time (`user,item,rating,timestamp`), so that a caller can stream a file of any
 * size through it: the header first, then each row. A row naming an item not in `knownItems`, a rating or
 * timestamp that is not a number, a rating outside the declared range, or a repeat of the same user, item and
 * time is a bad line (refused, or left out and recorded: ParseOptions).
 */
export class InteractionsParser {
  readonly rows: Interaction[] = [];
  private readonly seen = new Set<string>();
  private readonly names = new Map<string, string>();
  private n = 0;
  private recorded = false;

  constructor(
    private readonly file = 'interactions.csv',
    private readonly rules: InteractionRules = {},
    private readonly options: ParseOptions = {},
  ) {}

  /** The next line of the file (the first is the header). */
  line(raw: string): void {
    const n = ++this.n;
    const line = raw.trim();
    const file = this.file;
    if (n === 1) {
      const header = line.split(',').map((h) => h.trim());
      if (HEADER.some((h, i) => header[i] !== h)) throw new DataError(file, `header must be "${HEADER.join(',')}"`);
      return;
    }
    if (!line) return;
    const cells = line.split(',');
    if (cells.length !== 4) return this.bad(new DataError(file, `line ${n} has ${cells.length} columns, expected 4`), n);
    this.record(n, cells[0], cells[1], cells[2].trim() === '' ? NaN : Number(cells[2]), cells[3].trim() === '' ? NaN : Number(cells[3]));
  }

  /**
   * One row by its values (a Parquet file's, or a CSV line's cells): `where` is its line (CSV) or row number.
   * The same checks as a CSV line.
   */
  record(where: number, user: string, item: string, rating: number, timestamp: number, unit = 'line'): void {
    this.recorded = true;
    const file = this.file;
    const at = `${unit} ${where}`;
    try {
      if (!user || !item) throw new DataError(file, `${at} has an empty user or item`);
      if (!Number.isFinite(rating)) throw new DataError(file, `${at}: rating is not a number`, { item, field: 'rating' });
      const range = this.rules.ratingRange;
      if (range && (rating < range[0] || rating > range[1])) throw new DataError(file, `${at}: rating ${rating} is outside the declared range ${range[0]}–${range[1]}`, { item, field: 'rating' });
      if (!Number.isFinite(timestamp)) throw new DataError(file, `${at}: timestamp is not a number`, { item, field: 'timestamp' });
      if (this.rules.knownItems && !this.rules.knownItems.has(item)) throw new DataError(file, `${at} names an item not in the catalog`, { item, field: 'item' });
      const key = `${user}\u0000${item}\u0000${timestamp}`;
      if (this.seen.has(key)) throw new DataError(file, `${at} repeats an earlier row (same user, item and time)`, { item });
      this.seen.add(key);
      this.rows.push({ user: this.intern(user), item: this.intern(item), rating, timestamp });
    } catch (e) {
      if (!(e instanceof DataError)) throw e;
      this.bad(e, where);
    }
  }

  /**
   * One string object per distinct user or item id: every line's cells are fresh strings, and a platform's
   * millions of events name far fewer readers and titles (48 bytes an event less at 10M events).
   */
  private intern(id: string): string {
    const known = this.names.get(id);
    if (known !== undefined) return known;
    this.names.set(id, id);
    return id;
  }

  private bad(e: DataError, where: number): void {
    badLine(this.file, where, e, this.options);
  }

  /** The rows, once every line was given; a file without even a header is refused. */
  finish(): Interaction[] {
    if (this.n === 0 && !this.recorded) throw new DataError(this.file, `header must be "${HEADER.join(',')}"`);
    this.seen.clear();
    this.names.clear();
    return this.rows;
  }
}

/** interactions.csv from its whole text (tests, the eval); the builder streams it through InteractionsParser. */
export function parseInteractionsCsv(text: string, file = 'interactions.csv', knownItems?: Set<string>, options: ParseOptions = {}, ratingRange?: readonly [number, number]): Interaction[] {
  const parser = new InteractionsParser(file, { ...(knownItems ? { knownItems } : {}), ...(ratingRange ? { ratingRange } : {}) }, options);
  for (const line of text.split(/\r?\n/)) parser.line(line);
  return parser.finish();
}
