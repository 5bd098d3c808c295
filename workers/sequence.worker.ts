/**
 * The sequential next-title model (seed 003) in a Web Worker (comlink): the page sends the snapshot's model once,
 * then the reader's ordered preferred titles whenever the history changes, and gets a logit per catalog title
 * back, so the transformer never runs on the page's thread. A thin adapter over src/core/rank/sequence.ts;
 * created by src/app/sequence-client.ts. Pure TypeScript on the worker's CPU: config.device has nothing to choose here.
 */
import * as Comlink from 'comlink';
import { SequenceModel } from '../src/core/rank/sequence.ts';
import type { SequenceModelData, SequenceWorkerApi } from './protocol.ts';

let model: SequenceModel | null = null;

const api: SequenceWorkerApi = {
  /** Builds the model (the same checks as on the page: a model for another catalog is refused). */
  load(data: SequenceModelData): number {
    model = new SequenceModel(data.spec, data.weights, data.itemCategories, data.catalogItems);
    return model.spec.itemCount;
  },
  /** One score vector per sequence (catalog rows, oldest first), transferred back. */
  scores(sequences: number[][]): Float32Array[] {
    if (!model) throw new Error('the sequence worker has no model: call load() first');
    const out = sequences.map((s) => model!.scores(s));
    return Comlink.transfer(out, out.map((o) => o.buffer as ArrayBuffer));
  },
};

Comlink.expose(api);
