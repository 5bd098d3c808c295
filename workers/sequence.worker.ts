/**
 * The sequential next-title model (seed 003) in a Web Worker (comlink): the page sends the snapshot's model once,
 * then the reader's ordered preferred titles whenever the history changes, and gets a logit per catalog title
 * back, so the transformer never runs on the page's thread. A thin adapter over src/core/rank/sequence.ts;
 * created by src/app/sequence-client.ts.
 */
import * as Comlink from 'comlink';
import { SequenceModel, type SequenceSpec } from '../src/core/rank/sequence.ts';

export interface SequenceModelData {
  spec: SequenceSpec;
  weights: Float32Array;
  /** The catalog's genre rows (itemCount × categories), as SequenceModel takes them. */
  itemCategories: Float32Array;
  catalogItems: number;
}

let model: SequenceModel | null = null;

const api = {
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

export type SequenceWorkerApi = typeof api;
Comlink.expose(api);
