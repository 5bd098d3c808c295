/**
 * The snapshot worker the app's page starts before its bundle: a small inline script in the built index.html
 * (scripts/vite-early-worker.ts writes it) starts the worker, so that the worker's own start (~0.15–0.2 s on a slow
 * machine) overlaps the bundle's download and evaluation, and the worker is ready when the app asks it for the
 * catalog. The app takes it once (`takeEarlyWorker`); a page without it (the dev server, the widget on a site, a
 * Content-Security-Policy that forbids inline scripts) starts its worker when it asks, as before.
 */

/** Where the inline script leaves the worker for the app. */
const EARLY_WORKER = '__toonpickSnapshotWorker';

interface EarlyWorker {
  worker: Worker;
  /** Why it stopped, if it did before the app took it. */
  failed?: string;
}

/** The inline script (classic: it runs as the page is parsed, before any module) that starts the worker at `url`. */
export function earlyWorkerScript(url: string): string {
  return `(function(){try{var w=new Worker(${JSON.stringify(url)},{type:'module'}),e=window.${EARLY_WORKER}={worker:w};w.addEventListener('error',function(v){v.preventDefault();e.failed=v.message||'it failed to start'})}catch(_){}})()`;
}

/**
 * The worker the page started early, once; undefined where none was, or where it stopped before this call (it is
 * closed, and the caller starts a new one, whose failure then reaches it).
 */
export function takeEarlyWorker(): Worker | undefined {
  const scope = globalThis as unknown as Record<string, EarlyWorker | undefined>;
  const early = scope[EARLY_WORKER];
  if (!early) return undefined;
  delete scope[EARLY_WORKER];
  if (early.failed === undefined) return early.worker;
  early.worker.terminate();
  return undefined;
}
