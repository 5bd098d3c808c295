/**
 * The page's handle on the text worker (workers/text.worker.ts), on the shared worker protocol
 * (src/app/worker-rpc.ts): a stalled model download or a stuck inference is abandoned, never awaited forever;
 * a crashed worker is replaced, the model loaded again, and the embedding in flight retried once.
 */
import type * as Comlink from 'comlink';
import type { TextLoadProgress, TextModelInfo, TextModelRequest, TextWorkerApi } from '../../workers/protocol.ts';
import { WorkerHandle, type CallLimits } from './worker-rpc.ts';

export type { TextLoadProgress, TextModelInfo, TextModelRequest };

/** The model could not be loaded or run; `message` says why in words a reader can act on. */
class TextModelError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TextModelError';
  }
}

export interface TextClientTimeouts {
  /** Give up a load that reports no progress for this long. */
  stallMs: number;
  /** Give up one embed call after this long. */
  embedMs: number;
}

export class TextClient {
  private request: TextModelRequest | null = null;
  private onProgress: ((p: TextLoadProgress) => void) | undefined;
  /** What the worker in use loaded (set by its setup). */
  private info: TextModelInfo | null = null;
  private readonly handle: WorkerHandle<TextWorkerApi>;

  constructor(private readonly timeouts: TextClientTimeouts) {
    this.handle = new WorkerHandle<TextWorkerApi>({
      name: 'text',
      spawn: () => new Worker(new URL('../../workers/text.worker.ts', import.meta.url), { type: 'module' }),
      // Every new worker (the first, or one after a crash) loads the model before it embeds anything.
      setup: async (remote, progress) => {
        this.info = null;
        this.info = await remote.load(this.request!, progress((p: TextLoadProgress) => this.onProgress?.(p)));
      },
      setupLimits: () => ({ what: `loading text model "${this.request!.model.modelId}"`, stallMs: this.timeouts.stallMs }),
    });
  }

  /** Loads the model (once: later calls share it until it fails or the worker dies; then it loads again). */
  async load(req: TextModelRequest, onProgress?: (p: TextLoadProgress) => void): Promise<TextModelInfo> {
    this.request = req;
    this.onProgress = onProgress;
    return this.run(async () => this.info!, { what: `loading text model "${req.model.modelId}"` });
  }

  /** Unit vectors (N×dim, row-major). A worker that crashed meanwhile is replaced and the call retried once. */
  async embed(texts: string[]): Promise<Float32Array> {
    if (!this.request) throw new TextModelError('text model not loaded: call load() first');
    return this.run((remote) => remote.embed(texts), { what: `embedding ${texts.length} texts`, timeoutMs: this.timeouts.embedMs, retry: true });
  }

  private async run<T>(job: (remote: Comlink.Remote<TextWorkerApi>) => Promise<T>, limits: CallLimits): Promise<T> {
    try {
      return await this.handle.call(job, limits);
    } catch (e) {
      throw new TextModelError((e as Error)?.message ?? String(e), { cause: e });
    }
  }

  dispose(): void {
    this.handle.stop(new TextModelError('the text model was closed'));
    this.request = null;
    this.info = null;
  }
}
