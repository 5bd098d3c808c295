/**
 * The page's handle on the sequence worker (workers/sequence.worker.ts), on the shared worker protocol
 * (src/app/worker-rpc.ts): the snapshot's sequence model is sent to each new worker once, and `scoresFor`
 * answers with the `sequenceScores` that `recommend` takes. A worker that fails to start, crashes or runs past
 * its time limit rejects the call in flight (the page then ranks on its own thread) and is replaced on the next.
 */
import * as Comlink from 'comlink';
import type { RankerConfig } from '../core/config.ts';
import type { HistoryEntry } from '../core/history.ts';
import { sequenceKey, sequenceQueries, type SequenceScores } from '../core/ranker.ts';
import type { Snapshot } from '../core/snapshot/snapshot.ts';
import type { SequenceWorkerApi } from '../../workers/protocol.ts';
import { WorkerHandle } from './worker-rpc.ts';

export class SequenceClient {
  private readonly handle: WorkerHandle<SequenceWorkerApi>;

  constructor(
    private readonly snapshot: Snapshot,
    private readonly timeoutMs: number,
  ) {
    const m = snapshot.sequence;
    if (!m) throw new Error('this snapshot has no sequence model');
    this.handle = new WorkerHandle<SequenceWorkerApi>({
      name: 'sequence',
      spawn: () => new Worker(new URL('../../workers/sequence.worker.ts', import.meta.url), { type: 'module' }),
      setup: (remote) => {
        // Copies: the page keeps its own model for explanations and for ranking when the worker is gone.
        const data = { spec: m.spec, weights: m.weights.slice(), itemCategories: m.itemCategories.slice(), catalogItems: snapshot.items.length };
        return remote.load(Comlink.transfer(data, [data.weights.buffer, data.itemCategories.buffer]));
      },
      setupLimits: () => ({ what: 'loading the sequence model', timeoutMs }),
    });
  }

  /** The sequence-model scores `recommend(snapshot, history, cfg, …)` needs, computed in the worker. */
  async scoresFor(history: HistoryEntry[], cfg: RankerConfig): Promise<SequenceScores> {
    const queries = sequenceQueries(this.snapshot, history, cfg);
    if (queries.length === 0) return new Map();
    const scores = await this.handle.call((remote) => remote.scores(queries), { what: `scoring ${queries.length} sequences`, timeoutMs: this.timeoutMs });
    return new Map(queries.map((q, i) => [sequenceKey(q), scores[i]]));
  }

  dispose() {
    this.handle.stop(new Error('the sequence worker was closed'));
  }
}
