/**
 * Loads and validates a snapshot from any file reader (fetch in the browser, fs in Node).
 * Nothing is trusted: every file is checked against the manifest's size and hash, every item field and
 * every vector value is checked, and the first problem is reported naming the file, item and field.
 */
import { DataError } from '../errors.ts';
import {
  SNAPSHOT_FORMAT,
  SNAPSHOT_VERSION,
  contentHashOf,
  indexItems,
  sha256Hex,
  type FileEntry,
  type Manifest,
  type Snapshot,
  type Space,
  type SpaceInfo,
  type Title,
} from './format.ts';

/** Returns a file's bytes; throws (ideally a DataError) when the file cannot be read. */
export type ReadFile = (path: string) => Promise<Uint8Array>;

const MANIFEST = 'manifest.json';

function parseJson(bytes: Uint8Array, file: string): unknown {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(bytes);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new DataError(file, `is not valid JSON (${(e as Error).message})`);
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function need<T>(ok: boolean, value: T, file: string, field: string, what: string, item?: string): T {
  if (!ok) throw new DataError(file, `must be ${what}`, { field, item });
  return value;
}

export function validateManifest(raw: unknown): Manifest {
  const f = MANIFEST;
  if (!isObject(raw)) throw new DataError(f, 'is not a JSON object');
  if (raw.format !== SNAPSHOT_FORMAT) throw new DataError(f, `format is ${JSON.stringify(raw.format)}, expected "${SNAPSHOT_FORMAT}"`, { field: 'format' });
  if (raw.version !== SNAPSHOT_VERSION)
    throw new DataError(f, `unknown format version ${JSON.stringify(raw.version)} (this app reads version ${SNAPSHOT_VERSION})`, { field: 'version' });
  const str = (k: string) => need(typeof raw[k] === 'string' && (raw[k] as string).length > 0, raw[k] as string, f, k, 'a non-empty string');
  str('name');
  str('builtAt');
  str('contentHash');
  str('items');
  need(Number.isInteger(raw.itemCount) && (raw.itemCount as number) > 0, 0, f, 'itemCount', 'a positive integer');
  if (!isObject(raw.files)) throw new DataError(f, 'must be an object of file entries', { field: 'files' });
  for (const [path, e] of Object.entries(raw.files)) {
    if (!isObject(e) || !Number.isInteger(e.bytes) || typeof e.sha256 !== 'string')
      throw new DataError(f, `entry for ${path} must have integer bytes and a sha256`, { field: 'files' });
  }
  if (!Array.isArray(raw.spaces)) throw new DataError(f, 'must be an array', { field: 'spaces' });
  const names = new Set<string>();
  raw.spaces.forEach((s: unknown, i: number) => {
    const field = `spaces[${i}]`;
    if (!isObject(s)) throw new DataError(f, 'must be an object', { field });
    need(typeof s.name === 'string' && !!s.name, 0, f, `${field}.name`, 'a non-empty string');
    if (names.has(s.name as string)) throw new DataError(f, `repeats space "${s.name}"`, { field: `${field}.name` });
    names.add(s.name as string);
    need(Number.isInteger(s.dim) && (s.dim as number) > 0, 0, f, `${field}.dim`, 'a positive integer');
    if (s.dtype !== 'float32') throw new DataError(f, `unsupported dtype ${JSON.stringify(s.dtype)} (version 1 reads float32)`, { field: `${field}.dtype` });
    need(typeof s.file === 'string' && !!(raw.files as Record<string, unknown>)[s.file as string], 0, f, `${field}.file`, 'a file listed in "files"');
    need(isObject(s.encoder) && typeof (s.encoder as Record<string, unknown>).name === 'string', 0, f, `${field}.encoder`, 'an object with a name');
  });
  if (!(raw.files as Record<string, unknown>)[raw.items as string]) throw new DataError(f, 'names a file not listed in "files"', { field: 'items' });
  if (!isObject(raw.popularity) || !Array.isArray(raw.popularity.signals)) throw new DataError(f, 'must be { signals: [...] }', { field: 'popularity' });
  return raw as unknown as Manifest;
}

const OPTIONAL_NUMBERS = ['rating', 'likes', 'comments', 'votes', 'year', 'interactions'] as const;
const OPTIONAL_STRINGS = ['author', 'age', 'sourceUrl', 'cover', 'coverSquare'] as const;

export function validateItems(raw: unknown, manifest: Manifest): Title[] {
  const f = manifest.items;
  if (!Array.isArray(raw)) throw new DataError(f, 'must be a JSON array of items');
  if (raw.length !== manifest.itemCount) throw new DataError(f, `has ${raw.length} items, the manifest says ${manifest.itemCount}`);
  const seen = new Set<string>();
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
    if (t.completed !== undefined) need(typeof t.completed === 'boolean', 0, f, 'completed', 'true or false', id);
    return t as unknown as Title;
  });
}

export function decodeSpace(info: SpaceInfo, bytes: Uint8Array, items: Title[]): Space {
  const expected = items.length * info.dim * 4;
  if (bytes.byteLength !== expected) {
    const rows = bytes.byteLength / 4 / items.length;
    throw new DataError(
      info.file,
      `holds ${bytes.byteLength} bytes but ${items.length} items × dim ${info.dim} × 4 needs ${expected}` +
        (Number.isInteger(rows) ? ` (wrong dimension: the data has ${rows} per item)` : ''),
      { field: `spaces.${info.name}.dim` },
    );
  }
  // Copy into an aligned buffer: a slice of a larger fetch may start at an odd offset.
  const data = new Float32Array(items.length * info.dim);
  new Uint8Array(data.buffer).set(bytes);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      const item = items[Math.floor(i / info.dim)].id;
      throw new DataError(info.file, `has a non-finite value (${data[i]}) in ${info.name}[${i % info.dim}]`, { item, field: info.name });
    }
  }
  return { name: info.name, dim: info.dim, data, normalized: info.normalized, encoder: info.encoder };
}

/** Reads one listed file and checks its size and hash against the manifest. */
async function readChecked(read: ReadFile, path: string, entry: FileEntry): Promise<Uint8Array> {
  const bytes = await read(path);
  if (bytes.byteLength !== entry.bytes)
    throw new DataError(path, `is ${bytes.byteLength} bytes, the manifest says ${entry.bytes}${bytes.byteLength < entry.bytes ? ' (truncated download?)' : ''}`);
  const hash = await sha256Hex(bytes);
  if (hash !== undefined && hash !== entry.sha256) throw new DataError(path, 'does not match its SHA-256 in the manifest (corrupted or replaced)');
  return bytes;
}

export interface LoadProgress {
  file: string;
  done: number;
  total: number;
}

export async function loadSnapshot(read: ReadFile, onProgress?: (p: LoadProgress) => void): Promise<Snapshot> {
  const manifest = validateManifest(parseJson(await read(MANIFEST), MANIFEST));
  const expectedHash = await contentHashOf(manifest.files);
  if (expectedHash !== undefined && expectedHash !== manifest.contentHash)
    throw new DataError(MANIFEST, 'contentHash does not match the listed files', { field: 'contentHash' });
  const binaries = new Set<string>(manifest.spaces.map((s) => s.file));
  for (const s of manifest.spaces) for (const p of Object.values(s.encoder.files ?? {})) binaries.add(p);
  const total = 1 + binaries.size;
  let done = 0;
  const step = (file: string) => onProgress?.({ file, done: ++done, total });

  const items = validateItems(parseJson(await readChecked(read, manifest.items, manifest.files[manifest.items]), manifest.items), manifest);
  step(manifest.items);
  const spaces = new Map<string, Space>();
  const blobs = new Map<string, Uint8Array>();
  for (const info of manifest.spaces) {
    spaces.set(info.name, decodeSpace(info, await readChecked(read, info.file, manifest.files[info.file]), items));
    step(info.file);
    for (const p of Object.values(info.encoder.files ?? {})) {
      if (!manifest.files[p]) throw new DataError(MANIFEST, `space ${info.name} needs ${p}, which "files" does not list`, { field: 'spaces' });
      blobs.set(p, await readChecked(read, p, manifest.files[p]));
      step(p);
    }
  }
  return { manifest, items, spaces, blobs, indexOf: indexItems(items) };
}

/** A ReadFile over HTTP(S) relative to a base URL; a missing file is a DataError naming it. */
export function httpReader(base: string | URL, fetchFn: typeof fetch = fetch): ReadFile {
  const root = new URL(base);
  if (!root.pathname.endsWith('/')) root.pathname += '/';
  return async (path) => {
    let res: Response;
    try {
      res = await fetchFn(new URL(path, root));
    } catch (e) {
      throw new DataError(path, `could not be downloaded from ${root.href} (${(e as Error).message})`);
    }
    if (!res.ok) throw new DataError(path, `could not be downloaded from ${root.href} (HTTP ${res.status})`);
    return new Uint8Array(await res.arrayBuffer());
  };
}
