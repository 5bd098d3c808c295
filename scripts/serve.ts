/**
 * A small static server for the built app (dist/): `npm start` and the browser tests use it.
 * Missing files answer 404, never index.html: a SPA fallback would get HTML cached as a model or
 * snapshot file (docs/pitfalls). Binds to 127.0.0.1 only.
 */
import { createServer, type Server } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';

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

export interface Served {
  url: string;
  port: number;
  server: Server;
  close(): Promise<void>;
}

export async function serve(root: string, opts: { port?: number; host?: string; headers?: Record<string, string> } = {}): Promise<Served> {
  const base = path.resolve(root);
  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? '/', 'http://x');
      let rel = decodeURIComponent(url.pathname);
      if (rel.endsWith('/')) rel += 'index.html';
      const file = path.resolve(base, '.' + rel);
      if (file !== base && !file.startsWith(base + path.sep)) throw Object.assign(new Error('outside root'), { code: 'ENOENT' });
      const info = await stat(file);
      if (!info.isFile()) throw Object.assign(new Error('not a file'), { code: 'ENOENT' });
      const body = await readFile(file);
      res.writeHead(200, {
        'content-type': TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream',
        'content-length': body.length,
        'cache-control': 'no-cache',
        // Public static files: the widget and its snapshot are fetched from other sites' pages.
        'access-control-allow-origin': '*',
        ...opts.headers,
      });
      res.end(req.method === 'HEAD' ? undefined : body);
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
