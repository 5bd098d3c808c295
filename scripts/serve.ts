/**
 * A small static server for the built app (dist/): `npm start` and the browser tests use it.
 * Missing files answer 404, never index.html: a SPA fallback would get HTML cached as a model or
 * snapshot file (docs/pitfalls). Binds to 127.0.0.1 only.
 *
 * What a production host should do too (docs/snapshot.md, "Serving"):
 * - compression: a `.br` or `.gz` file beside the requested one (the snapshot builder writes them) is sent when the
 *   request's Accept-Encoding allows it; other compressible files are compressed once and kept in memory;
 * - validators: every answer has a strong ETag (a hash of the file), and `If-None-Match` answers 304;
 * - caching: content-addressed files (Vite's `assets/*-<hash>.*`, versioned covers, sprites and update deltas) are cached for a year, immutable; everything
 *   else is `no-cache` (revalidated with the ETag each time, so an unchanged file costs a 304);
 * - cross-origin isolation (`ISOLATION`): the app's page may then share memory with its workers.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
  '.webp': 'image/webp',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.svg': 'image/svg+xml',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
};

/** Worth compressing: text, JSON, wasm and the snapshot's binary spaces (not images, already compressed). */
const COMPRESSIBLE = /\.(html|js|mjs|css|json|webmanifest|wasm|svg|txt|f32|i8|csr|csr16|u32|bin)$/i;
/** Vite's content-addressed build output: the name changes whenever the bytes do. */
/** Named by their content: Vite's assets, a snapshot's versioned covers and sprite (`…~<hash>.webp`), update deltas. */
const IMMUTABLE = /(^|\/)assets\/[^/]+-[\w-]{8,}\.[a-z0-9]+$|(^|\/)covers(64)?\/[^/]+~[0-9a-f]{8}\.webp$|(^|\/)covers64\/_sprite-[0-9a-f]{12}\.webp$|(^|\/)delta\/[0-9a-f]{16}-[0-9a-f]{12}\.bin$/i;

/**
 * Headers that make the app's page cross-origin isolated, so that it may share memory with its workers: the snapshot
 * worker then writes a large catalog's rows straight into the page's WebAssembly memory (sparse-scan.ts
 * sharedRowsAvailable; without them the rows come as pieces the page copies in, as before). `credentialless` still
 * lets the page show images from another origin (an operator's covers on a CDN) without CORP headers of theirs, and
 * `cross-origin` CORP lets an isolated site of its own embed the widget and its files.
 */
export const ISOLATION: Readonly<Record<string, string>> = Object.freeze({
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-embedder-policy': 'credentialless',
  'cross-origin-resource-policy': 'cross-origin',
});

type Encoding = 'br' | 'gzip';

/** Files larger than this are streamed from disk, their ETag made once per version (smaller ones are read whole). */
const STREAM_ABOVE = 2 ** 20;

/** The encodings a request accepts, best first (q=0 refuses one). */
function accepted(header: string | string[] | undefined): Encoding[] {
  const list = (Array.isArray(header) ? header.join(',') : (header ?? '')).toLowerCase().split(',').map((p) => p.trim());
  const ok = (name: string) => list.some((p) => p.split(';')[0].trim() === name && !/;\s*q=0(\.0*)?$/.test(p));
  return (['br', 'gzip'] as const).filter(ok);
}

/** What answers a request: a file on disk, streamed (`file`), or a copy compressed here (`body`). */
interface Variant {
  file?: string;
  body?: Buffer;
  size: number;
  etag: string;
  encoding?: Encoding;
}

export interface Served {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export async function serve(root: string, opts: { port?: number; host?: string; headers?: Record<string, string> } = {}): Promise<Served> {
  const base = path.resolve(root);
  // Compressed copies made here, per file version (path, size, mtime): made once, not per request.
  const compressed = new Map<string, { packed: Buffer; etag: string }>();
  // The ETag of each file version (path, size, mtime), hashed once: a request then streams the file without reading it
  // whole first (a 100k-title snapshot's 38 MB lexical file took ~0.2 s to its first byte when read and hashed per request).
  const etags = new Map<string, Promise<string>>();
  const tagOf = (hash: string, encoding?: Encoding) => `"${hash.slice(0, 27)}${encoding ? `-${encoding}` : ''}"`;
  const etagOf = (body: Buffer, encoding?: Encoding) => tagOf(createHash('sha256').update(body).digest('base64url'), encoding);
  const fileEtag = (file: string, info: { size: number; mtimeMs: number }, encoding?: Encoding) => {
    const key = `${file}|${info.size}|${info.mtimeMs}|${encoding ?? ''}`;
    let tag = etags.get(key);
    if (!tag) {
      tag = new Promise<string>((resolve, reject) => {
        const hash = createHash('sha256');
        createReadStream(file)
          .on('error', reject)
          .on('data', (chunk) => hash.update(chunk))
          .on('end', () => resolve(tagOf(hash.digest('base64url'), encoding)));
      });
      etags.set(key, tag);
      tag.catch(() => etags.delete(key));
    }
    return tag;
  };

  // A small file is read whole (one read, where streaming it would take two: its tag, then its bytes).
  const onDisk = async (file: string, info: { size: number; mtimeMs: number }, encoding?: Encoding): Promise<Variant> => {
    if (info.size > STREAM_ABOVE) return { file, size: info.size, etag: await fileEtag(file, info, encoding), ...(encoding ? { encoding } : {}) };
    const body = await readFile(file);
    return { body, size: body.length, etag: etagOf(body, encoding), ...(encoding ? { encoding } : {}) };
  };

  async function variant(file: string, info: { size: number; mtimeMs: number }, encodings: Encoding[]): Promise<Variant> {
    for (const encoding of encodings) {
      const sibling = `${file}.${encoding === 'br' ? 'br' : 'gz'}`;
      // A copy older than its file belongs to an earlier version of it: never send that.
      const pre = await stat(sibling).then((s) => (s.isFile() && s.mtimeMs >= info.mtimeMs ? s : null), () => null);
      if (pre) return onDisk(sibling, pre, encoding);
    }
    const encoding = encodings[0];
    if (!encoding || !COMPRESSIBLE.test(file) || info.size < 1024) return onDisk(file, info);
    const body = await readFile(file);
    const key = `${file}|${info.size}|${info.mtimeMs}|${encoding}`;
    let made = compressed.get(key);
    if (!made) {
      const packed = encoding === 'br' ? brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 9 } }) : gzipSync(body, { level: 9 });
      compressed.set(key, (made = { packed, etag: etagOf(body, encoding) }));
    }
    return made.packed.length < body.length ? { body: made.packed, size: made.packed.length, etag: made.etag, encoding } : onDisk(file, info);
  }

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      let rel = decodeURIComponent(url.pathname);
      if (rel.endsWith('/')) rel += 'index.html';
      const file = path.resolve(base, '.' + rel);
      if (file !== base && !file.startsWith(base + path.sep)) throw Object.assign(new Error('outside root'), { code: 'ENOENT' });
      const info = await stat(file);
      if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
      const { file: from, body, size, etag, encoding } = await variant(file, info, accepted(req.headers['accept-encoding']));
      const headers = {
        'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
        'cache-control': IMMUTABLE.test(rel) ? 'public, max-age=31536000, immutable' : 'no-cache',
        etag,
        vary: 'accept-encoding',
        // Public static files: the widget and its snapshot are fetched from other sites' pages.
        'access-control-allow-origin': '*',
        'access-control-expose-headers': 'etag, content-length',
        ...ISOLATION,
        ...(encoding ? { 'content-encoding': encoding } : {}),
        ...opts.headers,
      };
      const match = req.headers['if-none-match'];
      if (match && match.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
        res.writeHead(304, headers);
        res.end();
        return;
      }
      res.writeHead(200, { ...headers, 'content-length': size });
      if (req.method === 'HEAD') res.end();
      else if (body) res.end(body);
      else createReadStream(from!).on('error', () => res.destroy()).pipe(res);
    } catch (e) {
      const missing = (e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR';
      res.writeHead(missing ? 404 : 500, { 'content-type': 'text/plain; charset=utf-8', 'access-control-allow-origin': '*' });
      res.end(missing ? 'not found' : 'server error');
    }
  });
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, resolve);
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://${host}:${port}/`,
    port,
    server,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? '')) {
  const port = Number(process.env.PORT ?? 5173);
  serve(path.resolve(import.meta.dirname, '../dist'), { port }).then(
    (s) => console.log(`Toonpick is running at ${s.url} (demo catalog). Press Ctrl+C to stop.`),
    (e) => {
      console.error(`could not start the server on port ${port}: ${(e as Error).message}`);
      process.exit(1);
    },
  );
}
