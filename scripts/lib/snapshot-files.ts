/**
 * The snapshot builder's file work, shared by a full build and an update (scripts/snapshot.ts, update-snapshot.ts):
 * covers re-encoded under content-addressed names, the cover sprite, each title's content hash, and the write that
 * swaps a finished snapshot in only after the app's own loader has read it back.
 */
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { DataError } from '../../src/core/errors.ts';
import { InteractionsParser, parseCatalogJsonl, type Interaction, type SkippedLine, type SourceItem } from '../../src/core/source.ts';
import { contentKey, serializeSnapshot } from '../../src/core/snapshot/build.ts';
import { loadSnapshot } from '../../src/core/snapshot/load.ts';
import type { Snapshot } from '../../src/core/snapshot/snapshot.ts';
import { fsReader, writeWithCompressedCopies } from './node-io.ts';
import { readInteractionsParquet } from './cooccurrence.ts';

export const COVER_WIDTH = 120;
export const SQUARE_SIZE = 64;

/**
 * A cover's file name from its title's id: an id is not trusted to be a safe path, and two ids never share a
 * name (`_` is escaped before `%` becomes `_`, so the mapping is one-to-one; numeric ids keep their own name).
 * `version` (a hash of the source image) makes the name change with the picture: covers are cached by URL (the
 * service worker, HTTP caches), so an edited cover must not reuse the old one's name.
 */
export function coverFileName(id: string, version?: string): string {
  const name = encodeURIComponent(id).replace(/[_!'()*~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%/g, '_');
  return `${name}${version ? `~${version}` : ''}.webp`;
}

/** A file's SHA-256 in hex (Node's, synchronous: the builder hashes every source cover). */
export const sha256Of = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

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
  const bytes = await sharp({ create: { width: columns * size, height: rows * size, channels: 3, background: { r: 255, g: 255, b: 255 } } })
    .composite(tiles)
    .webp({ quality: 80 })
    .toBuffer();
  // Named by its content, like covers: an update's new sprite is never answered from a cache by the old one's URL.
  // (`_s` cannot begin a cover's name, where `_` is always followed by two hex digits.)
  const file = `covers64/_sprite-${sha256Of(bytes).slice(0, 12)}.webp`;
  await writeFile(path.join(dir, file), bytes);
  return { file, columns, size };
}

/** A cover's square copy for the encoders, as the builder stores it (an update compares against these bytes). */
export function squareCover(img: Buffer): Promise<Buffer> {
  return sharp(img).resize(SQUARE_SIZE, SQUARE_SIZE, { fit: 'cover' }).removeAlpha().webp({ quality: 90 }).toBuffer();
}

/** One square cover decoded to size×size RGB bytes. */
export async function decodeSquareCover(dir: string, file: string, size = SQUARE_SIZE): Promise<Uint8Array> {
  const per = size * size * 3;
  const { data } = await sharp(path.join(dir, file)).resize(size, size, { fit: 'cover' }).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
  if (data.length !== per) throw new DataError(file, `decoded to ${data.length} bytes, expected ${per}`);
  return data;
}

/**
 * Re-encodes each cover: a uniform-width copy keeping the aspect, and a square copy for the encoders. Returns their
 * paths and each source image's SHA-256 (part of the title's content hash) by title id.
 */
export async function encodeCovers(source: string, items: SourceItem[], outDir: string) {
  const covers = new Map<string, { cover: string; coverSquare: string }>();
  const hashes = new Map<string, string>();
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
    let img: Buffer;
    let name: string;
    try {
      img = await readFile(file);
      hashes.set(it.id, sha256Of(img));
      name = coverFileName(it.id, hashes.get(it.id)!.slice(0, 8));
      await sharp(img).resize({ width: COVER_WIDTH }).webp({ quality: 78 }).toFile(path.join(outDir, 'covers', name));
      await writeFile(path.join(outDir, 'covers64', name), await squareCover(img));
    } catch (e) {
      throw new DataError(it.cover, `cover image could not be decoded (${(e as Error).message})`, { item: it.id, field: 'cover' });
    }
    covers.set(it.id, { cover: `covers/${name}`, coverSquare: `covers64/${name}` });
  }
  return { covers, hashes, missing };
}

/** sources.json: each title's content hash (build.ts contentKey), for the next update. */
export function sourcesFile(items: SourceItem[], coverHashes: ReadonlyMap<string, string>): Uint8Array {
  const titles: Record<string, string> = {};
  for (const it of items) titles[it.id] = titleHash(it, coverHashes.get(it.id));
  return new TextEncoder().encode(JSON.stringify(titles));
}

export const titleHash = (it: SourceItem, coverSha256: string | undefined): string => sha256Of(new TextEncoder().encode(contentKey(it, coverSha256))).slice(0, 32);

/**
 * Serialises a built snapshot into `tmp` (a folder that already holds its covers), reads it back with the app's own
 * loader — the builder never ships what the app refuses — and only then swaps it in for `out`. `extra` may add files
 * made from the serialised ones (an update's delta) and re-sign the manifest.
 */
export async function writeAndSwap(snap: Snapshot, tmp: string, out: string, extra?: (files: Map<string, Uint8Array>) => Promise<void>): Promise<Map<string, Uint8Array>> {
  const files = await serializeSnapshot(snap);
  await extra?.(files);
  for (const [p, bytes] of files) await writeWithCompressedCopies(path.join(tmp, p), bytes);
  await loadSnapshot(fsReader(tmp));
  const old = `${out}.old-${process.pid}`;
  if (existsSync(out)) await rename(out, old);
  await rename(tmp, out);
  await rm(old, { recursive: true, force: true });
  return files;
}


/**
 * The catalog source layout (catalog.jsonl, optional interactions.csv), parsed. Bad lines are left out and listed
 * in `skipped` (line numbers and why); with `strict` the first one refuses.
 */
export async function readSource(source: string, strict: boolean, ratingRange?: readonly [number, number]): Promise<{ items: SourceItem[]; interactions?: Interaction[]; skipped: { catalog: SkippedLine[]; interactions: SkippedLine[] } }> {
  const catalogFile = path.join(source, 'catalog.jsonl');
  if (!existsSync(catalogFile)) throw new DataError(catalogFile, 'not found (expected the catalog source layout: catalog.jsonl, covers, optional interactions.csv or interactions.parquet)');
  const skipped: { catalog: SkippedLine[]; interactions: SkippedLine[] } = { catalog: [], interactions: [] };
  const items = parseCatalogJsonl(await readFile(catalogFile, 'utf8'), catalogFile, { strict, skipped: skipped.catalog });
  const interactionsFile = path.join(source, 'interactions.csv');
  let interactions: Interaction[] | undefined;
  const parquetFile = path.join(source, 'interactions.parquet');
  const rules = { knownItems: new Set(items.map((i) => i.id)), ...(ratingRange ? { ratingRange } : {}) };
  if (!existsSync(interactionsFile) && existsSync(parquetFile)) {
    const parser = new InteractionsParser(parquetFile, rules, { strict, skipped: skipped.interactions });
    await readInteractionsParquet(parquetFile, (row, user, item, rating, timestamp) => parser.record(row, user, item, rating, timestamp, 'row'));
    interactions = parser.finish();
  } else if (existsSync(interactionsFile)) {
    // Line by line: a platform's event log is never held in memory as one string.
    const parser = new InteractionsParser(interactionsFile, rules, { strict, skipped: skipped.interactions });
    for await (const line of createInterface({ input: createReadStream(interactionsFile, 'utf8'), crlfDelay: Infinity })) parser.line(line);
    interactions = parser.finish();
  }
  return { items, ...(interactions ? { interactions } : {}), skipped };
}
