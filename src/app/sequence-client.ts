/**
 * The page's handle on the sequence worker (workers/sequence.worker.ts): the snapshot's sequence model runs
 * there, and `scoresFor` answers with the `sequenceScores` that `recommend` takes. A worker that fails to start
 * or crashes rejects the call in flight (the page then ranks on its own thread) and is replaced on the next one.
 */
import * as Comlink from 'comlink';
import type { RankerConfig } from '../core/config.ts';
import type { HistoryEntry } from '../core/history.ts';
import { sequenceKey, sequenceQueries, type SequenceScores } from '../core/ranker.ts';
import type { Snapshot } from '../core/snapshot/snapshot.ts';
import type { SequenceWorkerApi } from '../../workers/sequence.worker.ts';

export class SequenceClient {
  private worker: Worker | null = null;
  private ready: Promise<Comlink.Remote<SequenceWorkerApi>> | null = null;
  private readonly pending = new Set<(e: Error) => void>();

  constructor(private readonly snapshot: Snapshot) {
    if (!snapshot.sequence) throw new Error('this snapshot has no sequence model');
  }

  private start(): Promise<Comlink.Remote<SequenceWorkerApi>> {
    // Inline `new URL(…, import.meta.url)`: Vite then emits the worker as its own module chunk.
    const worker = new Worker(new URL('../../workers/sequence.worker.ts', import.meta.url), { type: 'module' });
    worker.addEventListener('error', (ev) => {
      ev.preventDefault();
      this.stop(new Error(`the sequence worker stopped (${ev.message || 'it failed to start'})`));
    });
    this.worker = worker;
    const remote = Comlink.wrap<SequenceWorkerApi>(worker);
    const m = this.snapshot.sequence!;
    // Copies: the page keeps its own model for explanations and for ranking when the worker is gone.
    const data = { spec: m.spec, weights: m.weights.slice(), itemCategories: m.itemCategories.slice(), catalogItems: this.snapshot.items.length };
    return remote.load(Comlink.transfer(data, [data.weights.buffer, data.itemCategories.buffer])).then(() => remote);
  }

  private stop(reason: Error) {
    this.worker?.terminate();
    this.worker = null;
    this.ready = null;
    for (const reject of this.pending) reject(reason);
    this.pending.clear();
  }

  /** The sequence-model scores `recommend(snapshot, history, cfg, …)` needs, computed in the worker. */
  async scoresFor(history: HistoryEntry[], cfg: RankerConfig): Promise<SequenceScores> {
    const queries = sequenceQueries(this.snapshot, history, cfg);
    if (queries.length === 0) return new Map();
    const run = async () => {
      this.ready ??= this.start();
      const remote = await this.ready;
      return remote.scores(queries);
    };
    const scores = await new Promise<Float32Array[]>((resolve, reject) => {
      this.pending.add(reject);
      run().then(resolve, reject).finally(() => this.pending.delete(reject));
    });
    return new Map(queries.map((q, i) => [sequenceKey(q), scores[i]]));
  }

  dispose() {
    this.stop(new Error('the sequence worker was closed'));
  }
}
