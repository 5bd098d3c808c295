/**
 * Real-browser test harness: headless Chromium (Debian's /usr/bin/chromium) through playwright-core,
 * against the built app (dist/) served on 127.0.0.1. A missing browser fails the run; it never skips.
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { serve, type Served } from '../../scripts/serve.ts';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export async function launch(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) — browser tests never skip`);
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs], headless: true });
}

/**
 * A browser whose profile (IndexedDB, Cache Storage, HTTP cache) lives in `userDataDir` and outlives it: launched
 * again on the same folder, it is a reader's next visit in fresh processes.
 */
export async function launchPersistent(userDataDir: string, options: { serviceWorkers?: 'allow' | 'block' } = {}): Promise<BrowserContext> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) — browser tests never skip`);
  return chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true, ...options });
}

/**
 * Serves a private copy of dist/ so a test may add broken files beside the real ones. `headers` go on every answer
 * (after serve.ts's own), read per request: a test may change them between loads.
 */
export async function serveDist(headers?: Record<string, string>): Promise<Served & { root: string; dispose(): Promise<void> }> {
  const dist = path.join(repoRoot, 'dist');
  if (!existsSync(path.join(dist, 'index.html'))) throw new Error('dist/ is missing: run `vite build` first (npm test does)');
  const root = await mkdtemp(path.join(tmpdir(), 'toonpick-dist-'));
  await cp(dist, root, { recursive: true });
  const s = await serve(root, { headers });
  return { ...s, root, dispose: async () => { await s.close(); await rm(root, { recursive: true, force: true }); } };
}

/** Forgets the snapshot files the app keeps on the device (src/core/snapshot/file-cache.ts: OPFS, or Cache Storage). */
export async function clearSnapshotFiles(page: Page): Promise<void> {
  await page.evaluate(async () => {
    await caches.delete('toonpick-snapshot-files');
    const root = await navigator.storage.getDirectory();
    await root.removeEntry('toonpick-snapshot-files', { recursive: true }).catch((e: Error) => { if (e.name !== 'NotFoundError') throw e; });
  });
}

/** Records every request the page makes, so tests can prove nothing left our origin. */
export function trackRequests(context: BrowserContext): string[] {
  const urls: string[] = [];
  context.on('request', (r) => urls.push(r.url()));
  return urls;
}

/** Console errors and uncaught exceptions fail a test that checks them. */
export function trackErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return errors;
}

/** `call(method, args)` on a worker started by `startWorker`: resolves with the method's result. */
export type WorkerCall = (method: string, args: unknown[]) => Promise<any>;

/**
 * Starts a built worker script in the page (kept as `globalThis.__worker`) with a `call` that speaks comlink's
 * wire protocol by hand (APPLY of a method, RAW values), so a test drives the real worker with no hook in the app.
 */
export async function startWorker(page: Page, url: string): Promise<void> {
  await page.evaluate((url) => {
    // tsx (esbuild keepNames) wraps functions evaluated from Node in __name(); the page has no such helper.
    (globalThis as Record<string, unknown>).__name ??= (f: unknown) => f;
    const worker = new Worker(url, { type: 'module' });
    const call = (method: string, args: unknown[]) =>
      new Promise<unknown>((resolve, reject) => {
        const id = crypto.randomUUID();
        const onMessage = (ev: MessageEvent) => {
          if (ev.data?.id !== id) return;
          worker.removeEventListener('message', onMessage);
          if (ev.data.type === 'HANDLER' && ev.data.name === 'throw') reject(new Error(ev.data.value.value?.message ?? String(ev.data.value.value)));
          else resolve(ev.data.value);
        };
        worker.addEventListener('message', onMessage);
        worker.addEventListener('error', (e) => reject(new Error(`worker error: ${e.message}`)), { once: true });
        worker.postMessage({ id, type: 'APPLY', path: [method], argumentList: args.map((value) => ({ type: 'RAW', value })) });
      });
    (globalThis as Record<string, unknown>).__worker = { worker, call };
  }, url);
}

/**
 * Runs `fn(call, arg)` in the page against the worker `startWorker` started (`fn` is sent as source: it may use
 * only its arguments); an error comes back as `{ error }`. `terminate` stops the worker afterwards.
 */
export function inWorker<A, R>(page: Page, fn: (call: WorkerCall, arg: A) => Promise<R>, arg: A, { terminate = false } = {}): Promise<R | { error: string }> {
  return page.evaluate(
    async ({ src, arg, terminate }) => {
      const { worker, call } = (globalThis as Record<string, any>).__worker as { worker: Worker; call: unknown };
      try {
        return await (0, eval)(src)(call, arg);
      } catch (e) {
        return { error: (e as Error).message };
      } finally {
        if (terminate) worker.terminate();
      }
    },
    { src: fn.toString(), arg, terminate },
  );
}
