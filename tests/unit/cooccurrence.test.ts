/**
 * The community model's aggregation in SQL (scripts/sql/cooccurrence.sql, DuckDB): the same co-occurrence lists
 * the builder counts in memory, from interactions.csv with its bad lines, through a Parquet table an operator
 * could have computed elsewhere, and the same snapshot whichever engine counted.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { cooccurrenceWithDuckDb, readCooccurrenceTable } from '../../scripts/lib/cooccurrence.ts';
import { makeSnapshot } from '../../scripts/snapshot.ts';
import { writeSyntheticSource } from '../../bench/synthetic-catalog.ts';
import { cooccurrence, cooccurrenceKeep } from '../../src/core/rank/sparse-ease.ts';
import { parseCatalogJsonl, parseInteractionsCsv } from '../../src/core/source.ts';
import { temporalSplit } from '../../src/core/split.ts';
import { DataError } from '../../src/core/errors.ts';
import type { SkippedLine } from '../../src/core/source.ts';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'toonpick-cooc-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** What the builder counts in memory: each reader's distinct titles, as the community fit sees them. */
async function inMemory(dir: string, keep: number, ratingRange?: [number, number]) {
  const items = parseCatalogJsonl(await readFile(path.join(dir, 'catalog.jsonl'), 'utf8'));
  const interactions = parseInteractionsCsv(await readFile(path.join(dir, 'interactions.csv'), 'utf8'), 'interactions.csv', new Set(items.map((i) => i.id)), { strict: false }, ratingRange);
  const train = temporalSplit(items, interactions, { minPositives: Number.POSITIVE_INFINITY }).train;
  return { ids: items.map((i) => i.id), co: cooccurrence(train.users.map((u) => u.seen), items.length, keep) };
}

describe('co-occurrence in SQL', () => {
  it('gives the lists the builder counts in memory, bad lines left out alike', async () => {
    const dir = await writeSyntheticSource(600, path.join(work, 'syn'), 3, 10);
    // Lines the builder's parser leaves out: an unknown title, not numbers, a wrong column count, a repeat.
    const csv = await readFile(path.join(dir, 'interactions.csv'), 'utf8');
    await writeFile(path.join(dir, 'interactions.csv'), csv + ['u1,nope,5,1', 'u2,s1,x,2', 'u2,s2,4,y', 'u3,s1,4', 'u3,s2,4,5,6', 'u1,s5,4,1', 'u1,s5,4,1', ''].join('\n'));
    for (const [keep, range] of [[40, undefined], [599, undefined], [40, [4, 5]]] as const) {
      const want = await inMemory(dir, keep, range as [number, number] | undefined);
      const got = await cooccurrenceWithDuckDb({ interactions: path.join(dir, 'interactions.csv'), itemIds: want.ids, keep, ...(range ? { ratingRange: range } : {}) });
      expect(got.keep).toBe(keep);
      expect(Array.from(got.own)).toEqual(Array.from(want.co.own));
      expect(Array.from(got.ids)).toEqual(Array.from(want.co.ids));
      expect(Array.from(got.counts)).toEqual(Array.from(want.co.counts));
    }
  }, 60_000);

  it('reads the same table back from Parquet, refuses a wrong schema and reports unknown titles', async () => {
    const dir = path.join(work, 'syn');
    const ids = parseCatalogJsonl(await readFile(path.join(dir, 'catalog.jsonl'), 'utf8')).map((i) => i.id);
    const parquet = path.join(work, 'cooc.parquet');
    const direct = await cooccurrenceWithDuckDb({ interactions: path.join(dir, 'interactions.csv'), itemIds: ids, keep: 40, writeParquet: parquet });
    const read = await readCooccurrenceTable(parquet, ids, 40);
    expect(Array.from(read.ids)).toEqual(Array.from(direct.ids));
    expect(Array.from(read.own)).toEqual(Array.from(direct.own));

    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const wrong = path.join(work, 'wrong.parquet');
    const unknown = path.join(work, 'unknown.parquet');
    await c.run(`COPY (SELECT 's1' AS item, 's2' AS title_b, 3 AS readers) TO '${wrong}' (FORMAT parquet)`);
    await c.run(`COPY (SELECT * FROM (VALUES ('s1', 's2', 3), ('s1', 'gone', 2), ('s1', 's1', 9)) t(item, other, readers)) TO '${unknown}' (FORMAT parquet)`);
    c.closeSync();
    db.closeSync();
    await expect(readCooccurrenceTable(wrong, ids, 40)).rejects.toThrow(/wrong\.parquet, field "other": has no column "other" \(it has item, title_b, readers; expected item, other, readers\)/);
    await expect(readCooccurrenceTable(unknown, ids, 40, { strict: true })).rejects.toThrow(/unknown\.parquet, field "other": row 2 names a title not in the catalog \("gone"\)/);
    const skipped: SkippedLine[] = [];
    const partial = await readCooccurrenceTable(unknown, ids, 40, { strict: false, skipped });
    expect(skipped.map((s) => s.line)).toEqual([2]);
    expect(partial.own[ids.indexOf('s1')]).toBe(9);
    const notParquet = path.join(work, 'not.parquet');
    await writeFile(notParquet, 'user,item\n');
    await expect(readCooccurrenceTable(notParquet, ids, 40)).rejects.toBeInstanceOf(DataError);
  }, 60_000);

  it('builds from interactions.parquet as from interactions.csv, streamed, with bad rows reported by row number', async () => {
    const csvSource = path.join(work, 'syn');
    const pq = path.join(work, 'pq');
    await mkdir(pq);
    await writeFile(path.join(pq, 'catalog.jsonl'), await readFile(path.join(csvSource, 'catalog.jsonl')));
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    // The CSV's bad lines are not representable in typed Parquet columns, except the unknown title and the repeat.
    await c.run(`COPY (SELECT * FROM read_csv('${csvSource}/interactions.csv', header = true, ignore_errors = true, columns = {'user': 'VARCHAR', 'item': 'VARCHAR', 'rating': 'DOUBLE', 'timestamp': 'DOUBLE'})) TO '${pq}/interactions.parquet' (FORMAT parquet)`);
    const bad = path.join(work, 'pq-bad');
    await mkdir(bad);
    await writeFile(path.join(bad, 'catalog.jsonl'), await readFile(path.join(csvSource, 'catalog.jsonl')));
    await c.run(`COPY (SELECT 'u1' AS "user", 's1' AS item, 4.0 AS score) TO '${bad}/interactions.parquet' (FORMAT parquet)`);
    c.closeSync();
    db.closeSync();
    const fromCsv = await makeSnapshot({ source: csvSource, out: path.join(work, 'pq-csv-out') });
    const fromParquet = await makeSnapshot({ source: pq, out: path.join(work, 'pq-out') });
    for (const f of ['community/ease.topn']) expect(fromParquet.snapshot.manifest.files[f]).toEqual(fromCsv.snapshot.manifest.files[f]);
    expect(fromParquet.skipped.interactions.map((l) => l.message).join('\n')).toMatch(/interactions\.parquet, item nope, field "item": row \d+ names an item not in the catalog[^]*row \d+ repeats an earlier row/);
    await expect(makeSnapshot({ source: bad, out: path.join(work, 'pq-bad-out') })).rejects.toThrow(/interactions\.parquet, field "rating": has no column "rating" \(it has user, item, score/);
  }, 120_000);

  it('builds the same snapshot above denseUpTo titles whichever engine counts, or from a precomputed table', async () => {
    const dir = await writeSyntheticSource(2100, path.join(work, 'big'), 5, 8);
    const ids = parseCatalogJsonl(await readFile(path.join(dir, 'catalog.jsonl'), 'utf8')).map((i) => i.id);
    const parquet = path.join(work, 'big.parquet');
    await cooccurrenceWithDuckDb({ interactions: path.join(dir, 'interactions.csv'), itemIds: ids, keep: cooccurrenceKeep(ids.length, 128), writeParquet: parquet });
    const files = async (engine: 'duckdb' | 'js' | 'table') => {
      const out = path.join(work, `big-${engine}`);
      await mkdir(out, { recursive: true });
      const r = await makeSnapshot({ source: dir, out, ...(engine === 'table' ? { cooccurrence: parquet } : { engine }) });
      return { model: r.snapshot.manifest.files['community/ease.topn'].sha256, params: r.snapshot.manifest.community?.model?.params };
    };
    const js = await files('js');
    expect(js.params).toEqual({ lambda: 250, candidates: 128 });
    expect(await files('duckdb')).toEqual(js);
    expect(await files('table')).toEqual(js);
  }, 240_000);
});
