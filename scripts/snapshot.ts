/**
 * npm run snapshot -- --source <dir> --out <dir> [--name "…"] [--description "…"] [--attribution "…"] [--lexical-dim 1024]
 * npm run snapshot -- --calibrate <dir>
 *
 * Reads the catalog source layout (catalog.jsonl, covers, optional interactions.csv) and writes a snapshot
 * (docs/snapshot.md). The new snapshot is written next to --out and swapped in only when complete, so a
 * failed build never leaves a half-written snapshot where a good one was.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { DataError } from '../src/core/errors.ts';
import { parseCatalogJsonl, parseInteractionsCsv, type SkippedLine, type SourceItem } from '../src/core/source.ts';
import { buildSnapshot, serializeSnapshot } from '../src/core/snapshot/build.ts';
import { loadSnapshot } from '../src/core/snapshot/load.ts';
import type { Snapshot } from '../src/core/snapshot/snapshot.ts';
import { folderBytes, fsReader, parseArgs, writeWithCompressedCopies } from './lib/node-io.ts';
import { writeSnapshotInPlace } from './lib/text-model.ts';

export const COVER_WIDTH = 120;
export const SQUARE_SIZE = 64;

/**
 * A cover's file name from its title's id: an id is not trusted to be a safe path, and two ids never share a
 * name (`_` is escaped before `%` becomes `_`, so the mapping is one-to-one; numeric ids keep their own name).
 */
export function coverFileName(id: string): string {
  return `${encodeURIComponent(id).replace(/[_!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%/g, '_')}.webp`;
}

/** The widest image WebP can hold: a catalog whose sprite would be wider gets none (the map loads covers one by one). */
const WEBP_MAX_SIDE = 16383;

/**
 * Writes `<squareDir>/sprite.webp`: every title's square cover in item order, ⌈√n⌉ per row (a title without a
 * cover leaves its cell blank). The style map draws all covers from it with one request.
 */
export async function writeSprite(dir: string, items: ReadonlyArray<{ coverSquare?: string }>, size = SQUARE_SIZE): Promise<{ file: string; columns: number; size: number } | undefined> {
  const columns = Math.ceil(Math.sqrt(items.length));
  const rows = Math.ceil(items.length / columns);
  if (columns * size > WEBP_MAX_SIDE || rows * size > WEBP_MAX_SIDE || !items.some((t) => t.coverSquare)) return undefined;
  const tiles = items.flatMap((t, i) => (t.coverSquare && !/^https?:/.test(t.coverSquare) ? [{ input: path.join(dir, t.coverSquare), left: (i % columns) * size, top: Math.floor(i / columns) * size }] : []));
  const file = 'covers64/sprite.webp';
  const bytes = await sharp({ create: { width: columns * size, height: rows * size, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite(tiles)
    .webp({ quality: 80 })
    .toBuffer();
  await writeFile(path.join(dir, file), bytes);
  return { file, columns, size };
}

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
  manifest.covers.sprite = sprite;
  await writeWithCompressedCopies(path.join(dir, 'manifest.json'), new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n'));
  await loadSnapshot(fsReader(dir));
  return sprite;
}

/** Re-encodes each cover: a uniform-width copy keeping the aspect, and a square copy for the encoders. */
async function encodeCovers(source: string, items: SourceItem[], outDir: string) {
  const covers = new Map<string, { cover: string; coverSquare: string }>();
  await mkdir(path.join(outDir, 'covers'), { recursive: true });
  await mkdir(path.join(outDir, 'covers64'), { recursive: true });
  let missing = 0;
  for (const it of items) {
    if (!it.cover) continue;
    const file = path.join(source, it.cover);
    if (!existsSync(file)) {
      missing++;
      continue;
    }
    const name = coverFileName(it.id);
    let img: Buffer;
    try {
      img = await readFile(file);
      await sharp(img).resize({ width: COVER_WIDTH }).webp({ quality: 78 }).toFile(path.join(outDir, 'covers', name));
      await sharp(img).resize(SQUARE_SIZE, SQUARE_SIZE, { fit: 'cover' }).removeAlpha().webp({ quality: 90 }).toFile(path.join(outDir, 'covers64', name));
    } catch (e) {
      throw new DataError(it.cover, `cover image could not be decoded (${(e as Error).message})`, { item: it.id, field: 'cover' });
    }
    covers.set(it.id, { cover: `covers/${name}`, coverSquare: `covers64/${name}` });
  }
  return { covers, missing };
}

/**
 * Builds a snapshot from a catalog source folder into `out`, replacing it only when the whole build succeeded.
 * Bad lines of catalog.jsonl and interactions.csv are left out and reported in `skipped` (line numbers and why);
 * with `strict` the first one refuses the build.
 */
export async function makeSnapshot(opts: { source: string; out: string; name?: string; description?: string; attribution?: string; lexicalDim?: number; strict?: boolean }) {
  const t0 = performance.now();
  const catalogFile = path.join(opts.source, 'catalog.jsonl');
  if (!existsSync(catalogFile)) throw new DataError(catalogFile, 'not found (expected the catalog source layout: catalog.jsonl, covers, optional interactions.csv)');
  const skipped: { catalog: SkippedLine[]; interactions: SkippedLine[] } = { catalog: [], interactions: [] };
  const strict = opts.strict ?? false;
  const items = parseCatalogJsonl(await readFile(catalogFile, 'utf8'), catalogFile, { strict, skipped: skipped.catalog });
  const interactionsFile = path.join(opts.source, 'interactions.csv');
  const interactions = existsSync(interactionsFile)
    ? parseInteractionsCsv(await readFile(interactionsFile, 'utf8'), interactionsFile, new Set(items.map((i) => i.id)), { strict, skipped: skipped.interactions })
    : undefined;

  const out = path.resolve(opts.out);
  const tmp = `${out}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    const { covers, missing } = await encodeCovers(opts.source, items, tmp);
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
    });
    for (const [p, bytes] of await serializeSnapshot(snap)) await writeWithCompressedCopies(path.join(tmp, p), bytes);
    // Read back with the app's own loader before it replaces anything: the builder never ships what the app refuses.
    await loadSnapshot(fsReader(tmp));
    const old = `${out}.old-${process.pid}`;
    if (existsSync(out)) await rename(out, old);
    await rename(tmp, out);
    await rm(old, { recursive: true, force: true });
    return { snapshot: snap, missingCovers: missing, skipped, bytes: await folderBytes(out), seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
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

/** `--lexical-dim`: a whole number of hashed n-gram buckets the snapshot can store (uint16 columns). */
export function lexicalDimArg(v: string | true | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!(n >= 16 && n <= 65536)) throw new DataError('--lexical-dim', `must be a whole number from 16 to 65536, got ${JSON.stringify(v)}`);
  return n;
}

async function main() {
  const args = parseArgs(process.argv.slice(2), { source: 'string', out: 'string', name: 'string', description: 'string', attribution: 'string', 'lexical-dim': 'string', calibrate: 'string', strict: 'boolean', sprite: 'string' });
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
    console.error('usage: npm run snapshot -- --source <dir> --out <dir> [--name "…"] [--description "…"] [--attribution "…"] [--lexical-dim N] [--strict]\n       npm run snapshot -- --calibrate <snapshot dir>\n       npm run snapshot -- --sprite <snapshot dir>');
    process.exit(2);
  }
  const r = await makeSnapshot({
    source: args.source,
    out: args.out,
    name: typeof args.name === 'string' ? args.name : undefined,
    description: typeof args.description === 'string' ? args.description : undefined,
    attribution: typeof args.attribution === 'string' ? args.attribution : undefined,
    lexicalDim: lexicalDimArg(args['lexical-dim']),
    strict: args.strict === true,
  });
  for (const [file, lines] of Object.entries(r.skipped)) {
    if (!lines.length) continue;
    console.log(`skipped ${lines.length} bad line${lines.length === 1 ? '' : 's'} of ${file} (--strict refuses them):`);
    for (const l of lines.slice(0, 5)) console.log(`  ${l.message}`);
    if (lines.length > 5) console.log(`  … and ${lines.length - 5} more`);
  }
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
