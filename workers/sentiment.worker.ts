/**
 * The sentiment worker: a thin comlink adapter over SentimentModel (src/core/text/sentiment.ts). Its own small
 * worker rather than the text worker's, so reading a note never loads the sentence-model runtime.
 */
import * as Comlink from 'comlink';
import { DataError } from '../src/core/errors.ts';
import { SentimentModel } from '../src/core/text/sentiment.ts';
import { serial, type SentimentWorkerApi } from './protocol.ts';

let model: SentimentModel | null = null;
const queued = serial();

async function fetchBytes(url: URL): Promise<Uint8Array> {
  const res = await fetch(url).catch((e: Error) => {
    throw new DataError(url.pathname, `could not be downloaded (${e.message})`);
  });
  if (!res.ok) throw new DataError(url.pathname, `could not be downloaded (HTTP ${res.status})`);
  return new Uint8Array(await res.arrayBuffer());
}

const api: SentimentWorkerApi = {
  load(base: string) {
    return queued(async () => {
      const root = new URL(base);
      const specBytes = await fetchBytes(new URL('sentiment.json', root));
      let spec: unknown;
      try {
        spec = JSON.parse(new TextDecoder().decode(specBytes));
      } catch (e) {
        throw new DataError('sentiment.json', `is not valid JSON (${(e as Error).message})`);
      }
      model = SentimentModel.load(spec, await fetchBytes(new URL('sentiment.i8', root)));
      return { dim: model.dim };
    });
  },

  score(texts: string[]) {
    return queued(async () => {
      if (!model) throw new Error('sentiment model not loaded: call load() first');
      return model.score(texts);
    });
  },
};

Comlink.expose(api);
