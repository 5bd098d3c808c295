/**
 * Loads and validates a snapshot from any file reader (fetch in the browser, fs in Node).
 * Nothing is trusted: every file is checked against the manifest's size and hash, every item field and
 * every vector value is checked, and the first problem is reported naming the file, item and field.
 */
import { DataError } from '../errors.ts';
import { decodeStyleMap } from '../style/style-map.ts';
import { COMMUNITY_MODEL, COMMUNITY_VERSION } from '../rank/community.ts';
import { SEQUENCE_MODEL, SEQUENCE_VERSION, SequenceModel, sequenceWeightCount, validateSequenceSpec } from '../rank/sequence.ts';
import type { Community } from '../rank/signals.ts';
import { decodeSpaceRows, SPACE_DTYPES } from './encoding.ts';
import { SNAPSHOT_FORMAT, SNAPSHOT_VERSIONS_READ, contentHashOf, indexItems, sha256Hex, type CommunityInfo, type FileEntry, type Manifest, type SequenceInfo, type SerendipityCalibration, type Space, type SpaceInfo, type Title } from './format.ts';
import type { Snapshot } from './snapshot.ts';
import { isCoverOrigin, isCoverRef, isSnapshotPath, isWebUrl } from './paths.ts';
import { LEXICAL_ENCODER } from '../text/lexical.ts';

/**
 * Returns a file's bytes; throws (ideally a DataError) when the file cannot be read. `onBytes`, when the reader
 * can, hears how many bytes of the file have arrived so far (for one progress bar over every file).
 */
export type ReadFile = (path: string, onBytes?: (received: number) => void) => Promise<Uint8Array>;

const MANIFEST = 'manifest.json';

/** Deeper than any field a snapshot has; more would overflow the stack of whatever writes the value back. */
const MAX_JSON_DEPTH = 32;

function parseJson(bytes: Uint8Array, file: string): unknown {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new DataError(file, `is not valid JSON (${(e as Error).message})`);
  }
  // Iterative, so that checking depth cannot overflow the stack itself.
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth > MAX_JSON_DEPTH) throw new DataError(file, `nests deeper than ${MAX_JSON_DEPTH} levels`);
    for (const child of Object.values(v)) if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
  }
  return value;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function need<T>(ok: boolean, value: T, file: string, field: string, what: string, item?: string): T {
  if (!ok) throw new DataError(file, `must be ${what}`, { field, item });
  return value;
}

function validateManifest(raw: unknown): Manifest {
  const f = MANIFEST;
  if (!isObject(raw)) throw new DataError(f, 'is not a JSON object');
  if (raw.format !== SNAPSHOT_FORMAT) throw new DataError(f, `format is ${JSON.stringify(raw.format)}, expected "${SNAPSHOT_FORMAT}"`, { field: 'format' });
  if (!SNAPSHOT_VERSIONS_READ.includes(raw.version as number))
    throw new DataError(f, `unknown format version ${JSON.stringify(raw.version)} (this app reads versions ${SNAPSHOT_VERSIONS_READ.join(' and ')})`, { field: 'version' });
  const str = (k: string) => need(typeof raw[k] === 'string' && (raw[k] as string).length > 0, raw[k] as string, f, k, 'a non-empty string');
  str('name');
  str('builtAt');
  str('contentHash');
  str('items');
  need(Number.isInteger(raw.itemCount) && (raw.itemCount as number) > 0, 0, f, 'itemCount', 'a positive integer');
  if (!isObject(raw.files)) throw new DataError(f, 'must be an object of file entries', { field: 'files' });
  // Own entries only, in an object with no prototype: "constructor" or "__proto__" are names like any other.
  const files: Record<string, unknown> = Object.assign(Object.create(null), raw.files);
  raw.files = files;
  for (const [path, e] of Object.entries(files)) {
    if (!isSnapshotPath(path)) throw new DataError(f, `lists ${JSON.stringify(path)}, which is not a path inside the snapshot folder`, { field: 'files' });
    if (!isObject(e) || !Number.isInteger(e.bytes) || (e.bytes as number) < 0 || typeof e.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(e.sha256))
      throw new DataError(f, `entry for ${path} must have a non-negative integer bytes and a hex sha256`, { field: 'files' });
  }
  const listed = (p: unknown) => typeof p === 'string' && Object.hasOwn(files, p);
  if (raw.coverOrigins !== undefined)
    need(Array.isArray(raw.coverOrigins) && raw.coverOrigins.every(isCoverOrigin), 0, f, 'coverOrigins', 'a list of https origins (https://host[:port])');
  if (!Array.isArray(raw.spaces)) throw new DataError(f, 'must be an array', { field: 'spaces' });
  const names = new Set<string>();
  raw.spaces.forEach((s: unknown, i: number) => {
    const field = `spaces[${i}]`;
    if (!isObject(s)) throw new DataError(f, 'must be an object', { field });
    need(typeof s.name === 'string' && !!s.name, 0, f, `${field}.name`, 'a non-empty string');
    if (names.has(s.name as string)) throw new DataError(f, `repeats space "${s.name}"`, { field: `${field}.name` });
    names.add(s.name as string);
    need(Number.isInteger(s.dim) && (s.dim as number) > 0, 0, f, `${field}.dim`, 'a positive integer');
    const dtypes = raw.version === 1 ? ['float32'] : SPACE_DTYPES;
    if (!dtypes.includes(s.dtype as never)) throw new DataError(f, `unsupported dtype ${JSON.stringify(s.dtype)} (version ${raw.version} reads ${dtypes.join(', ')})`, { field: `${field}.dtype` });
    need(listed(s.file), 0, f, `${field}.file`, 'a file listed in "files"');
    need(isObject(s.encoder) && typeof (s.encoder as Record<string, unknown>).name === 'string', 0, f, `${field}.encoder`, 'an object with a name');
    const enc = s.encoder as Record<string, unknown>;
    if (enc.files !== undefined) need(isObject(enc.files) && Object.values(enc.files).every(listed), 0, f, `${field}.encoder.files`, 'an object of files listed in "files"');
    if (enc.params !== undefined) need(isObject(enc.params), 0, f, `${field}.encoder.params`, 'an object');
    const vocabulary = isObject(enc.params) ? enc.params.vocabulary : undefined;
    if (vocabulary !== undefined) need(Array.isArray(vocabulary) && vocabulary.every((v) => typeof v === 'string'), 0, f, `${field}.encoder.params.vocabulary`, 'an array of strings');
  });
  if (!listed(raw.items)) throw new DataError(f, 'names a file not listed in "files"', { field: 'items' });
  if (!isObject(raw.popularity) || !Array.isArray(raw.popularity.signals)) throw new DataError(f, 'must be { signals: [...] }', { field: 'popularity' });
  if (raw.community !== undefined) validateCommunityInfo(raw.community, listed);
  if (raw.sequence !== undefined) {
    const q = raw.sequence;
    if (!isObject(q)) throw new DataError(f, 'must be an object', { field: 'sequence' });
    if (q.name !== SEQUENCE_MODEL || q.version !== SEQUENCE_VERSION)
      throw new DataError(f, `is ${JSON.stringify(q.name)} version ${JSON.stringify(q.version)}; this app reads ${SEQUENCE_MODEL} version ${SEQUENCE_VERSION}`, { field: 'sequence' });
    validateSequenceSpec(q.spec, f, 'sequence.spec');
    need(listed(q.file), 0, f, 'sequence.file', 'a file listed in "files"');
  }
  return raw as unknown as Manifest;
}

function validateCommunityInfo(c: unknown, listed: (p: unknown) => boolean): void {
  const f = MANIFEST;
  if (!isObject(c)) throw new DataError(f, 'must be an object', { field: 'community' });
  for (const k of ['users', 'interactions'] as const) need(Number.isInteger(c[k]) && (c[k] as number) >= 0, 0, f, `community.${k}`, 'a non-negative integer');
  if (c.model !== undefined) {
    const m = c.model;
    if (!isObject(m)) throw new DataError(f, 'must be an object', { field: 'community.model' });
    if (m.name !== COMMUNITY_MODEL || m.version !== COMMUNITY_VERSION)
      throw new DataError(f, `is ${JSON.stringify(m.name)} version ${JSON.stringify(m.version)}; this app reads ${COMMUNITY_MODEL} version ${COMMUNITY_VERSION}`, { field: 'community.model' });
    need(Number.isInteger(m.neighbours) && (m.neighbours as number) > 0, 0, f, 'community.model.neighbours', 'a positive integer');
    const files = isObject(m.files) ? m.files : {};
    need(listed(files.index), 0, f, 'community.model.files.index', 'a file listed in "files"');
    need(listed(files.weight), 0, f, 'community.model.files.weight', 'a file listed in "files"');
  }
  if (c.categories !== undefined) {
    const k = c.categories;
    need(isObject(k) && listed(k.file) && Number.isInteger(k.dim) && (k.dim as number) > 0, 0, f, 'community.categories', 'a listed file and a positive integer dim');
  }
  if (c.learned !== undefined) {
    const l = c.learned;
    if (!isObject(l) || !isObject(l.weights)) throw new DataError(f, 'must be an object with weights', { field: 'community.learned' });
    for (const [s, w] of Object.entries(l.weights)) need(typeof w === 'number' && Number.isFinite(w) && w >= 0, 0, f, `community.learned.weights.${s}`, 'a finite number ≥ 0');
    for (const k of ['temperature', 'ratingWeight'] as const) need(typeof l[k] === 'number' && Number.isFinite(l[k]), 0, f, `community.learned.${k}`, 'a finite number');
    if (!isObject(l.center)) throw new DataError(f, 'must be an object', { field: 'community.learned.center' });
    for (const [s, v] of Object.entries(l.center)) need(typeof v === 'number' && Number.isFinite(v), 0, f, `community.learned.center.${s}`, 'a finite number');
    need(typeof l.halfLifeShare === 'number' && (l.halfLifeShare as number) > 0, 0, f, 'community.learned.halfLifeShare', 'a positive number');
    if (l.strength !== undefined) need(typeof l.strength === 'number' && Number.isFinite(l.strength) && l.strength >= 0, 0, f, 'community.learned.strength', 'a finite number ≥ 0');
  }
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
  const { index: indexFile, weight: weightFile } = info.model.files;
  const ib = read(indexFile);
  if (ib.byteLength !== itemCount * N * 4)
    throw new DataError(indexFile, `holds ${ib.byteLength} bytes but ${itemCount} titles × ${N} neighbours × 4 needs ${itemCount * N * 4} (a model of another catalog?)`, { field: 'community.model.neighbours' });
  const index = new Uint32Array(itemCount * N);
  new Uint8Array(index.buffer).set(ib);
  const bad = index.findIndex((i) => i >= itemCount);
  if (bad >= 0) throw new DataError(indexFile, `names row ${index[bad]}, but the catalog has ${itemCount} titles`, { item: String(Math.floor(bad / N)), field: 'community.model' });
  const weight = floats(read(weightFile), itemCount * N, weightFile, 'community.model', `${itemCount} titles × ${N} neighbours`);
  let categorySimilarity: Float32Array = new Float32Array(0);
  if (info.categories) {
    const { file, dim } = info.categories;
    if (genre && genre.dim !== dim) throw new DataError(MANIFEST, `has ${dim} categories but the genre space has ${genre.dim}`, { field: 'community.categories.dim' });
    categorySimilarity = floats(read(file), dim * dim, file, 'community.categories', `${dim} × ${dim} categories`);
  }
  return { model: { itemCount, neighbours: N, index, weight }, categorySimilarity, ...(info.learned ? { learned: info.learned } : {}) };
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

const OPTIONAL_NUMBERS = ['rating', 'likes', 'comments', 'votes', 'year', 'interactions'] as const;
const OPTIONAL_STRINGS = ['author', 'age'] as const;

function validateItems(raw: unknown, manifest: Manifest): Title[] {
  const f = manifest.items;
  if (!Array.isArray(raw)) throw new DataError(f, 'must be a JSON array of items');
  if (raw.length !== manifest.itemCount) throw new DataError(f, `has ${raw.length} items, the manifest says ${manifest.itemCount}`);
  const seen = new Set<string>();
  const origins = manifest.coverOrigins ?? [];
  return raw.map((t: unknown, i: number) => {
    if (!isObject(t)) throw new DataError(f, 'must be an object', { item: `#${i}` });
    if (typeof t.id !== 'string' || !t.id) throw new DataError(f, 'is missing', { item: `#${i}`, field: 'id' });
    const id = t.id;
    if (seen.has(id)) throw new DataError(f, 'repeats an id', { item: id, field: 'id' });
    seen.add(id);
    need(typeof t.title === 'string' && !!t.title, 0, f, 'title', 'a non-empty string', id);
    need(typeof t.synopsis === 'string', 0, f, 'synopsis', 'a string', id);
    need(Array.isArray(t.genres) && t.genres.every((g) => typeof g === 'string'), 0, f, 'genres', 'an array of strings', id);
    need(typeof t.popularity === 'number' && t.popularity >= 0 && t.popularity <= 1, 0, f, 'popularity', 'a number in [0, 1]', id);
    for (const k of OPTIONAL_NUMBERS) if (t[k] !== undefined) need(typeof t[k] === 'number' && Number.isFinite(t[k]), 0, f, k, 'a finite number', id);
    for (const k of OPTIONAL_STRINGS) if (t[k] !== undefined) need(typeof t[k] === 'string', 0, f, k, 'a string', id);
    for (const k of ['cover', 'coverSquare'] as const)
      if (t[k] !== undefined) need(isCoverRef(t[k], origins), 0, f, k, `a path inside the snapshot${origins.length ? ` or an https URL on ${origins.join(', ')}` : ' (covers on other origins need the manifest\'s coverOrigins)'}`, id);
    if (t.sourceUrl !== undefined) need(isWebUrl(t.sourceUrl), 0, f, 'sourceUrl', 'an http(s) URL', id);
    if (t.completed !== undefined) need(typeof t.completed === 'boolean', 0, f, 'completed', 'true or false', id);
    return t as unknown as Title;
  });
}

/**
 * A sparse space whose dense rows would take more than this many bytes stays sparse in memory (Space.csr): at 100k
 * titles the lexical space is ~400 MB dense and ~90 MB sparse. Below it, dense rows scan faster.
 */
const SPARSE_IN_MEMORY_ABOVE = 64 * 2 ** 20;

function decodeSpace(info: SpaceInfo, bytes: Uint8Array, items: Title[], denseLimit: number): Space {
  const ctx = { file: info.file, field: `spaces.${info.name}`, itemOf: (row: number) => items[row].id };
  // The genre space stays dense whatever its size: it is small by nature, and serendipity reads it row by row.
  const { data, csr } = decodeSpaceRows(bytes, items.length, info.dim, info.dtype, ctx, info.name !== 'genre' && items.length * info.dim * 4 > denseLimit);
  return { name: info.name, dim: info.dim, data, ...(csr ? { csr } : {}), normalized: info.normalized, encoder: info.encoder };
}

/** Reads one listed file and checks its size and hash against the manifest. */
async function readChecked(read: ReadFile, path: string, entry: FileEntry, onBytes?: (received: number) => void): Promise<Uint8Array> {
  const bytes = await read(path, onBytes);
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
 * weights and map): the widget's profile.
 */
export type SnapshotProfile = 'app' | 'ranking';

/**
 * A store of snapshot files by content hash (the app's is Cache Storage: src/core/snapshot/file-cache.ts). The loader
 * checks every hit's size and SHA-256 like a download, and its failures only cost a download.
 */
export interface FileCache {
  get(entry: FileEntry): Promise<Uint8Array | undefined>;
  put(entry: FileEntry, bytes: Uint8Array): Promise<void>;
  /** After a load: the files of this manifest (their hashes) are the ones to keep. */
  retain(sha256s: string[]): Promise<void>;
}

export interface LoadOptions {
  onProgress?: (p: LoadProgress) => void;
  profile?: SnapshotProfile;
  cache?: FileCache;
  /** Sparse spaces larger than this dense stay sparse in memory (default SPARSE_IN_MEMORY_ABOVE; 0: always). */
  denseLimitBytes?: number;
}

/** Loads, checks and decodes a snapshot; every file is requested at once, then decoded in manifest order. */
export async function loadSnapshot(read: ReadFile, options: LoadOptions = {}): Promise<Snapshot> {
  const manifest = validateManifest(parseJson(await read(MANIFEST), MANIFEST));
  const expectedHash = await contentHashOf(manifest.files);
  if (expectedHash !== undefined && expectedHash !== manifest.contentHash)
    throw new DataError(MANIFEST, 'contentHash does not match the listed files', { field: 'contentHash' });
  const encoderFiles = new Set<string>();
  for (const s of manifest.spaces) {
    for (const p of Object.values(s.encoder.files ?? {})) {
      if (!manifest.files[p]) throw new DataError(MANIFEST, `space ${s.name} needs ${p}, which "files" does not list`, { field: 'spaces' });
      encoderFiles.add(p);
    }
  }
  const modelFiles = [
    ...(manifest.community?.model ? Object.values(manifest.community.model.files) : []),
    ...(manifest.community?.categories ? [manifest.community.categories.file] : []),
    ...(manifest.sequence ? [manifest.sequence.file] : []),
  ];
  const wanted = [...new Set([manifest.items, ...manifest.spaces.map((s) => s.file), ...(options.profile === 'ranking' ? [] : encoderFiles), ...modelFiles])];
  const total = wanted.reduce((sum, p) => sum + manifest.files[p].bytes, 0);
  const received = new Map<string, number>();
  let reported = -1;
  const report = () => {
    const loaded = [...received.values()].reduce((a, b) => a + b, 0);
    if (loaded !== reported) options.onProgress?.({ loaded: (reported = loaded), total });
  };
  report();
  // All requests at once: the network, not the order of files, sets the pace. The first failure wins.
  const cache = options.cache;
  const files = new Map(
    await Promise.all(
      wanted.map(async (p) => {
        const entry = manifest.files[p];
        const cached = await cache?.get(entry).catch(() => undefined);
        let bytes = cached && cached.byteLength === entry.bytes && (await sha256Hex(cached)) === entry.sha256 ? cached : undefined;
        if (!bytes) {
          bytes = await readChecked(read, p, entry, (n) => {
            received.set(p, n);
            report();
          });
          // A cache: a full disk only costs this download again next time.
          await cache?.put(entry, bytes).catch(() => undefined);
        }
        received.set(p, bytes.byteLength);
        report();
        return [p, bytes] as const;
      }),
    ),
  );
  await cache?.retain(wanted.map((p) => manifest.files[p].sha256)).catch(() => undefined);

  const items = validateItems(parseJson(files.get(manifest.items)!, manifest.items), manifest);
  const spaces = new Map<string, Space>();
  for (const info of manifest.spaces) spaces.set(info.name, decodeSpace(info, files.get(info.file)!, items, options.denseLimitBytes ?? SPARSE_IN_MEMORY_ABOVE));
  const blobs = new Map<string, Uint8Array>();
  for (const p of [...encoderFiles, ...modelFiles]) if (files.has(p)) blobs.set(p, files.get(p)!);
  const styleMap = manifest.spaces.find((s) => s.name === 'style')?.encoder.files?.map;
  if (styleMap && blobs.has(styleMap)) decodeStyleMap(blobs.get(styleMap)!, items.length, styleMap); // size and values, before anything draws it
  checkEncoderFiles(manifest, blobs);
  const genre = spaces.get('genre');
  const community = manifest.community && decodeCommunity(manifest.community, (p) => blobs.get(p)!, items.length, genre);
  const sequence = manifest.sequence && decodeSequence(manifest.sequence, blobs.get(manifest.sequence.file)!, items.length, genre);
  const calibration = community?.learned?.strength === undefined ? calibrationOf(manifest) : undefined;
  return { manifest, items, spaces, blobs, indexOf: indexItems(items), ...(community ? { community } : {}), ...(sequence ? { sequence } : {}), ...(calibration ? { calibration } : {}) };
}

/**
 * `manifest.calibration.serendipity`, checked. Missing or invalid, the snapshot still loads: the ranker then falls
 * back to the config's last-resort serendipity price, and the console says so (an operator should rebuild).
 */
function calibrationOf(manifest: Manifest): SerendipityCalibration | undefined {
  const fallback = (why: string) => {
    console.warn(`toonpick: ${MANIFEST}: calibration.serendipity ${why}; the Surprise slider uses the config's fallback price (rebuild the snapshot to calibrate it)`);
    return undefined;
  };
  const c = (manifest as { calibration?: unknown }).calibration;
  // Without a genre space there is no serendipity to price: nothing is missing.
  if (c === undefined && !manifest.spaces.some((s) => s.name === 'genre')) return undefined;
  if (c === undefined) return fallback('is missing');
  const s = isObject(c) ? c.serendipity : undefined;
  if (!isObject(s)) return fallback('is not an object');
  const finite = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  if (!finite(s.strength) || (s.strength as number) < 0) return fallback('has no finite strength ≥ 0');
  if (!Array.isArray(s.spaces) || !s.spaces.every((x) => typeof x === 'string')) return fallback('has no list of spaces');
  if (s.readers !== 'pseudo' && s.readers !== 'validation') return fallback('names no kind of readers');
  if (!Number.isInteger(s.count) || (s.count as number) < 1) return fallback('has no reader count');
  for (const k of ['accuracy', 'similarity'] as const) {
    const v = s[k];
    if (!Array.isArray(v) || v.length !== 2 || !v.every(finite)) return fallback(`has no ${k} pair`);
  }
  return s as unknown as SerendipityCalibration;
}

/** A ReadFile over HTTP(S) relative to a base URL; a missing file is a DataError naming it. */
export function httpReader(base: string | URL, fetchFn: typeof fetch = fetch): ReadFile {
  const root = new URL(base);
  if (!root.pathname.endsWith('/')) root.pathname += '/';
  return async (path, onBytes) => {
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
      // Read as it arrives, so the progress bar moves within large files too (decoded bytes, as the manifest counts).
      const reader = res.body.getReader();
      const chunks: Uint8Array[] = [];
      let received = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        chunks.push(value);
        received += value.byteLength;
        onBytes(received);
      }
      const out = new Uint8Array(received);
      let at = 0;
      for (const c of chunks) {
        out.set(c, at);
        at += c.byteLength;
      }
      return out;
    } catch (e) {
      throw failed((e as Error).message);
    }
  };
}
