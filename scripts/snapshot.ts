/**
 * npm run snapshot -- --source <dir> --out <dir> [--name "…"] [--description "…"] [--attribution "…"] [--lexical-dim 1024]
 *                      [--strict] [--rating-range 1,5] [--engine duckdb|js] [--cooccurrence <parquet>]
 * npm run snapshot -- --update <snapshot dir> --source <dir> [--out <dir>]   (update-snapshot.ts)
 * npm run snapshot -- --calibrate <dir>
 *
 * Reads the catalog source layout (catalog.jsonl, covers, optional interactions.csv) and writes a snapshot
 * (docs/snapshot.md). The new snapshot is written next to --out and swapped in only when complete, so a
 * failed build never leaves a half-written snapshot where a good one was.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { DataError } from '../src/core/errors.ts';
import { defaultConfig } from '../src/core/config.ts';
import { cooccurrenceKeep, sparseAt, type Cooccurrence } from '../src/core/rank/sparse-ease.ts';
import type { SkippedLine } from '../src/core/source.ts';
import { cooccurrenceWithDuckDb, readCooccurrenceTable } from './lib/cooccurrence.ts';
import { SOURCES_FILE, buildSnapshot } from '../src/core/snapshot/build.ts';
import { loadSnapshot } from '../src/core/snapshot/load.ts';
import type { Snapshot } from '../src/core/snapshot/snapshot.ts';
import { folderBytes, fsReader, parseArgs, removeWithCompressedCopies, writeWithCompressedCopies } from './lib/node-io.ts';
import { COVER_WIDTH, SQUARE_SIZE, encodeCovers, readSource, sourcesFile, writeAndSwap, writeSprite } from './lib/snapshot-files.ts';
import { modelArgs, writeSnapshotInPlace } from './lib/text-model.ts';
import { UPDATE_ARGS, updateSnapshot } from './update-snapshot.ts';

export { coverFileName } from './lib/snapshot-files.ts';

/**
 * `--sprite <dir>`: adds the cover sprite to an existing snapshot (built before sprites existed) and notes it in
 * its manifest, which stays otherwise byte-for-byte the same fields.
 */
export async function addSpriteInPlace(dir: string): Promise<{ file: string; columns: number; size: number } | undefined> {
  const snapshot = await loadSnapshot(fsReader(dir));
  if (!snapshot.manifest.covers) return undefined;
  const sprite = await writeSprite(dir, snapshot.items, snapshot.manifest.covers.squareSize);
  if (!sprite) return undefined;
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
  const before = manifest.covers.sprite?.file;
  manifest.covers.sprite = sprite;
  await writeWithCompressedCopies(path.join(dir, 'manifest.json'), new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n'));
  await loadSnapshot(fsReader(dir));
  if (before && before !== sprite.file) await removeWithCompressedCopies(path.join(dir, before));
  return sprite;
}

/**
 * Builds a snapshot from a catalog source folder into `out`, replacing it only when the whole build succeeded.
 * Bad lines of catalog.jsonl and interactions.csv are left out and reported in `skipped` (line numbers and why);
 * with `strict` the first one refuses the build.
 */
export async function makeSnapshot(opts: {
  source: string;
  out: string;
  name?: string;
  description?: string;
  attribution?: string;
  lexicalDim?: number;
  strict?: boolean;
  ratingRange?: readonly [number, number];
  /**
   * Who counts co-occurrences for a catalog above `denseUpTo` titles: this process (default: 6 s at 100k titles and
   * 1M events), or DuckDB running scripts/sql/cooccurrence.sql (55 s, its memory capped at 2 GB).
   */
  engine?: 'duckdb' | 'js';
  /** A co-occurrence table (Parquet) computed elsewhere with scripts/sql/cooccurrence.sql, used instead. */
  cooccurrence?: string;
}) {
  const t0 = performance.now();
  const { items, interactions, skipped } = await readSource(opts.source, opts.strict ?? false, opts.ratingRange);
  const cooccurrence = interactions ? await communityCooccurrence(opts, items.map((it) => it.id), skipped) : undefined;
  const out = path.resolve(opts.out);
  const tmp = `${out}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    const { covers, hashes, missing } = await encodeCovers(opts.source, items, tmp);
    const sprite = covers.size ? await writeSprite(tmp, items.map((it) => ({ coverSquare: covers.get(it.id)?.coverSquare }))) : undefined;
    const snap = buildSnapshot({
      name: opts.name ?? path.basename(path.resolve(opts.source)),
      description: opts.description,
      source: opts.attribution,
      items,
      interactions,
      covers,
      coverInfo: covers.size ? { dir: 'covers', width: COVER_WIDTH, format: 'webp', squareDir: 'covers64', squareSize: SQUARE_SIZE, ...(sprite ? { sprite } : {}) } : undefined,
      lexicalDim: opts.lexicalDim,
      ...(cooccurrence ? { cooccurrence } : {}),
    });
    snap.blobs.set(SOURCES_FILE, sourcesFile(items, hashes));
    await writeAndSwap(snap, tmp, out);
    return { snapshot: snap, missingCovers: missing, skipped, bytes: await folderBytes(out), seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/**
 * The co-occurrence lists of the final community fit, counted outside this process: only for a catalog above
 * `denseUpTo` titles (below it the model is exact EASE, which needs none). `--cooccurrence` reads a table;
 * `--engine duckdb` runs scripts/sql/cooccurrence.sql with DuckDB over the interactions file, out of core. Without
 * either, the fit counts them in memory (undefined here).
 */
async function communityCooccurrence(opts: { source: string; strict?: boolean; ratingRange?: readonly [number, number]; engine?: 'duckdb' | 'js'; cooccurrence?: string }, itemIds: string[], skipped: Record<string, SkippedLine[]>): Promise<Cooccurrence | undefined> {
  const cfg = defaultConfig.ranker.community;
  if (!sparseAt(itemIds.length, cfg)) return undefined;
  const keep = cooccurrenceKeep(itemIds.length, cfg.candidates);
  if (opts.cooccurrence) return readCooccurrenceTable(opts.cooccurrence, itemIds, keep, { strict: opts.strict ?? false, skipped: (skipped.cooccurrence = []) });
  if ((opts.engine ?? 'js') === 'js') return undefined;
  const csv = path.join(opts.source, 'interactions.csv');
  const interactions = existsSync(csv) ? csv : path.join(opts.source, 'interactions.parquet');
  return cooccurrenceWithDuckDb({ interactions, itemIds, keep, ...(opts.ratingRange ? { ratingRange: opts.ratingRange } : {}) });
}

/**
 * `--calibrate <dir>`: calibrates the serendipity price of an existing snapshot for the spaces it has now (a
 * snapshot built before calibration existed, or changed by hand) and re-signs it in place.
 */
export async function calibrateInPlace(dir: string): Promise<Snapshot> {
  const snapshot = await loadSnapshot(fsReader(dir));
  await writeSnapshotInPlace(dir, snapshot);
  return snapshot;
}

/** `--engine js|duckdb`: who counts co-occurrences for a large catalog (default js). */
function engineArg(v: string | true | undefined): 'duckdb' | 'js' | undefined {
  if (v === undefined || v === 'duckdb' || v === 'js') return v;
  throw new DataError('--engine', `must be duckdb or js, got ${JSON.stringify(v)}`);
}

/** `--rating-range min,max`: the ratings interactions.csv may hold; a row outside is a bad line. */
export function ratingRangeArg(v: string | true | undefined): [number, number] | undefined {
  if (v === undefined) return undefined;
  const m = typeof v === 'string' ? /^\s*(-?[\d.]+)\s*,\s*(-?[\d.]+)\s*$/.exec(v) : null;
  const range = m ? ([Number(m[1]), Number(m[2])] as [number, number]) : undefined;
  if (!range || !range.every(Number.isFinite) || range[0] > range[1]) throw new DataError('--rating-range', `must be "min,max" (e.g. 1,5), got ${JSON.stringify(v)}`);
  return range;
}

/** `--lexical-dim`: a whole number of hashed n-gram buckets the snapshot can store (uint16 columns). */
export function lexicalDimArg(v: string | true | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 16 && n <= 65536)) throw new DataError('--lexical-dim', `must be a whole number from 16 to 65536, got ${JSON.stringify(v)}`);
  return n;
}

function printSkipped(skipped: Record<string, Array<{ message: string }>>) {
  for (const [file, lines] of Object.entries(skipped)) {
    if (!lines.length) continue;
    console.log(`skipped ${lines.length} bad line${lines.length === 1 ? '' : 's'} of ${file} (--strict refuses them):`);
    for (const l of lines.slice(0, 5)) console.log(`  ${l.message}`);
    if (lines.length > 5) console.log(`  … and ${lines.length - 5} more`);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2), { source: 'string', out: 'string', name: 'string', description: 'string', attribution: 'string', 'lexical-dim': 'string', calibrate: 'string', strict: 'boolean', sprite: 'string', 'rating-range': 'string', engine: 'string', cooccurrence: 'string', ...UPDATE_ARGS });
  const text = (k: 'name' | 'description' | 'attribution') => (typeof args[k] === 'string' ? args[k] : undefined);
  if (typeof args.update === 'string') {
    if (typeof args.source !== 'string') throw new DataError('--update', 'needs --source <catalog source folder> (the new catalog.jsonl, covers, optional interactions.csv)');
    const r = await updateSnapshot({
      snapshot: args.update,
      source: args.source,
      out: typeof args.out === 'string' ? args.out : undefined,
      strict: args.strict === true,
      ratingRange: ratingRangeArg(args['rating-range']),
      model: typeof args.model === 'string' ? modelArgs(args) : undefined,
      name: text('name'),
      description: text('description'),
      attribution: text('attribution'),
    });
    printSkipped(r.skipped);
    console.log(`updated "${r.snapshot.manifest.name}": ${r.added.length} added, ${r.changed.length} changed, ${r.removed.length} removed, ${r.kept} kept as they were (${r.snapshot.manifest.itemCount} titles)`);
    console.log(`encoded: ${Object.entries(r.encoded).map(([k, n]) => `${k} ${n}`).join(', ') || 'nothing'}`);
    for (const d of r.dropped) console.log(`dropped ${d}`);
    console.log(r.delta ? `delta ${r.delta.file}: ${(r.delta.bytes / 1024).toFixed(1)} KiB rebuilds ${r.delta.files} changed files of ${(r.delta.rebuilds / 1024).toFixed(1)} KiB for readers who have the previous version` : 'no delta (no changed file the previous version had)');
    console.log(`wrote ${args.out ?? args.update} (version ${r.snapshot.manifest.contentHash.slice(0, 12)}, from ${r.snapshot.manifest.changes?.from.slice(0, 12)}) in ${r.seconds.toFixed(1)} s`);
    return;
  }
  if (typeof args.sprite === 'string') {
    const s = await addSpriteInPlace(args.sprite);
    console.log(s ? `wrote ${path.join(args.sprite, s.file)}: ${s.columns} covers a row at ${s.size} px` : `${args.sprite}: no square covers to put in a sprite (or too many for one WebP)`);
    return;
  }
  if (typeof args.calibrate === 'string') {
    const s = await calibrateInPlace(args.calibrate);
    const c = s.manifest.calibration?.serendipity;
    console.log(c ? `calibrated ${args.calibrate}: serendipity price ${c.strength.toFixed(3)} on ${c.count} pseudo-readers (precision@10 ${c.accuracy[0].toFixed(3)} → ${c.accuracy[1].toFixed(3)} at the default level)` : `${args.calibrate}: nothing to calibrate (community weights carry their own price, or no genre space)`);
    return;
  }
  if (typeof args.source !== 'string' || typeof args.out !== 'string') {
    console.error(
      'usage: npm run snapshot -- --source <dir> --out <dir> [--name "…"] [--description "…"] [--attribution "…"] [--lexical-dim N] [--strict] [--rating-range 1,5] [--engine duckdb|js] [--cooccurrence <parquet>]\n' +
        '       npm run snapshot -- --update <snapshot dir> --source <dir> [--out <dir>] [--strict] [--model <id> --local-model-path <dir>]\n' +
        '       npm run snapshot -- --calibrate <snapshot dir>\n       npm run snapshot -- --sprite <snapshot dir>',
    );
    process.exit(2);
  }
  const r = await makeSnapshot({
    source: args.source,
    out: args.out,
    name: text('name'),
    description: text('description'),
    attribution: text('attribution'),
    lexicalDim: lexicalDimArg(args['lexical-dim']),
    strict: args.strict === true,
    ratingRange: ratingRangeArg(args['rating-range']),
    engine: engineArg(args.engine),
    ...(typeof args.cooccurrence === 'string' ? { cooccurrence: args.cooccurrence } : {}),
  });
  printSkipped(r.skipped);
  const m = r.snapshot.manifest;
  console.log(`snapshot "${m.name}": ${m.itemCount} items, spaces ${m.spaces.map((s) => `${s.name}(${s.dim})`).join(', ')}`);
  if (m.community) console.log(`community: ${m.community.users} users, ${m.community.interactions} interactions`);
  if (r.missingCovers) console.log(`covers missing for ${r.missingCovers} items`);
  console.log(`wrote ${args.out}: ${(r.bytes / 1024 / 1024).toFixed(2)} MiB in ${r.seconds.toFixed(1)} s`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? '')) {
  main().catch((e) => {
    console.error(e instanceof DataError ? `error: ${e.message}` : e);
    process.exit(1);
  });
}
