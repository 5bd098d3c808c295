/**
 * The community model's heavy aggregation in SQL (scripts/sql/cooccurrence.sql), run by an embedded analytical
 * engine (DuckDB) over interactions.csv or a Parquet export, out of core; or read from a table an operator computed
 * in their warehouse with the same SQL (`--cooccurrence <parquet>`). Either way the result is the Cooccurrence the
 * sparse community model fits from (src/core/rank/sparse-ease.ts), identical to what it counts in memory.
 */
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { DataError } from '../../src/core/errors.ts';
import type { Cooccurrence } from '../../src/core/rank/sparse-ease.ts';
import type { ParseOptions } from '../../src/core/source.ts';

const SQL = path.join(import.meta.dirname, '../sql/cooccurrence.sql');

/** The SQL with its one parameter filled in (other engines: the same replacement). */
function cooccurrenceSql(keep: number): string {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`keep must be a positive integer, got ${keep}`);
  return readFileSync(SQL, 'utf8').replaceAll('{{keep}}', String(keep));
}

/** A string literal for DuckDB (file paths). */
const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

/**
 * DuckDB's own memory is capped (it spills the pairs join to a temporary folder beyond it): its default, 80 % of the
 * machine, would crowd out the builder's heap on top of it.
 */
const DUCKDB_MEMORY = '2GB';

async function withDuckDb<T>(work: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const db = await DuckDBInstance.create(':memory:', { memory_limit: DUCKDB_MEMORY, temp_directory: path.join(tmpdir(), 'toonpick-duckdb'), preserve_insertion_order: 'false' });
  const c = await db.connect();
  try {
    return await work(c);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/** The catalog's ids as the `titles` relation. */
async function registerTitles(c: DuckDBConnection, itemIds: readonly string[]): Promise<void> {
  await c.run('CREATE TABLE titles (item VARCHAR, "row" INTEGER)');
  const appender = await c.createAppender('titles');
  for (const [row, id] of itemIds.entries()) {
    appender.appendVarchar(id);
    appender.appendInteger(row);
    appender.endRow();
  }
  appender.closeSync();
}

/**
 * The `interactions` relation over a file: interactions.csv (header `user,item,rating,timestamp`; a line whose
 * rating or timestamp is not a number, or with another number of columns, is left out, as the builder's parser
 * leaves it out) or a Parquet file with those four columns. `ratingRange` leaves out ratings outside it.
 */
async function registerInteractions(c: DuckDBConnection, file: string, ratingRange?: readonly [number, number]): Promise<void> {
  const source = /\.parquet$/i.test(file)
    ? `read_parquet(${literal(file)})`
    : `read_csv(${literal(file)}, header = true, delim = ',', quote = '', escape = '', ignore_errors = true, columns = {'user': 'VARCHAR', 'item': 'VARCHAR', 'rating': 'DOUBLE', 'timestamp': 'DOUBLE'})`;
  if (/\.parquet$/i.test(file)) await checkColumns(c, source, file, { user: 'text', item: 'text', rating: 'number', timestamp: 'number' });
  const range = ratingRange ? ` WHERE rating BETWEEN ${Number(ratingRange[0])} AND ${Number(ratingRange[1])}` : '';
  await c.run(`CREATE VIEW interactions AS SELECT CAST("user" AS VARCHAR) AS "user", CAST(item AS VARCHAR) AS item, CAST(rating AS DOUBLE) AS rating, CAST("timestamp" AS DOUBLE) AS "timestamp" FROM ${source}${range}`);
}

const NUMBER = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL.*)$/;
const TEXT = /^(VARCHAR|TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT)$/;

/** A Parquet file has the columns a contract names, of usable types; otherwise a DataError naming what is wrong. */
async function checkColumns(c: DuckDBConnection, source: string, file: string, want: Record<string, 'text' | 'number'>): Promise<void> {
  let rows: unknown[][];
  try {
    rows = (await c.runAndReadAll(`DESCRIBE SELECT * FROM ${source}`)).getRows();
  } catch (e) {
    throw new DataError(file, `could not be read as Parquet (${(e as Error).message.split('\n')[0]})`);
  }
  const types = new Map(rows.map((r) => [String(r[0]), String(r[1])]));
  for (const [name, kind] of Object.entries(want)) {
    const type = types.get(name);
    if (!type) throw new DataError(file, `has no column "${name}" (it has ${[...types.keys()].join(', ') || 'none'}; expected ${Object.keys(want).join(', ')})`, { field: name });
    if (!(kind === 'number' ? NUMBER : TEXT).test(type)) throw new DataError(file, `column "${name}" is ${type}, expected ${kind === 'number' ? 'a number' : 'text or an integer id'}`, { field: name });
  }
}

function grow<T extends Int32Array | Float64Array>(a: T, size: number): T {
  const out = new (a.constructor as new (n: number) => T)(size);
  out.set(a);
  return out;
}

/**
 * The Cooccurrence of a (item, other, readers) result, by catalog row: each title's others sorted by count then
 * catalog order, cut to `keep`. A row naming a title the catalog does not list is a bad row (ParseOptions), and
 * a title with no own-count row has no readers.
 */
async function collect(c: DuckDBConnection, sql: string, itemIds: readonly string[], keep: number, file: string, options: ParseOptions): Promise<Cooccurrence> {
  const n = itemIds.length;
  const rowOf = new Map(itemIds.map((id, i) => [id, i]));
  // Pairs in growable typed arrays (a table may hold tens of millions of rows): title, other, count.
  let cap = 1 << 16;
  let from = new Int32Array(cap);
  let to = new Int32Array(cap);
  let count = new Float64Array(cap);
  let pairs = 0;
  const own = new Float64Array(n);
  const result = await c.stream(sql);
  let row = 0;
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    const [items, others, readers] = [0, 1, 2].map((k) => chunk.getColumnValues(k));
    for (let r = 0; r < chunk.rowCount; r++) {
      row++;
      const a = rowOf.get(String(items[r]));
      const b = rowOf.get(String(others[r]));
      const readerCount = Number(readers[r]);
      if (a === undefined || b === undefined || !(readerCount > 0)) {
        const e = new DataError(file, `row ${row} ${a === undefined || b === undefined ? `names a title not in the catalog (${JSON.stringify(String(a === undefined ? items[r] : others[r]))})` : 'has a count that is not positive'}`, { field: a === undefined ? 'item' : b === undefined ? 'other' : 'readers' });
        if (options.strict ?? true) throw e;
        options.skipped?.push({ line: row, message: e.message });
        continue;
      }
      if (a === b) {
        own[a] = readerCount;
        continue;
      }
      if (pairs === cap) {
        cap *= 2;
        [from, to, count] = [grow(from, cap), grow(to, cap), grow(count, cap)];
      }
      from[pairs] = a;
      to[pairs] = b;
      count[pairs++] = readerCount;
    }
  }
  // Group by title (a counting sort), then each title's others by count, then catalog order, cut to `keep`.
  const start = new Int32Array(n + 1);
  for (let p = 0; p < pairs; p++) start[from[p] + 1]++;
  for (let a = 0; a < n; a++) start[a + 1] += start[a];
  const order = new Int32Array(pairs);
  const fill = start.slice(0, n);
  for (let p = 0; p < pairs; p++) order[fill[from[p]]++] = p;
  const ids = new Int32Array(n * keep).fill(-1);
  const counts = new Float64Array(n * keep);
  for (let a = 0; a < n; a++) {
    const list = Array.from(order.subarray(start[a], start[a + 1]));
    list.sort((x, y) => count[y] - count[x] || to[x] - to[y]);
    for (let q = 0; q < Math.min(keep, list.length); q++) {
      ids[a * keep + q] = to[list[q]];
      counts[a * keep + q] = count[list[q]];
    }
  }
  return { keep, ids, counts, own };
}

/**
 * Runs scripts/sql/cooccurrence.sql with DuckDB over an interactions file (CSV or Parquet). `writeParquet` also
 * saves the table (what an operator would hand the builder from a warehouse, and what the tests check against).
 */
export function cooccurrenceWithDuckDb(opts: { interactions: string; itemIds: readonly string[]; keep: number; ratingRange?: readonly [number, number]; writeParquet?: string }): Promise<Cooccurrence> {
  return withDuckDb(async (c) => {
    await registerTitles(c, opts.itemIds);
    await registerInteractions(c, opts.interactions, opts.ratingRange);
    const sql = cooccurrenceSql(opts.keep);
    if (opts.writeParquet) {
      await c.run(`COPY (${sql}) TO ${literal(opts.writeParquet)} (FORMAT parquet)`);
      return collect(c, `SELECT * FROM read_parquet(${literal(opts.writeParquet)})`, opts.itemIds, opts.keep, opts.writeParquet, { strict: true });
    }
    return collect(c, sql, opts.itemIds, opts.keep, opts.interactions, { strict: true });
  });
}

/**
 * A co-occurrence table computed elsewhere with the same SQL (`--cooccurrence <parquet>`): columns `item`, `other`
 * (title ids) and `readers` (a count). A wrong schema is refused naming the column; rows naming titles the catalog
 * does not list are bad rows (left out and reported, or refused with `strict`).
 */
export function readCooccurrenceTable(file: string, itemIds: readonly string[], keep: number, options: ParseOptions = {}): Promise<Cooccurrence> {
  return withDuckDb(async (c) => {
    const source = `read_parquet(${literal(file)})`;
    await checkColumns(c, source, file, { item: 'text', other: 'text', readers: 'number' });
    return collect(c, `SELECT CAST(item AS VARCHAR), CAST(other AS VARCHAR), readers FROM ${source}`, itemIds, keep, file, options);
  });
}

/**
 * Streams a Parquet export of the interactions (columns `user`, `item`, `rating`, `timestamp`; ids may be
 * integers) row by row, in chunks, never the whole file in memory. A wrong schema is refused naming the column.
 */
export function readInteractionsParquet(file: string, row: (n: number, user: string, item: string, rating: number, timestamp: number) => void): Promise<void> {
  return withDuckDb(async (c) => {
    const source = `read_parquet(${literal(file)})`;
    await checkColumns(c, source, file, { user: 'text', item: 'text', rating: 'number', timestamp: 'number' });
    const result = await c.stream(`SELECT CAST("user" AS VARCHAR), CAST(item AS VARCHAR), CAST(rating AS DOUBLE), CAST("timestamp" AS DOUBLE) FROM ${source}`);
    let n = 0;
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      const [users, items, ratings, times] = [0, 1, 2, 3].map((k) => chunk.getColumnValues(k));
      for (let r = 0; r < chunk.rowCount; r++) {
        const num = (v: unknown) => (v === null || v === undefined ? NaN : Number(v));
        row(++n, String(users[r] ?? ''), String(items[r] ?? ''), num(ratings[r]), num(times[r]));
      }
    }
  });
}
