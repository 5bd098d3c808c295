/**
 * The page's handle on the sentiment worker (workers/sentiment.worker.ts), on the shared worker protocol
 * (src/app/worker-rpc.ts): started on the first note a reader writes (the model is loaded lazily, from our own
 * origin), replaced after a crash, given up after `config.workers.sentiment.callMs`.
 */
import type { SentimentWorkerApi } from '../../workers/protocol.ts';
import { WorkerHandle } from './worker-rpc.ts';

export class SentimentClient {
  private readonly handle: WorkerHandle<SentimentWorkerApi>;

  /** `base`: the model's folder as an absolute URL (a relative one would resolve against the worker's URL). */
  constructor(
    base: string,
    private readonly callMs: number,
  ) {
    this.handle = new WorkerHandle<SentimentWorkerApi>({
      name: 'sentiment',
      spawn: () => new Worker(new URL('../../workers/sentiment.worker.ts', import.meta.url), { type: 'module' }),
      setup: async (remote) => {
        await remote.load(base);
      },
      setupLimits: () => ({ what: 'loading the sentiment model', timeoutMs: callMs }),
    });
  }

  /** How positive each text reads, in [0, 1]. */
  async score(texts: string[]): Promise<number[]> {
    return this.handle.call((remote) => remote.score(texts), { what: `reading ${texts.length} notes`, timeoutMs: this.callMs, retry: true });
  }
}
