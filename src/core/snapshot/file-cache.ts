/**
 * The snapshot's files kept on the reader's device by content hash, so that a second visit of an unchanged snapshot
 * downloads only `manifest.json`, and a snapshot that changed downloads only the files that did. Whatever snapshot
 * the page opened is kept (not only the demo), with the files of the two most recent manifests; older ones are
 * dropped. Its manifest is kept by URL too (`withKeptManifest`): offline, the last one opens it. A file is put only
 * after the loader checked its size and SHA-256, and every hit is checked before use, so a damaged entry is
 * downloaded again, never used: in OPFS by a checksum written with the file (`checksum`: ~10 ms for a 60 MB file,
 * where its SHA-256 took 270–680 ms in the same worker), in Cache Storage by its SHA-256. In OPFS a file can carry
 * notes of what was learnt from it (`FileCache.note`: that its rows passed their check, the titles' ranking core),
 * kept and dropped with it.
 *
 * Where the files live is chosen here, once: the origin private file system (OPFS) where the browser has it, since
 * it gives a file back ~3× faster than Cache Storage (a 60 MB file in a worker, measured in Chromium: 200–270 ms
 * against 650–890 ms: the largest step of a warm visit to a 100k-title catalog); else Cache Storage; where neither
 * exists (an insecure origin) loads simply go to the network. A file OPFS could not take is kept in Cache Storage
 * instead, and a file an older version kept there is still found, and moved over.
 */
import { sha256Hex } from './format.ts';
import type { FileCache, ReadFile } from './load.ts';

const CACHE = 'toonpick-snapshot-files';
/** Cache Storage entries live under a made-up origin: they are addressed by hash, not by where they came from. */
const keyOf = (sha256: string) => `https://snapshot-files.toonpick.invalid/${sha256}`;
const RECENT = 'recent-manifests';
/** A note on a kept file (FileCache.note), kept beside it: `<sha256>.<kind>`, its bytes followed by a checksum. */
const noteName = (sha256: string, kind: string) => `${sha256}.${kind}`;
/** How many manifests' files are kept. */
const KEEP = 2;

/** Which manifests' files to keep: this one's first, then the most recent others, KEEP in all. */
function recentSets(hashes: string[], recent: unknown): string[][] {
  const previous = Array.isArray(recent) ? recent.filter((r): r is string[] => Array.isArray(r) && r.every((h) => typeof h === 'string')) : [];
  return [hashes, ...previous.filter((r) => r.join() !== hashes.join())].slice(0, KEEP);
}

function parseOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The origin private file system's root, where this realm has one. */
function opfsRoot(): (() => Promise<FileSystemDirectoryHandle>) | undefined {
  const storage = (globalThis as { navigator?: { storage?: { getDirectory?: () => Promise<FileSystemDirectoryHandle> } } }).navigator?.storage;
  return typeof storage?.getDirectory === 'function' ? storage.getDirectory.bind(storage) : undefined;
}

export function snapshotFileCache(): FileCache | undefined {
  const root = opfsRoot();
  if (root) return opfsFileCache(root);
  return typeof caches === 'undefined' ? undefined : cacheStorageFileCache();
}

function cacheStorageFileCache(): FileCache {
  const open = () => caches.open(CACHE);
  return {
    async get(entry) {
      const hit = await (await open()).match(keyOf(entry.sha256));
      const bytes = hit ? new Uint8Array(await hit.arrayBuffer()) : undefined;
      return bytes && (await sha256Hex(bytes)) === entry.sha256 ? bytes : undefined;
    },
    async put(entry, bytes) {
      await (await open()).put(keyOf(entry.sha256), new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'application/octet-stream' } }));
    },
    async retain(hashes) {
      const cache = await open();
      const sets = recentSets(hashes, await (await cache.match(keyOf(RECENT)))?.json().catch(() => null));
      await cache.put(keyOf(RECENT), Response.json(sets));
      const keep = new Set(sets.flat().map(keyOf));
      for (const request of await cache.keys()) {
        if (request.url !== keyOf(RECENT) && !request.url.startsWith(keyOf('manifest/')) && !keep.has(request.url)) await cache.delete(request);
      }
    },
  };
}

/**
 * A checksum of `bytes` good enough to tell a damaged file from the one written (not a forgery: whatever could forge
 * it could as well rewrite the reader's own storage). FNV-1a over 32-bit words in four lanes, so that the CPU
 * multiplies them side by side: any change to one word always changes the sum, and other changes do but for a 2⁻³²
 * chance.
 */
export function checksum(bytes: Uint8Array): number {
  const sum = new RunningChecksum();
  sum.update(bytes);
  return sum.digest();
}

/** `checksum` of bytes that come in pieces (a file read slice by slice): each piece but the last a multiple of 16 bytes. */
export class RunningChecksum {
  private lanes = [0x811c9dc5 | 0, 0x01000193, 0x6a09e667 | 0, 0xbb67ae85 | 0];
  private length = 0;
  private ended = false;

  update(bytes: Uint8Array): void {
    if (this.ended) throw new Error('checksum: only the last piece may be of a length that is not a multiple of 16');
    this.ended = bytes.byteLength % 16 !== 0;
    const whole = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    // Signed words: an unsigned one above 2³¹ would be a heap number wherever the loop is not yet optimised.
    const words = new Int32Array(whole.buffer, whole.byteOffset, whole.byteLength >>> 2);
    let [a, b, c, d] = this.lanes;
    const n = words.length & ~3;
    for (let i = 0; i < n; i += 4) {
      a = Math.imul(a ^ words[i], 0x01000193);
      b = Math.imul(b ^ words[i + 1], 0x01000193);
      c = Math.imul(c ^ words[i + 2], 0x01000193);
      d = Math.imul(d ^ words[i + 3], 0x01000193);
    }
    for (let i = n; i < words.length; i++) a = Math.imul(a ^ words[i], 0x01000193);
    for (let i = words.length * 4; i < whole.length; i++) b = Math.imul(b ^ whole[i], 0x01000193);
    this.lanes = [a, b, c, d];
    this.length += whole.length;
  }

  digest(): number {
    const [a, b, c, d] = this.lanes;
    let h = Math.imul(a ^ this.length, 0x01000193);
    h = Math.imul(h ^ b, 0x01000193);
    h = Math.imul(h ^ c, 0x01000193);
    return Math.imul(h ^ d, 0x01000193) >>> 0;
  }
}

/** The 4 bytes written after a file's own: its checksum, little-endian. */
const TRAILER = 4;

/**
 * A file's bytes as written by `writeFile`, or undefined when its checksum says it is not: through a sync access
 * handle in a worker (the fastest read), else as a File.
 */
async function readFile(handle: FileSystemFileHandle, expected: number): Promise<Uint8Array | undefined> {
  let bytes: Uint8Array | undefined;
  const tail = new Uint8Array(TRAILER);
  // Another tab's worker may hold the file's lock for a moment: then it is read as a File.
  const h = await syncHandle(handle);
  if (h) {
    try {
      const size = h.getSize() - TRAILER;
      if (size < 0 || (expected > 0 && size !== expected)) return undefined;
      bytes = new Uint8Array(size);
      if (h.read(bytes, { at: 0 }) !== size || h.read(tail, { at: size }) !== TRAILER) return undefined;
    } finally {
      h.close();
    }
  } else {
    const file = await handle.getFile();
    const size = file.size - TRAILER;
    if (size < 0 || (expected > 0 && size !== expected)) return undefined;
    bytes = new Uint8Array(await file.slice(0, size).arrayBuffer());
    tail.set(new Uint8Array(await file.slice(size).arrayBuffer()));
  }
  return new DataView(tail.buffer).getUint32(0, true) === checksum(bytes) ? bytes : undefined;
}

interface SyncHandle {
  getSize(): number;
  read(into: Uint8Array, options: { at: number }): number;
  write(from: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  flush(): void;
  close(): void;
}

/** The file's sync access handle: in a worker, unless another holds its lock; undefined on a page. */
async function syncHandle(handle: FileSystemFileHandle): Promise<SyncHandle | undefined> {
  const sync = (handle as { createSyncAccessHandle?: () => Promise<SyncHandle> }).createSyncAccessHandle;
  return typeof sync === 'function' ? sync.call(handle).catch(() => undefined) : undefined;
}

/** `FileCache.scan` of one kept file through its sync access handle (no handle: false, and the loader reads it whole). */
async function scanFile(handle: FileSystemFileHandle, expected: number, chunkBytes: number, visit: (piece: Uint8Array, at: number) => void | Promise<void>): Promise<boolean> {
  const h = await syncHandle(handle);
  if (!h) return false;
  try {
    const size = h.getSize() - TRAILER;
    if (size !== expected) return false;
    const step = Math.max(16, chunkBytes - (chunkBytes % 16));
    const buffer = new Uint8Array(Math.min(step, size));
    const sum = new RunningChecksum();
    for (let at = 0; at < size; at += step) {
      const piece = buffer.subarray(0, Math.min(step, size - at));
      if (h.read(piece, { at }) !== piece.byteLength) return false;
      sum.update(piece);
      await visit(piece, at);
    }
    const tail = new Uint8Array(TRAILER);
    return h.read(tail, { at: size }) === TRAILER && new DataView(tail.buffer).getUint32(0, true) === sum.digest();
  } finally {
    h.close();
  }
}

/** Writes `bytes` then their checksum (`readFile` checks it); where that fails, no file is left under `name`. */
async function writeFile(dir: FileSystemDirectoryHandle, name: string, bytes: Uint8Array): Promise<void> {
  try {
    await writeFileIn(await dir.getFileHandle(name, { create: true }), bytes);
  } catch (e) {
    await dir.removeEntry(name).catch(() => undefined);
    throw e;
  }
}

async function writeFileIn(handle: FileSystemFileHandle, bytes: Uint8Array): Promise<void> {
  const tail = new Uint8Array(TRAILER);
  new DataView(tail.buffer).setUint32(0, checksum(bytes), true);
  // In a worker, straight into the file (createWritable sends every byte to the browser's process first: at 100k
  // titles it held the snapshot worker ~0.35 s longer); a write cut short fails its checksum when read.
  const h = await syncHandle(handle);
  if (h) {
    try {
      h.truncate(0);
      if (h.write(bytes, { at: 0 }) !== bytes.byteLength || h.write(tail, { at: bytes.byteLength }) !== TRAILER) throw new Error('short write');
      h.flush();
    } finally {
      h.close();
    }
    return;
  }
  // On a page: written to a swap file and swapped in on close, so a reader never sees half a file.
  const w = await handle.createWritable();
  try {
    await w.write(bytes as Uint8Array<ArrayBuffer>);
    await w.write(tail);
    await w.close();
  } catch (e) {
    await w.abort().catch(() => undefined);
    throw e;
  }
}

function opfsFileCache(root: () => Promise<FileSystemDirectoryHandle>): FileCache {
  let dir: Promise<FileSystemDirectoryHandle> | undefined;
  // Cache Storage backs OPFS up: for a browser that has the API but refuses it (a private window) or cannot write a
  // file where this runs (no createWritable on a page in older Safari), and for the files an older version kept.
  const fallback = typeof caches === 'undefined' ? undefined : cacheStorageFileCache();
  const open = () => (dir ??= root().then((r) => r.getDirectoryHandle(CACHE, { create: true })));
  const refused = async () => !(await open().then(() => true, () => false));
  const dropFromCacheStorage = async (sha256: string) => (await caches.open(CACHE)).delete(keyOf(sha256));
  const cache: FileCache = {
    async get(entry) {
      if (await refused()) return fallback?.get(entry);
      const handle = await (await open()).getFileHandle(entry.sha256).catch(() => undefined);
      const bytes = handle && (await readFile(handle, entry.bytes).catch(() => undefined));
      if (bytes) return bytes;
      // In Cache Storage (an older version's, or one this browser could not write here): moved here when it can be.
      const kept = await fallback?.get(entry).catch(() => undefined);
      if (kept && (await writeFile(await open(), entry.sha256, kept).then(() => true, () => false))) await dropFromCacheStorage(entry.sha256).catch(() => undefined);
      return kept;
    },
    async holds(entry) {
      return !(await refused()) && (await keptIn(await open(), entry.sha256, entry.bytes)) !== undefined;
    },
    async scan(entry, chunkBytes, visit) {
      if (await refused()) return false;
      const handle = await (await open()).getFileHandle(entry.sha256).catch(() => undefined);
      return handle ? scanFile(handle, entry.bytes, chunkBytes, visit) : false;
    },
    async note(entry, kind) {
      if (await refused()) return undefined;
      const handle = await (await open()).getFileHandle(noteName(entry.sha256, kind)).catch(() => undefined);
      return handle && (await readFile(handle, 0).catch(() => undefined));
    },
    async setNote(entry, kind, value) {
      if (!(await refused())) await writeFile(await open(), noteName(entry.sha256, kind), value);
    },
    async put(entry, bytes) {
      if (await refused()) return fallback?.put(entry, bytes);
      try {
        await writeFile(await open(), entry.sha256, bytes);
      } catch (e) {
        if (!fallback) throw e;
        await fallback.put(entry, bytes);
      }
    },
    async retain(hashes) {
      if (await refused()) return fallback?.retain(hashes);
      const d = await open();
      const read = await d.getFileHandle(RECENT).then((h) => readFile(h, 0)).catch(() => undefined);
      const kept = read && new TextDecoder().decode(read);
      const sets = recentSets(hashes, kept && parseOrNull(kept));
      // Unchanged on a visit to the same snapshot: not written again (a warm visit's load waits for this).
      const text = JSON.stringify(sets);
      if (text !== kept) await writeFile(d, RECENT, new TextEncoder().encode(text));
      const keep = new Set([RECENT, ...sets.flat()]);
      const names: string[] = [];
      for await (const name of (d as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
      // A note goes with its file.
      for (const name of names) if (!keep.has(name) && !keep.has(name.split('.')[0])) await d.removeEntry(name).catch(() => undefined);
      // Cache Storage keeps only what could not be moved here, and of the same versions.
      const old = typeof caches === 'undefined' ? undefined : await caches.open(CACHE).catch(() => undefined);
      const keepUrls = new Set([...keep].map(keyOf));
      for (const request of (await old?.keys()) ?? []) if (!request.url.startsWith(keyOf('manifest/')) && !keepUrls.has(request.url)) await old!.delete(request);
    },
  };
  return cache;
}

/** The file kept in `dir` under `sha256`, as a File, when it holds `bytes` and their checksum. */
async function keptIn(dir: FileSystemDirectoryHandle, sha256: string, bytes: number): Promise<Blob | undefined> {
  try {
    const blob = await (await dir.getFileHandle(sha256)).getFile();
    return blob.size === bytes + TRAILER ? blob : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `read`, except that each `manifest.json` read from the network is kept (by the snapshot's URL), and answers when
 * the network cannot: the snapshot that was open last still opens offline. The loader checks it like any other.
 */
export function withKeptManifest(read: ReadFile, base: URL): ReadFile {
  if (typeof caches === 'undefined') return read;
  const key = keyOf(`manifest/${encodeURIComponent(base.href)}`);
  return async (path, onBytes, expected) => {
    if (path !== 'manifest.json') return read(path, onBytes, expected);
    try {
      const bytes = await read(path, onBytes);
      await (await caches.open(CACHE)).put(key, new Response(bytes as Uint8Array<ArrayBuffer>)).catch(() => undefined);
      return bytes;
    } catch (e) {
      const kept = await (await caches.open(CACHE)).match(key).catch(() => undefined);
      if (kept) return new Uint8Array(await kept.arrayBuffer());
      throw e;
    }
  };
}
