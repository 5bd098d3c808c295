/**
 * npm run snapshot -- --update <snapshot dir> --source <dir> [--out <dir>] [--strict] [--model <id> --local-model-path <dir>]
 *
 * The weekly update of a catalog: reads the new catalog source, finds by content hash (sources.json; build.ts
 * contentKey) which titles were added, changed or removed, encodes only the added and changed ones — every other
 * title keeps its vectors byte for byte in every space — and writes a new snapshot version with:
 * - `changes` in the manifest (added, changed, removed with their names: the app's catalog page shows them);
 * - a delta file (src/core/snapshot/delta.ts) from which a reader's device that holds the previous version rebuilds
 *   the changed files instead of downloading them.
 * Counts, ratings, links and popularity are refreshed for every title; the community model, when the snapshot has
 * one, is fitted again from the source's interactions.csv. The lexical space keeps its IDF table (a full rebuild
 * refits it). A sequence model survives only an update that keeps the same titles in the same order (otherwise it
 * is dropped and reported: run `npm run train:seq` again). The new version replaces the old one only when the app's
 * loader has read it back.
 */
import { copyFile, mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { DataError } from '../src/core/errors.ts';
import { SOURCES_FILE, buildSnapshot, genreSpace, genreVocabulary } from '../src/core/snapshot/build.ts';
import { diffBytes, encodeDelta } from '../src/core/snapshot/delta.ts';
import { contentHashOf, type Changes, type Manifest, type Space } from '../src/core/snapshot/format.ts';
import { loadSnapshot } from '../src/core/snapshot/load.ts';
import { isSnapshotPath } from '../src/core/snapshot/paths.ts';
import type { Snapshot } from '../src/core/snapshot/snapshot.ts';
import type { SourceItem } from '../src/core/source.ts';
import { GENRE_SPACE, GRAM_SPACE, STS_SPACE, STYLE_SPACE } from '../src/core/spaces.ts';
import { decodeStyleMap, encodeStyleMap, placeAmong, type StylePoint } from '../src/core/style/style-map.ts';
import { LEXICAL_ENCODER, LexicalEncoder } from '../src/core/text/lexical.ts';
import { stsSpaceMatches, synopsisText } from '../src/core/text/sts-space.ts';
import { denseRows, normalize } from '../src/core/vectors.ts';
import { fsReader, type ArgSpec } from './lib/node-io.ts';
import { SQUARE_SIZE, encodeCovers, readSource, sha256Of, sourcesFile, squareCover, titleHash, writeAndSwap, writeSprite } from './lib/snapshot-files.ts';
import { embedAll, loadEncoder, type ModelArgs } from './lib/text-model.ts';
import { snapshotStyleEncoder } from './lib/style-spaces.ts';
import { decodedCovers } from './lib/spill.ts';

const STYLE_ENCODER = 'toonpick-style-encoder';
/** A patch is shipped only where it saves at least this share of the file. */
const DELTA_WORTH = 0.9;

export interface UpdateOptions {
  /** The snapshot to update (the previous version). */
  snapshot: string;
  source: string;
  /** Where the new version goes (default: replaces `snapshot`). */
  out?: string;
  strict?: boolean;
  /** Ratings interactions.csv may hold (`--rating-range`). */
  ratingRange?: readonly [number, number];
  /** The sentence model of the snapshot's `sts` space, to encode new synopses (needed only when it has one). */
  model?: ModelArgs;
  name?: string;
  description?: string;
  attribution?: string;
}

export interface UpdateReport {
  snapshot: Snapshot;
  added: string[];
  changed: string[];
  removed: string[];
  kept: number;
  /** Rows encoded per space (the added and changed titles that space has a row for). */
  encoded: Record<string, number>;
  /** The delta file (path, bytes) and the bytes of the files it rebuilds. */
  delta?: { file: string; bytes: number; rebuilds: number; files: number };
  dropped: string[];
  skipped: Awaited<ReturnType<typeof readSource>>['skipped'];
  seconds: number;
}

/** The CLI's options for `--update` (merged into scripts/snapshot.ts's). */
export const UPDATE_ARGS = { update: 'string', model: 'string', 'local-model-path': 'string', revision: 'string', dtype: 'string' } as const satisfies ArgSpec;

export async function updateSnapshot(o: UpdateOptions): Promise<UpdateReport> {
  const t0 = performance.now();
  const dir = path.resolve(o.snapshot);
  const out = path.resolve(o.out ?? o.snapshot);
  // Dense rows in memory: the update copies rows, and every space is written again from them.
  const old = await loadSnapshot(fsReader(dir), { denseLimitBytes: Number.POSITIVE_INFINITY });
  const { items, interactions, skipped } = await readSource(o.source, o.strict ?? false, o.ratingRange);
  if (old.manifest.community?.model && !interactions)
    throw new DataError(path.join(o.source, 'interactions.csv'), 'not found: the snapshot has a community model, which an update fits again from the interactions');

  const coverSha = new Map<string, string>();
  for (const it of items) {
    if (!it.cover) continue;
    const bytes = await readFile(path.join(o.source, it.cover)).catch(() => undefined);
    if (bytes) coverSha.set(it.id, sha256Of(bytes));
  }
  const oldHashes = Object.hasOwn(old.manifest.files, SOURCES_FILE) ? parseSources(await readFile(path.join(dir, SOURCES_FILE), 'utf8')) : undefined;
  const added: string[] = [];
  const changed: string[] = [];
  for (const it of items) {
    const i = old.indexOf.get(it.id);
    if (i === undefined) added.push(it.id);
    else if (oldHashes ? oldHashes.get(it.id) !== titleHash(it, coverSha.get(it.id)) : !(await sameAsBuilt(it, old.items[i], o.source, dir))) changed.push(it.id);
  }
  const ids = new Set(items.map((it) => it.id));
  const removed = old.items.filter((t) => !ids.has(t.id));
  const encode = new Set([...added, ...changed]);
  const reused = (id: string) => !encode.has(id);

  const tmp = `${out}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  try {
    // Covers: the kept titles' files as they are (same names, so caches keep them); new and changed ones encoded.
    const encoded = await encodeCovers(o.source, items.filter((it) => encode.has(it.id)), tmp);
    const covers = new Map(encoded.covers);
    for (const it of items) {
      const t = old.items[old.indexOf.get(it.id) ?? -1];
      if (!t || !reused(it.id) || !t.cover || !t.coverSquare || !isSnapshotPath(t.cover) || !isSnapshotPath(t.coverSquare)) continue;
      for (const p of [t.cover, t.coverSquare]) {
        await mkdir(path.dirname(path.join(tmp, p)), { recursive: true });
        await copyFile(path.join(dir, p), path.join(tmp, p));
      }
      covers.set(it.id, { cover: t.cover, coverSquare: t.coverSquare });
    }

    const rowOf = (id: string) => old.indexOf.get(id)!;
    const report: Record<string, number> = {};
    const spaces: Space[] = [];
    const blobs = new Map<string, Uint8Array>();
    let styleRows: { style: Float32Array; gram: Float32Array; gramDim: number } | undefined;
    let styleMap: StylePoint[] | undefined;
    for (const info of old.manifest.spaces) {
      const sp = old.spaces.get(info.name)!;
      for (const p of Object.values(info.encoder.files ?? {})) blobs.set(p, old.blobs.get(p)!);
      const assemble = (fresh: (k: number) => Float32Array | undefined, freshIds: string[]) => {
        const rows = denseRows(sp);
        const data = new Float32Array(items.length * sp.dim);
        const at = new Map(freshIds.map((id, k) => [id, k]));
        items.forEach((it, i) => {
          if (reused(it.id)) data.set(rows.subarray(rowOf(it.id) * sp.dim, (rowOf(it.id) + 1) * sp.dim), i * sp.dim);
          else if (at.has(it.id)) data.set(fresh(at.get(it.id)!) ?? new Float32Array(sp.dim), i * sp.dim);
        });
        report[sp.name] = freshIds.length;
        spaces.push({ name: sp.name, dim: sp.dim, data, normalized: sp.normalized, encoder: sp.encoder });
      };
      const toEncode = items.filter((it) => encode.has(it.id));
      if (info.name === GENRE_SPACE) {
        // The genre space is a few bits per title: made again, keeping the old columns' order (new genres last).
        const before = (sp.encoder.params?.vocabulary as string[] | undefined) ?? [];
        const used = new Set(items.flatMap((it) => it.genres));
        const vocabulary = [...before.filter((g) => used.has(g)), ...genreVocabulary(items).filter((g) => !before.includes(g))];
        const g = genreSpace(items, vocabulary);
        if (g.dim > 0) spaces.push({ ...g, encoder: { ...sp.encoder, params: { ...sp.encoder.params, vocabulary } } });
        report[sp.name] = toEncode.length;
      } else if (sp.encoder.name === LEXICAL_ENCODER) {
        const idfFile = sp.encoder.files?.idf;
        const idf = idfFile && old.blobs.get(idfFile);
        if (!idf) throw new DataError(dir, `space "${sp.name}" has no IDF table to encode new titles with`, { field: `spaces.${sp.name}.encoder.files.idf` });
        const enc = new LexicalEncoder(sp.dim, new Float32Array(idf.slice().buffer));
        assemble((k) => enc.embedOne(toEncode[k]), toEncode.map((it) => it.id));
      } else if (sp.encoder.name === STYLE_ENCODER) {
        const withCover = toEncode.filter((it) => covers.has(it.id));
        styleRows ??= await embedCovers(old, tmp, withCover.map((it) => covers.get(it.id)!.coverSquare));
        const rows = styleRows;
        if (sp.name === STYLE_SPACE) assemble((k) => normalize(rows.style.slice(k * sp.dim, (k + 1) * sp.dim)), withCover.map((it) => it.id));
        else if (sp.name === GRAM_SPACE) assemble((k) => rows.gram.slice(k * rows.gramDim, (k + 1) * rows.gramDim), withCover.map((it) => it.id));
        else throw new DataError(dir, `space "${sp.name}" is made by the style encoder, but is neither "${STYLE_SPACE}" nor "${GRAM_SPACE}"`);
        const mapFile = sp.encoder.files?.map;
        if (sp.name === STYLE_SPACE && mapFile) styleMap = placeOnMap(decodeStyleMap(old.blobs.get(mapFile)!, old.items.length, mapFile), spaces.at(-1)!, items, (id) => (reused(id) ? rowOf(id) : undefined));
        if (mapFile) blobs.set(mapFile, encodeStyleMap(styleMap!));
      } else if (sp.name === STS_SPACE) {
        if (toEncode.length && !o.model)
          throw new DataError('--model', `is needed: the snapshot's ${STS_SPACE} space was made by ${sp.encoder.name}, and ${toEncode.length} new or changed synopses need its vectors (pass --model, and --local-model-path for a local copy)`);
        if (toEncode.length && !stsSpaceMatches(sp, o.model!.modelId, o.model!.revision))
          throw new DataError('--model', `is ${o.model!.modelId} (${o.model!.revision}), but the snapshot's ${STS_SPACE} space was made by ${sp.encoder.name} (${String(sp.encoder.params?.revision ?? 'main')})`);
        const vectors = toEncode.length ? await embedWith(o.model!, toEncode.map((it) => synopsisText(it))) : new Float32Array(0);
        assemble((k) => vectors.slice(k * sp.dim, (k + 1) * sp.dim), toEncode.map((it) => it.id));
      } else {
        throw new DataError(dir, `space "${sp.name}" is made by ${sp.encoder.name}, which an update cannot run: build the snapshot again (npm run snapshot -- --source … --out …)`, { field: `spaces.${sp.name}` });
      }
    }

    const coverInfo = old.manifest.covers ? { ...old.manifest.covers } : undefined;
    if (coverInfo) {
      delete coverInfo.sprite;
      const sprite = await writeSprite(tmp, items.map((it) => ({ coverSquare: covers.get(it.id)?.coverSquare })), coverInfo.squareSize ?? SQUARE_SIZE);
      if (sprite) coverInfo.sprite = sprite;
    }
    const m = old.manifest;
    const snap = buildSnapshot({
      name: o.name ?? m.name,
      description: o.description ?? m.description,
      source: o.attribution ?? m.source,
      items,
      ...(interactions ? { interactions } : {}),
      covers,
      coverInfo,
      ...(m.coverOrigins ? { coverOrigins: m.coverOrigins } : {}),
      spaces,
      blobs,
    });
    const dropped: string[] = [];
    if (old.sequence && m.sequence) {
      const same = items.length === old.items.length && items.every((it, i) => old.items[i].id === it.id) && sameVocabulary(spaces, old);
      if (same) {
        snap.manifest.sequence = m.sequence;
        snap.blobs.set(m.sequence.file, old.blobs.get(m.sequence.file)!);
        snap.sequence = old.sequence;
      } else dropped.push(`${m.sequence.name} (the titles changed: run npm run train:seq again)`);
    }
    const changes: Changes = { from: m.contentHash, fromBuiltAt: m.builtAt, added, changed, removed: removed.map((t) => ({ id: t.id, title: t.title })) };
    snap.manifest = { ...snap.manifest, changes };
    snap.blobs.set(SOURCES_FILE, sourcesFile(items, coverSha));

    let delta: UpdateReport['delta'];
    await writeAndSwap(snap, tmp, out, async (files) => {
      delta = await addDelta(files, m, dir);
      if (delta) snap.manifest = JSON.parse(new TextDecoder().decode(files.get('manifest.json')!));
    });
    return { snapshot: snap, added, changed, removed: removed.map((t) => t.id), kept: items.length - encode.size, encoded: report, ...(delta ? { delta } : {}), dropped, skipped, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** sources.json of the previous version: `{id: hash}`. */
function parseSources(text: string): Map<string, string> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new DataError(SOURCES_FILE, `is not valid JSON (${(e as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || Object.values(raw).some((h) => typeof h !== 'string')) throw new DataError(SOURCES_FILE, 'must be an object of title ids to content hashes');
  return new Map(Object.entries(raw as Record<string, string>));
}

/**
 * For a snapshot built before sources.json existed: whether a title's source is what the built one holds — the
 * same text fields, and a cover that encodes to the same square image (or no cover on either side).
 */
async function sameAsBuilt(it: SourceItem, t: Snapshot['items'][number], source: string, dir: string): Promise<boolean> {
  if (it.title !== t.title || (it.author ?? undefined) !== t.author || it.synopsis !== t.synopsis || JSON.stringify(it.genres) !== JSON.stringify(t.genres)) return false;
  if (!it.cover || !t.coverSquare) return !it.cover && !t.coverSquare;
  const img = await readFile(path.join(source, it.cover)).catch(() => undefined);
  const built = isSnapshotPath(t.coverSquare) ? await readFile(path.join(dir, t.coverSquare)).catch(() => undefined) : undefined;
  if (!img || !built) return false;
  return (await squareCover(img)).equals(built);
}

/** Style and gram rows of these square covers, from the snapshot's own style encoder weights (WASM backend). */
async function embedCovers(old: Snapshot, dir: string, files: string[]): Promise<{ style: Float32Array; gram: Float32Array; gramDim: number }> {
  const enc = await snapshotStyleEncoder(old);
  try {
    // Decoded a batch at a time: an update that brings many new covers does not hold them all.
    const { style, gram } = files.length ? await enc.embed(decodedCovers(dir, files)) : { style: new Float32Array(0), gram: new Float32Array(0) };
    return { style, gram, gramDim: enc.gramDim };
  } finally {
    enc.dispose();
  }
}

/** Synopsis vectors from the sentence model (onnxruntime-node on the CPU). */
async function embedWith(model: ModelArgs, texts: string[]): Promise<Float32Array> {
  const enc = await loadEncoder(model);
  try {
    return await embedAll(enc, texts);
  } finally {
    await enc.dispose();
  }
}

/**
 * The style map for the new catalog without laying it out again (t-SNE would move every title): kept titles stay
 * where they were; a new or changed one is placed among the kept ones (placeAmong). A map with no kept title left
 * has nothing to place against: cluster −1.
 */
function placeOnMap(before: StylePoint[], style: Space, items: SourceItem[], keptRow: (id: string) => number | undefined): StylePoint[] {
  const kept = items.flatMap((it, i) => (keptRow(it.id) !== undefined ? [i] : []));
  return items.map((it, i) => {
    const r = keptRow(it.id);
    return r !== undefined ? before[r] : placeAmong(style.data, style.dim, i, kept, (j) => before[keptRow(items[j].id)!]);
  });
}

function sameVocabulary(spaces: Space[], old: Snapshot): boolean {
  const a = spaces.find((s) => s.name === GENRE_SPACE)?.encoder.params?.vocabulary;
  const b = old.spaces.get(GENRE_SPACE)?.encoder.params?.vocabulary;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Adds the update delta to the serialised files: a patch for every file the app loads that exists in the previous
 * version under the same path with other bytes, where the patch is smaller than the file. Re-signs the manifest.
 */
async function addDelta(files: Map<string, Uint8Array>, before: Manifest, dir: string): Promise<UpdateReport['delta']> {
  const patches: Array<{ path: string; source: string; target: string; bytes: number; ops: Uint8Array }> = [];
  for (const [p, bytes] of files) {
    const was = Object.hasOwn(before.files, p) ? before.files[p] : undefined;
    if (p === 'manifest.json' || p === SOURCES_FILE || !was) continue;
    const target = sha256Of(bytes);
    if (was.sha256 === target) continue;
    const ops = diffBytes(new Uint8Array(await readFile(path.join(dir, p))), bytes);
    if (ops.byteLength < bytes.byteLength * DELTA_WORTH) patches.push({ path: p, source: was.sha256, target, bytes: bytes.byteLength, ops });
  }
  if (!patches.length) return undefined;
  const delta = encodeDelta(before.contentHash, patches);
  // Named by the version it starts from and by its own bytes: content-addressed, so a host may cache it for good.
  const file = `delta/${before.contentHash.slice(0, 16)}-${sha256Of(delta).slice(0, 12)}.bin`;
  files.set(file, delta);
  const manifest = JSON.parse(new TextDecoder().decode(files.get('manifest.json')!)) as Manifest;
  manifest.files[file] = { bytes: delta.byteLength, sha256: sha256Of(delta) };
  manifest.changes = { ...manifest.changes!, delta: { file, patches: Object.fromEntries(patches.map((q) => [q.path, q.source])) } };
  manifest.contentHash = (await contentHashOf(manifest.files))!;
  files.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n'));
  return { file, bytes: delta.byteLength, rebuilds: patches.reduce((s, q) => s + q.bytes, 0), files: patches.length };
}
