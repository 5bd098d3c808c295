/**
 * The page's handle on the text worker (workers/text.worker.ts). It adds what a worker cannot do for
 * itself: time limits (a stalled download or a stuck inference is abandoned, never awaited forever) and
 * recovery (a crashed worker is replaced and the model reloaded; the call in flight is retried once).
 */
import * as Comlink from 'comlink';
import type { TextLoadProgress, TextModelInfo, TextModelRequest, TextWorkerApi } from '../../workers/text.worker.ts';

export type { TextLoadProgress, TextModelInfo, TextModelRequest };

/** The model could not be loaded or run; `message` says why in words a reader can act on. */
class TextModelError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TextModelError';
  }
}

class WorkerCrash extends Error {}

export interface TextClientTimeouts {
  /** Give up a load that reports no progress for this long. */
  stallMs: number;
  /** Give up one embed call after this long. */
  embedMs: number;
}

export class TextClient {
  private worker: Worker | null = null;
  private remote: Comlink.Remote<TextWorkerApi> | null = null;
  /** Rejecters of the calls in flight: a crash or a time-out fails them instead of leaving them hanging. */
  private readonly pending = new Set<(e: Error) => void>();
  private request: TextModelRequest | null = null;
  private loading: Promise<TextModelInfo> | null = null;

  constructor(private readonly timeouts: TextClientTimeouts) {}

  private spawn(): Comlink.Remote<TextWorkerApi> {
    // Inline `new URL(…, import.meta.url)`: Vite then emits the worker as its own module chunk.
    const worker = new Worker(new URL('../../workers/text.worker.ts', import.meta.url), { type: 'module' });
    worker.addEventListener('error', (ev) => {
      ev.preventDefault();
      this.kill(new WorkerCrash(`the text worker stopped (${ev.message || 'it failed to start'})`));
    });
    worker.addEventListener('messageerror', () => this.kill(new WorkerCrash('the text worker sent a message that could not be read')));
    this.worker = worker;
    this.remote = Comlink.wrap<TextWorkerApi>(worker);
    return this.remote;
  }

  /** Stops the worker and fails every call in flight with `reason`. The next call starts a new worker. */
  private kill(reason: Error) {
    this.worker?.terminate();
    this.worker = null;
    this.remote = null;
    this.loading = null;
    for (const reject of [...this.pending]) reject(reason);
    this.pending.clear();
  }

  /** Runs one worker call under a guard that a crash or the watchdog can trip. */
  private guarded<T>(call: (remote: Comlink.Remote<TextWorkerApi>) => Promise<T>, watchdog: (trip: (e: Error) => void) => () => void): Promise<T> {
    const remote = this.remote ?? this.spawn();
    return new Promise<T>((resolve, reject) => {
      const trip = (e: Error) => {
        this.pending.delete(trip);
        stop();
        reject(e);
      };
      this.pending.add(trip);
      const stop = watchdog((e) => this.kill(e));
      call(remote).then(
        (v) => {
          this.pending.delete(trip);
          stop();
          resolve(v);
        },
        (e) => trip(e instanceof Error ? e : new Error(String(e))),
      );
    });
  }

  /** Loads the model (once: later calls share the first load until it fails or the worker dies). */
  load(req: TextModelRequest, onProgress?: (p: TextLoadProgress) => void): Promise<TextModelInfo> {
    this.request = req;
    this.loading ??= this.loadNow(req, onProgress).catch((e: unknown) => {
      this.loading = null;
      throw e instanceof TextModelError ? e : new TextModelError((e as Error).message ?? String(e), { cause: e });
    });
    return this.loading;
  }

  private loadNow(req: TextModelRequest, onProgress?: (p: TextLoadProgress) => void): Promise<TextModelInfo> {
    let kick = () => {};
    const progress = Comlink.proxy((p: TextLoadProgress) => {
      kick();
      onProgress?.(p);
    });
    return this.guarded(
      (remote) => remote.load(req, progress),
      (trip) => {
        let timer: ReturnType<typeof setTimeout>;
        kick = () => {
          clearTimeout(timer);
          timer = setTimeout(() => trip(new TextModelError(`loading text model "${req.model.modelId}" stalled: no progress for ${Math.round(this.timeouts.stallMs / 1000)} s`)), this.timeouts.stallMs);
        };
        kick();
        return () => clearTimeout(timer);
      },
    );
  }

  /** Unit vectors (N×dim, row-major). A worker that crashed meanwhile is replaced and the call retried once. */
  async embed(texts: string[]): Promise<Float32Array> {
    if (!this.request) throw new TextModelError('text model not loaded: call load() first');
    for (let attempt = 0; ; attempt++) {
      try {
        await this.load(this.request);
        return await this.guarded(
          (remote) => remote.embed(texts),
          (trip) => {
            const timer = setTimeout(() => trip(new TextModelError(`the text model took longer than ${Math.round(this.timeouts.embedMs / 1000)} s to embed ${texts.length} texts`)), this.timeouts.embedMs);
            return () => clearTimeout(timer);
          },
        );
      } catch (e) {
        if (e instanceof WorkerCrash && attempt === 0) continue;
        throw e instanceof TextModelError ? e : new TextModelError((e as Error).message, { cause: e });
      }
    }
  }

  dispose(): void {
    this.kill(new TextModelError('the text model was closed'));
    this.request = null;
  }
}
