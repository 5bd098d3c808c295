/**
 * The `sts` space of a snapshot: one sentence vector per title's synopsis from a text model, optionally
 * followed by the domain adapter. Node (`npm run embed:text`, `npm run train:adapter`) and the browser
 * worker build these vectors with the same rules, written down here once.
 */
import { synopsisOf, type EncoderInfo, type Space, type Title } from '../snapshot/format.ts';
import { ADAPTER_KIND } from './adapter.ts';

export { STS_SPACE } from '../spaces.ts';
/** Where the adapter's weights live in a snapshot (listed in `encoder.files.adapter`). */
export const ADAPTER_FILE = 'spaces/sts.adapter.f32';

/** What is embedded for a title: its synopsis, or its title when the synopsis is empty. */
export function synopsisText(t: Pick<Title, 'id' | 'title' | 'synopsis'>): string {
  return synopsisOf(t).trim() || t.title;
}

/** Which model made a set of vectors. Vectors of different models (or revisions) are never mixed. */
export interface TextModelRef {
  modelId: string;
  revision: string;
  dtype: 'fp32' | 'q8';
}

export interface AdapterParams {
  kind: typeof ADAPTER_KIND;
  /** What it was trained on and how much it moved KorSTS dev Spearman. */
  trainedOn: string[];
  devSpearman: { base: number; adapted: number };
  epoch: number;
  seed: number;
}

export function stsEncoderInfo(model: TextModelRef, adapter?: AdapterParams): EncoderInfo {
  return {
    name: model.modelId,
    version: 1,
    ...(adapter ? { files: { adapter: ADAPTER_FILE } } : {}),
    params: { revision: model.revision, dtype: model.dtype, pooling: 'mean', ...(adapter ? { adapter } : {}) },
  };
}

/**
 * Whether a snapshot's sts space was made by this model, so a query embedded now lands in the same space.
 * fp32 and q8 weights of one model give vectors within quantisation noise of each other: dtype may differ.
 */
export function stsSpaceMatches(space: Space | undefined, modelId: string, revision: string): boolean {
  return !!space && space.encoder.name === modelId && (space.encoder.params?.revision ?? 'main') === revision;
}

/**
 * A 53-bit hash of a text (cyrb53), hex: the key of a cached synopsis vector. Synchronous and the same in
 * every JS engine; at 10^5 synopses the chance of any collision is about 10^-6.
 */
export function textHash(text: string): string {
  let h1 = 0xdeadbeef, h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(16).padStart(14, '0');
}
