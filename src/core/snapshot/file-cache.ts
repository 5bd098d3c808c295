/**
 * The snapshot's files kept on the reader's device by content hash (Cache Storage), so that a second visit of an
 * unchanged snapshot downloads only `manifest.json`, and a snapshot that changed downloads only the files that did.
 * Whatever snapshot the page opened is kept (not only the demo), with the files of the two most recent manifests;
 * older ones are dropped. Its manifest is kept by URL too (`withKeptManifest`): offline, the last one opens it. Every hit is checked against its SHA-256 by the loader before use, so a damaged entry is
 * downloaded again, never used. Where Cache Storage is missing (an insecure origin) loads simply go to the network.
 */
import type { FileCache, ReadFile } from './load.ts';

const CACHE = 'toonpick-snapshot-files';
/** Entries live under a made-up origin: they are addressed by hash, not by where they came from. */
const keyOf = (sha256: string) => `https://snapshot-files.toonpick.invalid/${sha256}`;
const RECENT = keyOf('recent-manifests');
/** How many manifests' files are kept. */
const KEEP = 2;

export function snapshotFileCache(): FileCache | undefined {
  if (typeof caches === 'undefined') return undefined;
  const open = () => caches.open(CACHE);
  return {
    async get(entry) {
      const hit = await (await open()).match(keyOf(entry.sha256));
      return hit ? new Uint8Array(await hit.arrayBuffer()) : undefined;
    },
    async put(entry, bytes) {
      await (await open()).put(keyOf(entry.sha256), new Response(bytes as Uint8Array<ArrayBuffer>, { headers: { 'content-type': 'application/octet-stream' } }));
    },
    async retain(hashes) {
      const cache = await open();
      const recent: string[][] = (await (await cache.match(RECENT))?.json().catch(() => null)) ?? [];
      const sets = [hashes, ...recent.filter((r) => r.join() !== hashes.join())].slice(0, KEEP);
      await cache.put(RECENT, Response.json(sets));
      const keep = new Set(sets.flat().map(keyOf));
      for (const request of await cache.keys()) {
        if (request.url !== RECENT && !request.url.startsWith(keyOf('manifest/')) && !keep.has(request.url)) await cache.delete(request);
      }
    },
  };
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
