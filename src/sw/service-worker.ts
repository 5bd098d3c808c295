/// <reference lib="webworker" />
/**
 * Toonpick's service worker (built to /sw.js by the precache plugin in scripts/vite-precache.ts).
 *
 * - Install: precache the app shell (list and version injected at build time).
 * - Fetch: precached files cache-first; navigations fall back to the cached app shell offline; covers and
 *   the ONNX Runtime wasm are cached the first time they are fetched (runtime cache). The snapshot, whichever
 *   the page opened, is kept by the page itself (src/core/snapshot/file-cache.ts: files by content hash, the last
 *   manifest for offline) and model files by transformers.js' own Cache API store, so nothing is downloaded or
 *   cached twice.
 * - Update: a new worker waits; the page announces it and sends SKIP_WAITING when the reader reloads,
 *   so a version never changes mid-session.
 * Self-contained: no imports, so the file also runs as a classic worker.
 */
// The project's lib includes DOM, where `self` is a Window: view it as the worker scope it really is.
const sw = self as unknown as ServiceWorkerGlobalScope;

interface Precache {
  version: string;
  files: string[];
}

const PRECACHE = (self as unknown as { __TOONPICK_PRECACHE__: Precache }).__TOONPICK_PRECACHE__;
const SHELL_CACHE = `toonpick-shell-${PRECACHE.version}`;
const RUNTIME_CACHE = 'toonpick-runtime-v1';
const scope = new URL(sw.registration.scope);

/** Same-origin paths we cache on first use: covers and the ORT / tfjs wasm runtime. */
function isRuntimeCached(url: URL): boolean {
  if (url.origin !== scope.origin) return false;
  const p = url.pathname;
  return /\/snapshot\/covers(64)?\//.test(p) || /\.wasm$/.test(p) || /\/assets\/ort[^/]*\.m?js$/.test(p);
}

sw.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL_CACHE);
      // cache.addAll is all-or-nothing: a half-downloaded version never becomes active. `no-cache` revalidates
      // with the server (ETag): what the page just downloaded costs a 304, not a second download.
      await cache.addAll(PRECACHE.files.map((f) => new Request(new URL(f, scope), { cache: 'no-cache' })));
    })(),
  );
});

sw.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith('toonpick-shell-') && name !== SHELL_CACHE) await caches.delete(name);
      }
      // First install: take the open page now (there is no older version it could be mixed with).
      await sw.clients.claim();
    })(),
  );
});

sw.addEventListener('message', (event) => {
  if (event.data === 'SKIP_WAITING') void sw.skipWaiting();
  if (event.data === 'VERSION') event.ports[0]?.postMessage(PRECACHE.version);
});

async function fromCacheOrNetwork(request: Request, cacheName: string, store: boolean): Promise<Response> {
  const cache = await caches.open(cacheName);
  const hit = await cache.match(request, { ignoreSearch: true });
  if (hit) return hit;
  const response = await fetch(request);
  if (store && response.ok && response.type === 'basic') await cache.put(request, response.clone());
  return response;
}

sw.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (request.mode === 'navigate' && url.origin === scope.origin) {
    event.respondWith(
      (async () => {
        try {
          // Online: the network (a new index.html is how a new version is found); offline: the shell.
          return await fetch(request);
        } catch {
          const cache = await caches.open(SHELL_CACHE);
          return (await cache.match(new URL('index.html', scope))) ?? Response.error();
        }
      })(),
    );
    return;
  }
  if (url.origin !== scope.origin) return;
  const rel = url.pathname.slice(scope.pathname.length) || './';
  if (PRECACHE.files.includes(rel)) event.respondWith(fromCacheOrNetwork(request, SHELL_CACHE, false));
  else if (isRuntimeCached(url)) event.respondWith(fromCacheOrNetwork(request, RUNTIME_CACHE, true));
});
