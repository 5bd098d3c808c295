/**
 * Writing the style and gram spaces and the style map into a snapshot: after training (train:style, with new
 * weights) or after embedding the covers with the snapshot's own weights (embed:covers, whole or merged shards).
 */
import type { EncoderInfo } from '../../src/core/snapshot/format.ts';
import type { Snapshot } from '../../src/core/snapshot/snapshot.ts';
import type { ClusterChoice } from '../../src/core/style/cluster.ts';
import { DataError } from '../../src/core/errors.ts';
import { StyleEncoder, type StoredStyleWeights } from '../../src/core/style/style-encoder.ts';
import { chooseTfjsBackend } from '../../src/core/tfjs-backend.ts';
import { GRAM_SPACE, STYLE_DATA_FILE, STYLE_MAP_FILE, STYLE_SPACE, STYLE_WEIGHTS_FILE, encodeStyleMap, type StylePoint } from '../../src/core/style/style-map.ts';
import { writeSnapshotInPlace } from './text-model.ts';

/** Rows scaled to unit length (a zero row stays zero). */
export function normaliseRows(v: Float32Array, dim: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length / dim; i++) {
    let s = 0;
    for (let d = 0; d < dim; d++) s += v[i * dim + d] ** 2;
    const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
    for (let d = 0; d < dim; d++) out[i * dim + d] = v[i * dim + d] * inv;
  }
  return out;
}

export interface StyleSpaces {
  /** itemCount × latent, rows L2-normalised. */
  style: Float32Array;
  latent: number;
  gram: Float32Array;
  gramDim: number;
  map: StylePoint[];
  clusters: ClusterChoice;
  /** The encoder's description in the manifest (variant, weightsHash, training settings…). */
  params: Record<string, unknown>;
  /** New weights to store with them; without, the snapshot's own stay. */
  weights?: StoredStyleWeights;
}

export async function writeStyleSpaces(dir: string, snapshot: Snapshot, s: StyleSpaces): Promise<void> {
  const files = { weights: STYLE_WEIGHTS_FILE, data: STYLE_DATA_FILE };
  const info = (extra: Record<string, unknown>, withMap: boolean): EncoderInfo => ({
    name: 'toonpick-style-encoder',
    version: 1,
    files: withMap ? { ...files, map: STYLE_MAP_FILE } : files,
    params: { ...s.params, ...extra },
  });
  const best = s.clusters.best.k;
  snapshot.manifest.spaces = snapshot.manifest.spaces.filter((sp) => sp.name !== STYLE_SPACE && sp.name !== GRAM_SPACE);
  snapshot.spaces.set(STYLE_SPACE, {
    name: STYLE_SPACE,
    dim: s.latent,
    data: s.style,
    normalized: true,
    encoder: info({ clusters: best, silhouette: s.clusters.curve.find((c) => c.k === best)!.silhouette }, true),
  });
  snapshot.spaces.set(GRAM_SPACE, { name: GRAM_SPACE, dim: s.gramDim, data: s.gram, normalized: true, encoder: info({}, false) });
  if (s.weights) {
    snapshot.blobs.set(STYLE_WEIGHTS_FILE, new TextEncoder().encode(JSON.stringify(s.weights.manifest)));
    snapshot.blobs.set(STYLE_DATA_FILE, s.weights.data);
  }
  snapshot.blobs.set(STYLE_MAP_FILE, encodeStyleMap(s.map));
  await writeSnapshotInPlace(dir, snapshot);
}

/** The snapshot's own style encoder (its stored weights), on the WASM backend. */
export async function snapshotStyleEncoder(snapshot: Snapshot): Promise<StyleEncoder> {
  const info = snapshot.manifest.spaces.find((s) => s.name === STYLE_SPACE)?.encoder.files;
  const json = snapshot.blobs.get(info?.weights ?? STYLE_WEIGHTS_FILE);
  const bin = snapshot.blobs.get(info?.data ?? STYLE_DATA_FILE);
  if (!json || !bin) throw new DataError(STYLE_WEIGHTS_FILE, 'is missing: the style spaces need their encoder to encode covers (npm run train:style)');
  await chooseTfjsBackend('wasm');
  return StyleEncoder.load({ manifest: JSON.parse(new TextDecoder().decode(json)), data: bin.slice() });
}
