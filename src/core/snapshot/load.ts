/**
 * Loads and validates a snapshot from any file reader (fetch in the browser, fs in Node).
 * Nothing is trusted: every file is checked against the manifest's size and hash, every item field and
 * every vector value is checked, and the first problem is reported naming the file, item and field.
 */
import { DataError } from '../errors.ts';
import { decodeStyleMap } from '../style/style-map.ts';
import { COMMUNITY_MODEL, COMMUNITY_VERSION } from '../rank/community.ts';
import { decodeCommunityModel } from '../rank/community-file.ts';
import { SEQUENCE_MODEL, SEQUENCE_VERSION, SequenceModel, sequenceWeightCount } from '../rank/sequence.ts';
import type { Community } from '../rank/signals.ts';
import { CsrF16Check, decodeSpaceRows } from './encoding.ts';
import { decodeDelta, patchBytes } from './delta.ts';
import * as v from 'valibot';
import { contentHashOf, sha256Hex, type CommunityInfo, type FileEntry, type Manifest, type SequenceInfo, type SerendipityCalibration, type Space, type SpaceInfo, type Title } from './format.ts';
import { fieldOf, parseWith } from '../schema/issues.ts';
import { ManifestSchema, SerendipityCalibrationSchema } from '../schema/snapshot.ts';
import type { RowsOnDisk, Snapshot, SynopsisPages } from './snapshot.ts';
import { isSnapshotPath } from './paths.ts';
import { coreFromBytes, coreToBytes, isObject, parseJson, RANKING_CORE, TitleSlices, validateItems, type RankingCore } from './titles.ts';
import { readAll } from './streams.ts';
import { LEXICAL_ENCODER } from '../text/lexical.ts';
import { spacesIntoWasm } from '../math/sparse-scan.ts';
import { runSteps } from '../steps.ts';

/**
 * Returns a file's bytes; throws (ideally a DataError) when the file cannot be read. `onBytes`, when the reader
 * can, hears how many bytes of the file have arrived so far (for one progress bar over every file); `expected`,
 * when known (the manifest's size), lets it fill one buffer of that size instead of joining chunks (half the memory).
 */
export type ReadFile = (path: string, onBytes?: (received: number) => void, expected?: number) => Promise<Uint8Array>;

const MANIFEST = 'manifest.json';

/**
 * manifest.json: its schema (schema/snapshot.ts), then what one field cannot say — every path it names is listed in
 * `files`, version 1 stores float32 only, space names are unique, the models are ones this app reads.
 */
function validateManifest(raw: unknown): Manifest {
  const f = MANIFEST;
  if (!isObject(raw)) throw new DataError(f, 'is not a JSON object');
  // Keys are checked before the schema, which (rightly) skips `__proto__` or `constructor`: a snapshot naming
  // such a file is refused, not silently shortened.
  if (isObject(raw.files)) for (const p of Object.keys(raw.files)) if (!isSnapshotPath(p)) throw new DataError(f, `lists ${JSON.stringify(p)}, which is not a path inside the snapshot folder`, { field: 'files' });
  const m = parseWith(ManifestSchema, raw, f);
  // Own entries only, in an object with no prototype: a lookup never finds an inherited member.
  m.files = Object.assign(Object.create(null) as Manifest['files'], m.files);
  const listed = (p: string, field: string) => {
    if (!Object.hasOwn(m.files, p)) throw new DataError(f, `names ${JSON.stringify(p)}, which "files" does not list`, { field });
  };
  listed(m.items, 'items');
  if (m.details) {
    const need = Math.ceil(m.itemCount / m.details.pageSize);
    if (m.details.pages.length !== need)
      throw new DataError(f, `lists ${m.details.pages.length} synopsis pages, but ${m.itemCount} titles in pages of ${m.details.pageSize} need ${need}`, { field: 'details.pages' });
    m.details.pages.forEach((p, k) => listed(p, `details.pages[${k}]`));
  }
  const names = new Set<string>();
  m.spaces.forEach((s, i) => {
    const field = `spaces[${i}]`;
    if (names.has(s.name)) throw new DataError(f, `repeats space "${s.name}"`, { field: `${field}.name` });
    names.add(s.name);
    if (m.version === 1 && s.dtype !== 'float32') throw new DataError(f, `unsupported dtype ${JSON.stringify(s.dtype)} (version 1 reads float32)`, { field: `${field}.dtype` });
    listed(s.file, `${field}.file`);
    for (const [k, p] of Object.entries(s.encoder.files ?? {})) listed(p, `${field}.encoder.files.${k}`);
  });
  const model = m.community?.model;
  if (model) {
    if (model.name !== COMMUNITY_MODEL || !(model.version === 1 || model.version === COMMUNITY_VERSION))
      throw new DataError(f, `is ${JSON.stringify(model.name)} version ${model.version}; this app reads ${COMMUNITY_MODEL} versions 1 and ${COMMUNITY_VERSION}`, { field: 'community.model' });
    // Version 1: uint32 rows and float32 weights in two files; version 2: one compact file (rank/community-file.ts).
    const needs = model.version === 1 ? (['index', 'weight'] as const) : (['model'] as const);
    for (const k of needs) {
      const p = model.files[k];
      if (p === undefined) throw new DataError(f, `is ${COMMUNITY_MODEL} version ${model.version}, which needs files.${k}`, { field: `community.model.files.${k}` });
      listed(p, `community.model.files.${k}`);
    }
  }
  if (m.community?.categories) listed(m.community.categories.file, 'community.categories.file');
  if (m.sequence) {
    const q = m.sequence;
    if (q.name !== SEQUENCE_MODEL || q.version !== SEQUENCE_VERSION)
      throw new DataError(f, `is ${JSON.stringify(q.name)} version ${q.version}; this app reads ${SEQUENCE_MODEL} version ${SEQUENCE_VERSION}`, { field: 'sequence' });
    listed(q.file, 'sequence.file');
  }
  if (m.changes?.delta) listed(m.changes.delta.file, 'changes.delta.file');
  return m;
}

/**
 * The encoders' own files, checked for shape before search or Settings use them: the lexical IDF table holds one
 * finite float32 per dimension; the style encoder's weights manifest is a JSON object (its tensors, sizes and
 * content hash are checked by StyleEncoder.load, which needs tfjs and runs where the encoder does).
 */
function checkEncoderFiles(manifest: Manifest, blobs: ReadonlyMap<string, Uint8Array>): void {
  for (const s of manifest.spaces) {
    const idf = s.encoder.name === LEXICAL_ENCODER ? s.encoder.files?.idf : undefined;
    if (idf && blobs.has(idf)) floats(blobs.get(idf)!, s.dim, idf, `spaces.${s.name}.encoder.files.idf`, `dim ${s.dim}`);
    const weights = s.encoder.files?.weights;
    if (weights && blobs.has(weights) && !isObject(parseJson(blobs.get(weights)!, weights))) throw new DataError(weights, 'is not a JSON object (the style encoder\'s weights manifest)');
  }
}

/** A float32 file of exactly `count` finite values. */
function floats(bytes: Uint8Array, count: number, file: string, field: string, shape: string): Float32Array {
  if (bytes.byteLength !== count * 4) throw new DataError(file, `holds ${bytes.byteLength} bytes but ${shape} × 4 needs ${count * 4}`, { field });
  const data = new Float32Array(count);
  new Uint8Array(data.buffer).set(bytes);
  const bad = data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new DataError(file, `has a non-finite value (${data[bad]}) at ${bad}`, { field });
  return data;
}

/** The community model and category similarity of `manifest.community`, checked against the catalog. */
function decodeCommunity(info: CommunityInfo, read: (path: string) => Uint8Array, itemCount: number, genre: Space | undefined): Community | undefined {
  if (!info.model) return undefined;
  const N = info.model.neighbours;
  const categorySimilarity = decodeCategories(info, read, genre);
  const learned = info.learned ? { learned: info.learned } : {};
  if (info.model.version !== 1) {
    const file = info.model.files.model!;
    // Sparse EASE is stored with its `candidates` (build.ts communityEntry).
    const sparse = info.model.params?.candidates !== undefined ? { sparse: true } : {};
    return { model: decodeCommunityModel(read(file), itemCount, N, file), categorySimilarity, ...sparse, ...learned };
  }
  const indexFile = info.model.files.index!;
  const weightFile = info.model.files.weight!;
  const ib = read(indexFile);
  if (ib.byteLength !== itemCount * N * 4)
    throw new DataError(indexFile, `holds ${ib.byteLength} bytes but ${itemCount} titles × ${N} neighbours × 4 needs ${itemCount * N * 4} (a model of another catalog?)`, { field: 'community.model.neighbours' });
  const index = new Uint32Array(itemCount * N);
  new Uint8Array(index.buffer).set(ib);
  const bad = index.findIndex((i) => i >= itemCount);
  if (bad >= 0) throw new DataError(indexFile, `names row ${index[bad]}, but the catalog has ${itemCount} titles`, { item: String(Math.floor(bad / N)), field: 'community.model' });
  const weight = floats(read(weightFile), itemCount * N, weightFile, 'community.model', `${itemCount} titles × ${N} neighbours`);
  return { model: { itemCount, neighbours: N, index, weight }, categorySimilarity, ...learned };
}

/** The genre × genre co-usage cosines of `community.categories` (empty without). */
function decodeCategories(info: CommunityInfo, read: (path: string) => Uint8Array, genre: Space | undefined): Float32Array {
  if (!info.categories) return new Float32Array(0);
  const { file, dim } = info.categories;
  if (genre && genre.dim !== dim) throw new DataError(MANIFEST, `has ${dim} categories but the genre space has ${genre.dim}`, { field: 'community.categories.dim' });
  return floats(read(file), dim * dim, file, 'community.categories', `${dim} × ${dim} categories`);
}

/** The sequence model of `manifest.sequence`; one trained for another catalog (item count, genres) is refused. */
function decodeSequence(info: SequenceInfo, bytes: Uint8Array, itemCount: number, genre: Space | undefined): SequenceModel {
  const { spec } = info;
  if (spec.itemCount !== itemCount)
    throw new DataError(info.file, `is a sequence model for ${spec.itemCount} titles but this catalog has ${itemCount}: retrain it on this catalog (npm run train:seq)`, { field: 'sequence.spec.itemCount' });
  const vocabulary = (genre?.encoder.params?.vocabulary as string[] | undefined) ?? [];
  if (!genre || vocabulary.length !== spec.categories.length || vocabulary.some((g, i) => g !== spec.categories[i]))
    throw new DataError(info.file, 'was trained with other genres than this catalog\'s genre space: retrain it (npm run train:seq)', { field: 'sequence.spec.categories' });
  const weights = floats(bytes, sequenceWeightCount(spec), info.file, 'sequence', 'the spec\'s weight count');
  return new SequenceModel(spec, weights, genre.data, itemCount);
}

/** One page of synopses (`manifest.details.pages[k]`) into its titles, checked: a JSON array of strings, one per row. */
function applySynopsisPage(items: Title[], k: number, pageSize: number, bytes: Uint8Array, file: string): void {
  const raw = parseJson(bytes, file);
  const start = k * pageSize;
  const count = Math.min(pageSize, items.length - start);
  if (!Array.isArray(raw)) throw new DataError(file, 'must be a JSON array of synopses', { field: 'details' });
  if (raw.length !== count) throw new DataError(file, `has ${raw.length} synopses, but rows ${start}–${start + count - 1} need ${count}`, { field: 'details' });
  const bad = raw.findIndex((x) => typeof x !== 'string');
  if (bad >= 0) throw new DataError(file, 'must be a string', { item: items[start + bad].id, field: 'synopsis' });
  for (let i = 0; i < count; i++) items[start + i].synopsis = raw[i] as string;
}

/**
 * Loads synopsis pages on demand (a snapshot loaded with `synopses: 'lazy'`): each page is downloaded at most once
 * (the file cache first, then the update's delta, then `read`), checked like any snapshot file, and written into
 * its titles' `synopsis`. A failed page throws its DataError and is tried again on the next call.
 */
export function synopsisPages(manifest: Manifest, items: Title[], read: ReadFile, cache?: FileCache): SynopsisPages {
  const details = manifest.details;
  const pending = new Map<number, Promise<void>>();
  // A page an update changed is rebuilt from the delta when the device holds its previous version, as at load.
  const patched = cache ? deltaPatcher(manifest, read, cache) : undefined;
  const page = (k: number) => {
    let p = pending.get(k);
    if (!p) {
      const path = details!.pages[k];
      p = cachedOrRead(read, cache, path, manifest.files[path], patched).then((bytes) => applySynopsisPage(items, k, details!.pageSize, bytes, path));
      p.catch(() => pending.delete(k));
      pending.set(k, p);
    }
    return p;
  };
  return {
    async load(rows) {
      if (!details) return;
      const pages = rows ? new Set([...rows].map((r) => Math.floor(r / details.pageSize))) : details.pages.keys();
      await Promise.all([...pages].map(page));
    },
  };
}

/**
 * A file from the cache when it holds it intact, else rebuilt from the update's delta (`patched`) or read, checked
 * and cached (a full disk only costs a download next time). `onBytes` hears a download's progress.
 */
async function cachedOrRead(read: ReadFile, cache: FileCache | undefined, path: string, entry: FileEntry, patched?: ReturnType<typeof deltaPatcher>, onBytes?: (received: number) => void): Promise<Uint8Array> {
  return (await fromCache(cache, entry)) ?? readAndKeep(read, cache, path, entry, patched, onBytes);
}

/** A file not in the cache: rebuilt from the update's delta or read, checked, and cached. */
async function readAndKeep(read: ReadFile, cache: FileCache | undefined, path: string, entry: FileEntry, patched?: ReturnType<typeof deltaPatcher>, onBytes?: (received: number) => void): Promise<Uint8Array> {
  const bytes = (await patched?.(path, entry)) ?? (await readChecked(read, path, entry, onBytes));
  await cache?.put(entry, bytes).catch(() => undefined);
  return bytes;
}

async function fromCache(cache: FileCache | undefined, entry: FileEntry): Promise<Uint8Array | undefined> {
  const hit = await cache?.get(entry).catch(() => undefined);
  return hit && hit.byteLength === entry.bytes ? hit : undefined;
}

/**
 * A sparse space whose dense rows would take more than this many bytes stays sparse in memory (Space.csr): at 100k
 * titles the lexical space is ~400 MB dense and ~90 MB sparse. Below it, dense rows scan faster.
 */
const SPARSE_IN_MEMORY_ABOVE = 64 * 2 ** 20;

/**
 * Whether a space's rows stay sparse in memory. The genre space stays dense whatever its size: it is small by
 * nature, and serendipity reads it row by row.
 */
const keptSparse = (info: SpaceInfo, itemCount: number, denseLimit: number) => info.name !== 'genre' && itemCount * info.dim * 4 > denseLimit;

function decodeSpace(info: SpaceInfo, bytes: Uint8Array, rows: number, itemOf: (row: number) => string, denseLimit: number): Space {
  const ctx = { file: info.file, field: `spaces.${info.name}`, itemOf };
  const { data, csr } = decodeSpaceRows(bytes, rows, info.dim, info.dtype, ctx, keptSparse(info, rows, denseLimit));
  return { name: info.name, dim: info.dim, data, ...(csr ? { csr } : {}), normalized: info.normalized, encoder: info.encoder };
}

/** Reads one listed file and checks its size and hash against the manifest. */
async function readChecked(read: ReadFile, path: string, entry: FileEntry, onBytes?: (received: number) => void): Promise<Uint8Array> {
  const bytes = await read(path, onBytes, entry.bytes);
  if (bytes.byteLength !== entry.bytes)
    throw new DataError(path, `is ${bytes.byteLength} bytes, the manifest says ${entry.bytes}${bytes.byteLength < entry.bytes ? ' (truncated download?)' : ''}`);
  const hash = await sha256Hex(bytes);
  if (hash !== undefined && hash !== entry.sha256) throw new DataError(path, 'does not match its SHA-256 in the manifest (corrupted or replaced)');
  return bytes;
}

/** Bytes of the snapshot's files arrived so far, of all the files this load reads (sizes from the manifest). */
export interface LoadProgress {
  loaded: number;
  total: number;
}

/**
 * What a load reads. `app`: everything. `ranking`: only what `recommend` ranks with — items, spaces, the community
 * and sequence models — without the encoders' files (the search IDF table, the text adapter, the style encoder's
 * weights and map) or the synopsis pages: the widget's profile.
 */
export type SnapshotProfile = 'app' | 'ranking';

/**
 * A store of snapshot files by content hash (the app's: src/core/snapshot/file-cache.ts). Only files whose size and
 * SHA-256 were checked are put, and the loader checks each hit's size again; its failures only cost a download.
 */
export interface FileCache {
  /**
   * The file put under `entry.sha256` (`entry.bytes` may be 0: size unknown), exactly as it was put, or undefined:
   * a cache checks that itself (the app's: a checksum stored with the file, or its SHA-256), since hashing every
   * hit again would cost a warm visit to a 100k-title catalog more than reading it.
   */
  get(entry: FileEntry): Promise<Uint8Array | undefined>;
  put(entry: FileEntry, bytes: Uint8Array): Promise<void>;
  /** After a load: the files of this manifest (their hashes) are the ones to keep. */
  retain(sha256s: string[]): Promise<void>;
  /**
   * The kept file read piece by piece into `visit` through one reused buffer (`visit` must not keep a piece, and the
   * next is read once the promise it may return settles; each is `chunkBytes` long, a multiple of 16, but the last),
   * its checksum checked at the end: true when all of it went past intact, false when it is not kept or not intact.
   * Only a cache that reads files in place has it (OPFS in a worker).
   */
  scan?(entry: FileEntry, chunkBytes: number, visit: (piece: Uint8Array, at: number) => void | Promise<void>): Promise<boolean>;
  /** Whether the file is kept where `scan` reads it, by its size (its bytes are checked when read). */
  holds?(entry: FileEntry): Promise<boolean>;
  /**
   * What was noted of a kept file (`kind`: ROWS_CHECKED here, titles.ts RANKING_CORE), kept beside it and dropped
   * with it; undefined when there is none or it is damaged. Only a cache that has `scan`.
   */
  note?(entry: FileEntry, kind: string): Promise<Uint8Array | undefined>;
  setNote?(entry: FileEntry, kind: string, value: Uint8Array): Promise<void>;
}

/**
 * The note (`FileCache.note`) that a file's rows passed their check (`CsrF16Check`): its value names the row count,
 * dimension and non-zeros they were checked for. A warm visit to a 100k-title catalog then skips checking 60 MB of
 * rows (~80 ms of the snapshot worker, before the page can rank).
 */
const ROWS_CHECKED = 'rows-checked';

export interface LoadOptions {
  onProgress?: (p: LoadProgress) => void;
  profile?: SnapshotProfile;
  cache?: FileCache;
  /** Sparse spaces larger than this dense stay sparse in memory (default SPARSE_IN_MEMORY_ABOVE; 0: always). */
  denseLimitBytes?: number;
  /**
   * Synopsis pages (`manifest.details`): `all` reads them with the rest (Node tools, the default of the `app`
   * profile); `lazy` leaves them to `synopsisPages` (the app's page, for the titles it shows). The `ranking`
   * profile never reads them.
   */
  synopses?: 'all' | 'lazy';
  /**
   * Sparse rows kept in memory go into WebAssembly memory, where they scan ~3× faster (default true). False where
   * the snapshot is transferred to another thread next (the snapshot worker): a WebAssembly memory cannot be
   * transferred, so the page moves the rows in on arrival (src/app/snapshot-client.ts).
   */
  wasmRows?: boolean;
  /**
   * Half-float rows kept sparse are left in the file cache (`Snapshot.rowsOnDisk`), and go to the page piece by piece
   * straight into its WebAssembly memory (the snapshot worker, whose snapshot goes to the page:
   * src/app/snapshot-client.ts), so that they are never held twice (the worker's copy and the page's; 60 MB at 100k
   * titles). A kept file is checked as it streams past (`FileCache.scan`; `onRowsPiece`); a downloaded one in memory,
   * once the cache holds it (`FileCache.holds`). Their spaces come without rows. Where the cache cannot, the rows
   * come as usual.
   */
  rowsOnDisk?: boolean;
  /**
   * Hears of a kept file's rows, first alone (no `piece`; `rows.nnz` is what the file's size says) as soon as the
   * manifest is read, so that the page can make room for them; then piece by piece as they stream past their check,
   * before the rest of the load: the page takes them into WebAssembly memory meanwhile, instead of reading the file
   * again. Rows that pass come in `Snapshot.rowsOnDisk` marked `sent`; the pieces of rows that fail stop there, and
   * their space comes decoded. `piece` is reused once the call returns (or the promise it returns settles: the next
   * piece waits for it). Rows just downloaded are heard alone once their download is in, but not sent: the page
   * reads them from the file cache once the load ends (snapshot-client.ts). Except where the call without a piece
   * answers true: pieces then go straight into memory the page shares (no copy is held on their way), and the
   * downloaded rows go as one piece once checked, `sent`.
   */
  onRowsPiece?: (rows: RowsOnDisk, piece?: Uint8Array, at?: number) => void | boolean | Promise<void | boolean>;
  /**
   * Hears the titles (`titlesBySlice`) as soon as items.json is in and cut, while the other files still come, where
   * some space's rows may be left on disk (`rowsOnDisk`: a large catalog); the load ends once the promise it may
   * return settles. The snapshot worker sends the page the titles' ranking core from here (titles.ts RankingCore), so
   * that the page makes its preview of them while the rows come.
   */
  onTitles?: (titles: TitleSlices, manifest: Manifest) => void | Promise<void>;
  /**
   * The titles are left to be parsed and checked a slice at a time as the page asks for them (`Snapshot.titles`,
   * titles.ts TitleSlices; `items` is then empty): the snapshot worker, whose page takes one slice in while it parses
   * the next. Only with no synopsis pages to read (`synopses: 'lazy'`), and where items.json can be cut.
   */
  titlesBySlice?: boolean;
}

/** The titles' ranking core: as kept beside items.json by an earlier visit (the same bytes give the same core), else read from them and kept. */
export async function keptRankingCore(titles: TitleSlices, manifest: Manifest, cache: FileCache | undefined): Promise<RankingCore | undefined> {
  const entry = manifest.files[manifest.items];
  const kept = coreFromBytes(await cache?.note?.(entry, RANKING_CORE).catch(() => undefined), manifest.itemCount);
  if (kept) return kept;
  const core = titles.core();
  if (core) await cache?.setNote?.(entry, RANKING_CORE, coreToBytes(core)).catch(() => undefined);
  return core;
}

/** Bytes of a kept file read per piece when checking rows left on disk (and sent to the page: a task there each). */
export const SCAN_PIECE = 2 ** 20;

/** The share of a load's bytes between two progress reports. */
const PROGRESS_STEP = 0.005;

/** Loads, checks and decodes a snapshot; every file is requested at once, then decoded in manifest order. */
export async function loadSnapshot(read: ReadFile, options: LoadOptions = {}): Promise<Snapshot> {
  const manifest = validateManifest(parseJson(await read(MANIFEST), MANIFEST));
  const expectedHash = await contentHashOf(manifest.files);
  if (expectedHash !== undefined && expectedHash !== manifest.contentHash)
    throw new DataError(MANIFEST, 'contentHash does not match the listed files', { field: 'contentHash' });
  const encoderFiles = new Set<string>();
  for (const s of manifest.spaces) {
    for (const p of Object.values(s.encoder.files ?? {})) {
      encoderFiles.add(p);
    }
  }
  const modelFiles = [
    ...(manifest.community?.model ? Object.values(manifest.community.model.files).filter((p): p is string => p !== undefined) : []),
    ...(manifest.community?.categories ? [manifest.community.categories.file] : []),
    ...(manifest.sequence ? [manifest.sequence.file] : []),
  ];
  const pages = options.profile !== 'ranking' && options.synopses !== 'lazy' ? (manifest.details?.pages ?? []) : [];
  const wanted = [...new Set([manifest.items, ...manifest.spaces.map((s) => s.file), ...(options.profile === 'ranking' ? [] : encoderFiles), ...modelFiles, ...pages])];
  const total = wanted.reduce((sum, p) => sum + manifest.files[p].bytes, 0);
  const received = new Map<string, number>();
  let reported = -1;
  // Every PROGRESS_STEP of the total at most, and the end: a download arrives in ~64 KB pieces, and each report
  // crosses to the page and redraws its bar (80 MB at 100k titles: ~1,300 reports, now ≤ 200).
  const step = total * PROGRESS_STEP;
  const report = () => {
    let loaded = 0;
    for (const n of received.values()) loaded += n;
    if (loaded === reported || (loaded < total && reported >= 0 && loaded - reported < step)) return;
    options.onProgress?.({ loaded: (reported = loaded), total });
  };
  report();
  // All requests at once: the network, not the order of files, sets the pace. The first failure wins.
  const cache = options.cache;
  const patched = cache ? deltaPatcher(manifest, read, cache) : undefined;
  const denseLimit = options.denseLimitBytes ?? SPARSE_IN_MEMORY_ABOVE;
  const onDisk = options.rowsOnDisk && cache?.scan && cache.holds ? rowsLeftOnDisk(manifest, cache, denseLimit, new Set([...encoderFiles, ...modelFiles]), options.onRowsPiece) : undefined;
  const bySlice = !!options.titlesBySlice && pages.length === 0;
  // With `onTitles`, items.json is cut as soon as it is in, and heard (while the other files still come).
  let cut: TitleSlices | undefined;
  const largeRows = wanted.some((p) => onDisk?.candidate(p));
  // Where rows are left on disk, the worker waits on the page between pieces of them (a warm visit to a large
  // catalog): the other spaces the cache held are decoded meanwhile, as they are read, rather than after the last
  // piece. Rows are named by their number there; a space that fails is decoded again below, where its error names
  // the title. Downloads are decoded once all are in, as ever: decoded among them, both would be held at once.
  const decoded = new Map<string, Space>();
  const decodeKept = (p: string, bytes: Uint8Array) => {
    for (const info of manifest.spaces) {
      if (info.file !== p) continue;
      try {
        decoded.set(info.name, decodeSpace(info, bytes, manifest.itemCount, String, denseLimit));
      } catch {
        // decoded again below
      }
    }
  };
  const files = new Map(
    await Promise.all(
      wanted.map(async (p) => {
        const rows = onDisk?.candidate(p);
        if (rows && (await onDisk!.checkedOnDisk(p))) {
          received.set(p, manifest.files[p].bytes);
          report();
          return [p, new Uint8Array(0)] as const;
        }
        const hit = await fromCache(cache, manifest.files[p]);
        const bytes =
          hit ??
          (await readAndKeep(read, cache, p, manifest.files[p], patched, (n) => {
            received.set(p, n);
            report();
          }));
        received.set(p, bytes.byteLength);
        report();
        if (hit && largeRows && !rows) decodeKept(p, hit);
        if (p === manifest.items && bySlice && largeRows && options.onTitles && (cut = TitleSlices.of(bytes, manifest))) await options.onTitles(cut, manifest);
        return [p, rows && (await onDisk!.keptAndChecked(p, bytes)) ? new Uint8Array(0) : bytes] as const;
      }),
    ),
  );
  // Synopsis pages the page loads later are this version's files too: kept when cached, and so is the previous
  // version of one the update's delta rebuilds (until it is rebuilt; the next load lets it go).
  const later = manifest.details?.pages.filter((p) => !wanted.includes(p)) ?? [];
  const patches = manifest.changes?.delta?.patches ?? {};
  const kept = [...wanted, ...later].map((p) => manifest.files[p].sha256);
  for (const p of later) if (Object.hasOwn(patches, p)) kept.push(patches[p], manifest.files[manifest.changes!.delta!.file].sha256);
  const retained = cache?.retain(kept).catch(() => undefined); // while the spaces are decoded

  const { items, indexOf, titles } = cut ? { items: [], indexOf: new Map<string, number>(), titles: cut } : titlesOf(files.get(manifest.items)!, manifest, bySlice);
  // Its bytes can go once parsed (a 100k-title catalog: 19 MB; by slice, once the last is), unless a manifest names
  // the same file twice.
  const otherUses = new Set([...manifest.spaces.map((s) => s.file), ...encoderFiles, ...modelFiles, ...pages]);
  if (!otherUses.has(manifest.items)) files.delete(manifest.items);
  const itemOf = titles ? (row: number) => titles.idOf(row) : (row: number) => items[row].id;
  const count = manifest.itemCount; // items.length, once checked
  pages.forEach((p, k) => applySynopsisPage(items, k, manifest.details!.pageSize, files.get(p)!, p));
  const spaces = new Map<string, Space>();
  const rowsOnDisk: RowsOnDisk[] = [];
  for (const info of manifest.spaces) {
    const left = onDisk?.left.get(info.file);
    if (left) rowsOnDisk.push(left);
    const withoutRows = { name: info.name, dim: info.dim, data: new Float32Array(0), normalized: info.normalized, encoder: info.encoder };
    spaces.set(info.name, left ? withoutRows : (decoded.get(info.name) ?? decodeSpace(info, files.get(info.file)!, count, itemOf, denseLimit)));
  }
  if (options.wasmRows !== false) runSteps(spacesIntoWasm(spaces, Infinity));
  const blobs = new Map<string, Uint8Array>();
  for (const p of [...encoderFiles, ...modelFiles]) if (files.has(p)) blobs.set(p, files.get(p)!);
  const styleMap = manifest.spaces.find((s) => s.name === 'style')?.encoder.files?.map;
  if (styleMap && blobs.has(styleMap)) decodeStyleMap(blobs.get(styleMap)!, count, styleMap); // size and values, before anything draws it
  checkEncoderFiles(manifest, blobs);
  const genre = spaces.get('genre');
  const community = manifest.community && decodeCommunity(manifest.community, (p) => blobs.get(p)!, count, genre);
  const sequence = manifest.sequence && decodeSequence(manifest.sequence, blobs.get(manifest.sequence.file)!, count, genre);
  const calibration = community?.learned?.strength === undefined ? calibrationOf(manifest) : undefined;
  await retained;
  return { manifest, items, spaces, blobs, indexOf, ...(titles ? { titles } : {}), ...(rowsOnDisk.length ? { rowsOnDisk } : {}), ...(community ? { community } : {}), ...(sequence ? { sequence } : {}), ...(calibration ? { calibration } : {}) };
}

/** items.json's titles checked whole, or left to be checked by slice (`LoadOptions.titlesBySlice`) where it can be cut. */
function titlesOf(bytes: Uint8Array, manifest: Manifest, bySlice: boolean): { items: Title[]; indexOf: Map<string, number>; titles?: TitleSlices } {
  const titles = bySlice ? TitleSlices.of(bytes, manifest) : undefined;
  return titles ? { items: [], indexOf: new Map(), titles } : validateItems(parseJson(bytes, manifest.items), manifest);
}

/**
 * Which files' rows `LoadOptions.rowsOnDisk` leaves in the file cache (one `csr-f16` space's own file, kept sparse),
 * and their checks: a kept file as it streams past (`FileCache.scan`), a file just downloaded in memory once the
 * cache holds it. `left` maps each file left on disk to its rows; a kept file's go past `pieces` as they are checked.
 * A file that fails either is read whole and decoded as ever: downloaded again when damaged, refused by decodeSpace
 * with its fault named when its rows are bad.
 */
function rowsLeftOnDisk(manifest: Manifest, cache: FileCache, denseLimit: number, otherUses: ReadonlySet<string>, pieces?: LoadOptions['onRowsPiece']) {
  const left = new Map<string, RowsOnDisk>();
  const spaceOf = (p: string) => {
    const spaces = manifest.spaces.filter((s) => s.file === p);
    return spaces.length === 1 && !otherUses.has(p) ? spaces[0] : undefined;
  };
  const newCheck = (p: string) => new CsrF16Check(manifest.files[p].bytes, manifest.itemCount, spaceOf(p)!.dim);
  const rowsOf = (p: string, nnz: number): RowsOnDisk => {
    const info = spaceOf(p)!;
    return { space: info.name, sha256: manifest.files[p].sha256, bytes: manifest.files[p].bytes, rows: manifest.itemCount, dim: info.dim, nnz };
  };
  // The rows as the file's size says (its check holds it to that), before they are read: the page makes room.
  const planned = (p: string) => {
    const rows = rowsOf(p, (manifest.files[p].bytes - 4 * (manifest.itemCount + 2)) / 4);
    return Number.isInteger(rows.nnz) && rows.nnz >= 0 ? rows : undefined;
  };
  // The page is told of them alone (no piece), so that it makes room for them; its answer is true where that room is
  // memory the pieces are written into straight (LoadOptions.onRowsPiece).
  const announced = (p: string) => {
    const rows = planned(p);
    return { rows, answer: rows && pieces ? Promise.resolve(pieces(rows, undefined, undefined)).catch(() => undefined) : undefined };
  };
  const passed = (p: string, nnz: number, sent: boolean) => {
    left.set(p, { ...rowsOf(p, nnz), ...(sent ? { sent } : {}) });
    return true;
  };
  // A file's rows that passed their check once need not be checked again while the cache holds the same bytes (its
  // checksum tells): the check is a function of the bytes, the row count and the dimension, all in the note.
  const noteOf = (p: string, nnz: number) => `csr-f16 rows=${manifest.itemCount} dim=${spaceOf(p)!.dim} nnz=${nnz}`;
  const checkedBefore = async (p: string, nnz: number) => {
    const note = await cache.note?.(manifest.files[p], ROWS_CHECKED).catch(() => undefined);
    return note !== undefined && new TextDecoder().decode(note) === noteOf(p, nnz);
  };
  const checkedNow = async (p: string, check: CsrF16Check, sent: boolean) => {
    if (!check.ok) return false;
    await cache.setNote?.(manifest.files[p], ROWS_CHECKED, new TextEncoder().encode(noteOf(p, check.nonZeros))).catch(() => undefined);
    return passed(p, check.nonZeros, sent);
  };
  return {
    left,
    candidate(p: string): boolean {
      const info = spaceOf(p);
      return !!info && info.dtype === 'csr-f16' && keptSparse(info, manifest.itemCount, denseLimit);
    },
    async checkedOnDisk(p: string): Promise<boolean> {
      // Only a file the cache holds: a download's rows are not sent, and room made for them now would be held
      // beside the download (at 100k titles a cold visit's peak went 370 → 394 MiB).
      if (!(await cache.holds!(manifest.files[p]).catch(() => false))) return false;
      const coming = announced(p).rows;
      const send = coming && pieces;
      // Checked on an earlier visit: only the checksum (scan) tells now whether these are still the same bytes.
      const check = coming && (await checkedBefore(p, coming.nnz)) ? undefined : newCheck(p);
      const visit = (piece: Uint8Array, at: number) => {
        check?.feed(piece, at);
        if (check && !check.ok) return undefined;
        const sent = send?.(coming!, piece, at);
        return sent instanceof Promise ? sent.then(() => undefined) : undefined;
      };
      const scanned = await cache.scan!(manifest.files[p], SCAN_PIECE, visit).catch(() => false);
      return scanned && (check ? checkedNow(p, check, !!send) : passed(p, coming!.nnz, !!send));
    },
    async keptAndChecked(p: string, bytes: Uint8Array): Promise<boolean> {
      if (!(await cache.holds!(manifest.files[p]).catch(() => false))) return false;
      // The page makes room for them while they are checked and the load ends (a fresh 60 MB at 100k titles: ~0.2 s
      // of page faults on a slow machine), now that their download is in: not before, beside every other download.
      const { rows: coming, answer } = announced(p);
      const check = newCheck(p);
      check.feed(bytes, 0);
      // Not sent: the page has them read from disk again once the load ends (the worker's copy can go meanwhile). Sent
      // while this worker still holds the downloaded copy, they would be held twice (measured at 100k titles, when
      // the page read them from disk that early: a renderer peak of 395–449 MiB against 362–377). Unless the page's
      // room is shared: the download is then written straight into it, where the room is made now anyway.
      const sent = check.ok && !!coming && (await answer) === true && (await Promise.resolve(pieces!(rowsOf(p, check.nonZeros), bytes, 0)).then(() => true, () => false));
      return checkedNow(p, check, sent);
    },
  };
}

/**
 * Rebuilds a changed file from the update delta (delta.ts) when the device holds the previous version of it: the
 * delta is downloaded once, on the first file that needs it, and only when some file can use it. Whatever goes
 * wrong (no delta, a damaged one, a result whose SHA-256 differs) returns undefined: the file is then downloaded.
 */
function deltaPatcher(manifest: Manifest, read: ReadFile, cache: FileCache): ((path: string, entry: FileEntry) => Promise<Uint8Array | undefined>) | undefined {
  const delta = manifest.changes?.delta;
  if (!delta) return undefined;
  let loaded: Promise<ReturnType<typeof decodeDelta> | undefined> | undefined;
  return async (path, entry) => {
    const source = Object.hasOwn(delta.patches, path) ? delta.patches[path] : undefined;
    if (!source) return undefined;
    const old = await cache.get({ sha256: source, bytes: 0 }).catch(() => undefined);
    if (!old) return undefined;
    // Through the file cache: the page's synopsis pages are patched later from the same delta (synopsisPages).
    loaded ??= cachedOrRead(read, cache, delta.file, manifest.files[delta.file])
      .then((bytes) => decodeDelta(bytes, delta.file))
      .catch((e) => {
        console.warn(`toonpick: ${(e as Error).message}; downloading the changed files whole`);
        return undefined;
      });
    const d = await loaded;
    const f = d?.header.files.find((e) => e.path === path && e.source === source && e.target === entry.sha256);
    const ops = f && d?.ops(path);
    if (!f || !ops) return undefined;
    try {
      const bytes = patchBytes(old, ops, entry.bytes, path);
      return (await sha256Hex(bytes)) === entry.sha256 ? bytes : undefined;
    } catch (e) {
      console.warn(`toonpick: ${(e as Error).message}; downloading it whole`);
      return undefined;
    }
  };
}

/**
 * `manifest.calibration.serendipity`, checked. Missing or invalid, the snapshot still loads: the ranker then falls
 * back to the config's last-resort serendipity price, and the console says so (an operator should rebuild).
 */
function calibrationOf(manifest: Manifest): SerendipityCalibration | undefined {
  const c = manifest.calibration as unknown;
  // Without a genre space there is no serendipity to price: nothing is missing.
  if (c === undefined && !manifest.spaces.some((s) => s.name === 'genre')) return undefined;
  const r = v.safeParse(SerendipityCalibrationSchema, isObject(c) ? c.serendipity : undefined);
  if (r.success) return r.output;
  delete manifest.calibration; // never written back as if it were one
  const why = c === undefined ? 'is missing' : `${fieldOf(r.issues[0]) ?? ''} ${r.issues[0].message}`.trim();
  console.warn(`toonpick: ${MANIFEST}: calibration.serendipity ${why}; the Surprise slider uses the config's fallback price (rebuild the snapshot to calibrate it)`);
  return undefined;
}

/** A ReadFile over HTTP(S) relative to a base URL; a missing file is a DataError naming it. */
export function httpReader(base: string | URL, fetchFn: typeof fetch = fetch): ReadFile {
  const root = new URL(base);
  if (!root.pathname.endsWith('/')) root.pathname += '/';
  return async (path, onBytes, expected) => {
    const failed = (why: string) => new DataError(path, `could not be downloaded from ${root.href} (${why})`);
    const url = new URL(path, root);
    // Only files under the snapshot's own folder: never another origin, a data: URL or a parent folder.
    if (url.origin !== root.origin || !url.href.startsWith(root.href)) throw new DataError(path, `is outside the snapshot folder ${root.href}`);
    let res: Response;
    try {
      res = await fetchFn(url);
    } catch (e) {
      throw failed((e as Error).message);
    }
    if (!res.ok) throw failed(`HTTP ${res.status}`);
    try {
      if (!onBytes || !res.body) return new Uint8Array(await res.arrayBuffer());
      // Read as it arrives, so the progress bar moves within large files too (decoded bytes, as the manifest counts),
      // into one buffer of the expected size (streams.ts).
      return await readAll(res.body, expected ?? 0, onBytes);
    } catch (e) {
      throw failed((e as Error).message);
    }
  };
}
