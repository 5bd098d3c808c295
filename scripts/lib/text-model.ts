/**
 * Node helpers shared by the text CLIs (embed:text, train:adapter, eval:sts): finding a model from the
 * command line, embedding many sentences once each, KorSTS files, augmented synopsis views, and writing
 * a snapshot back in place.
 */
import { existsSync, statSync } from 'node:fs';
import { readFile, rename, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { defaultConfig, type AdapterTrainingConfig } from '../../src/core/config.ts';
import { rng } from '../../src/core/random.ts';
import { SOURCES_FILE, serializeSnapshot } from '../../src/core/snapshot/build.ts';
import type { Snapshot } from '../../src/core/snapshot/snapshot.ts';
import { augmentViews } from '../../src/core/text/augment.ts';
import { parseStsTsv, type StsPair } from '../../src/core/text/sts.ts';
import { synopsisText } from '../../src/core/text/sts-space.ts';
import { synopsisOf } from '../../src/core/snapshot/format.ts';
import { SynopsisEncoder } from '../../src/core/text/synopsis-encoder.ts';
import type { AdapterTrainingData, PairVectors } from '../../src/core/text/adapter-train.ts';
import { chooseTfjsBackend } from '../../src/core/tfjs-backend.ts';
import { removeWithCompressedCopies, writeWithCompressedCopies } from './node-io.ts';

export interface ModelArgs {
  modelId: string;
  localModelPath?: string;
  revision: string;
  dtype: 'fp32' | 'q8';
}

/**
 * `--model <id>` with `--local-model-path <dir>` (an id under that folder), `--model <folder>` (a model
 * folder on disk: its name is the id), or `--model <hub id>` (downloaded when the hub is reachable).
 */
export function modelArgs(args: Record<string, string | true | undefined>): ModelArgs {
  const model = args.model;
  if (typeof model !== 'string') throw new Error('--model <id or folder> is required');
  const revision = typeof args.revision === 'string' ? args.revision : 'main';
  const dtype = args.dtype === 'q8' ? 'q8' : 'fp32';
  if (args.dtype !== undefined && args.dtype !== 'fp32' && args.dtype !== 'q8') throw new Error(`--dtype must be fp32 or q8, got "${String(args.dtype)}"`);
  if (typeof args['local-model-path'] === 'string') return { modelId: model, localModelPath: path.resolve(args['local-model-path']) + path.sep, revision, dtype };
  if (existsSync(model) && statSync(model).isDirectory()) {
    const dir = path.resolve(model);
    return { modelId: path.basename(dir), localModelPath: path.dirname(dir) + path.sep, revision, dtype };
  }
  return { modelId: model, revision, dtype };
}

/** The tiny BERT fixture (random weights): a real model to exercise the pipeline, not a good encoder. */
export const FIXTURE_MODEL: ModelArgs = {
  modelId: 'toonpick/tiny-bert',
  localModelPath: path.resolve(import.meta.dirname, '../../tests/fixtures/models') + path.sep,
  revision: 'main',
  dtype: 'fp32',
};

/** Loads the encoder on onnxruntime-node ('cpu'), remote downloads allowed only for hub ids. */
export function loadEncoder(m: ModelArgs): Promise<SynopsisEncoder> {
  return SynopsisEncoder.load({
    modelId: m.modelId,
    revision: m.revision,
    dtype: m.dtype,
    device: 'cpu',
    maxTokens: defaultConfig.models.text.maxTokens,
    ...(m.localModelPath ? { localModelPath: m.localModelPath, allowRemoteModels: false } : { allowRemoteModels: true }),
  });
}

/** Embeds each distinct text once; returns rows in the order of `texts`. */
export async function embedAll(enc: SynopsisEncoder, texts: readonly string[]): Promise<Float32Array> {
  const unique = [...new Set(texts)];
  const vecs = await enc.embed(unique);
  const at = new Map(unique.map((t, i) => [t, i]));
  const out = new Float32Array(texts.length * enc.dim);
  texts.forEach((t, i) => out.set(vecs.subarray(at.get(t)! * enc.dim, (at.get(t)! + 1) * enc.dim), i * enc.dim));
  return out;
}

export type Embed = (texts: readonly string[]) => Promise<Float32Array>;

export async function embedPairs(embed: Embed, pairs: readonly StsPair[]): Promise<PairVectors & { scores: number[] }> {
  const all = await embed([...pairs.map((p) => p.a), ...pairs.map((p) => p.b)]);
  const half = all.length / 2;
  return { a: all.subarray(0, half), b: all.subarray(half), scores: pairs.map((p) => p.score) };
}

export interface KorSts {
  train: StsPair[];
  dev: StsPair[];
  test: StsPair[];
}

export async function loadKorSts(dir: string): Promise<KorSts> {
  const read = async (name: string) => {
    const file = path.join(dir, name);
    if (!existsSync(file)) throw new Error(`${file} not found (expected KorSTS: sts-train.tsv, sts-dev.tsv, sts-test.tsv)`);
    return parseStsTsv(await readFile(file, 'utf8'), file);
  };
  return { train: await read('sts-train.tsv'), dev: await read('sts-dev.tsv'), test: await read('sts-test.tsv') };
}

/** Two augmented views of every catalog synopsis that has one (seeded), for the contrastive loss. */
function synopsisViews(snapshot: Snapshot, cfg: AdapterTrainingConfig): { a: string[]; b: string[] } {
  const random = rng(cfg.seed + 1);
  const a: string[] = [];
  const b: string[] = [];
  for (const t of snapshot.items) {
    if (!synopsisOf(t).trim()) continue;
    const views = augmentViews(synopsisText(t), Math.max(2, cfg.views), cfg.augmentRate, random);
    a.push(views[0]);
    b.push(views[1]);
  }
  return { a, b };
}

/** Everything adapter training needs, embedded with the frozen base model. */
export async function adapterData(embed: Embed, dim: number, korsts: KorSts, snapshot: Snapshot | null, cfg: AdapterTrainingConfig): Promise<AdapterTrainingData> {
  const sts = await embedPairs(embed, korsts.train);
  const dev = await embedPairs(embed, korsts.dev);
  let views: PairVectors | undefined;
  if (snapshot) {
    const v = synopsisViews(snapshot, cfg);
    const all = await embed([...v.a, ...v.b]);
    views = { a: all.subarray(0, all.length / 2), b: all.subarray(all.length / 2) };
  }
  return { dim, sts, dev, ...(views ? { views } : {}) };
}

/** The fastest tfjs backend for training here: the project's one backend choice, from wasm down. */
export const trainingBackend = (): Promise<string> => chooseTfjsBackend('wasm');

/**
 * Writes a changed snapshot back into its folder: every file to a temporary name first, then renamed over
 * the old ones, manifest last. A failure while writing (disk full) leaves the snapshot as it was; only
 * the renames at the end, milliseconds long, are not atomic together.
 */
export async function writeSnapshotInPlace(dir: string, snapshot: Snapshot, remove: string[] = []): Promise<void> {
  // Files the old manifest listed and the new one does not (a space stored in another layout now) go too.
  const before = Object.keys(snapshot.manifest.files);
  // The titles' source hashes are read by the next update, never by the app's loader: carried over as they are.
  if (Object.hasOwn(snapshot.manifest.files, SOURCES_FILE) && !snapshot.blobs.has(SOURCES_FILE)) snapshot.blobs.set(SOURCES_FILE, new Uint8Array(await readFile(path.join(dir, SOURCES_FILE))));
  const files = await serializeSnapshot(snapshot);
  const manifest = files.get('manifest.json')!;
  files.delete('manifest.json');
  const tmp = `.tmp-${process.pid}`;
  for (const [p, bytes] of files) {
    await mkdir(path.dirname(path.join(dir, p)), { recursive: true });
    await writeFile(path.join(dir, p) + tmp, bytes);
  }
  for (const p of files.keys()) await rename(path.join(dir, p) + tmp, path.join(dir, p));
  await writeFile(path.join(dir, 'manifest.json') + tmp, manifest);
  await rename(path.join(dir, 'manifest.json') + tmp, path.join(dir, 'manifest.json'));
  for (const p of new Set([...remove, ...before])) if (!files.has(p) && p !== 'manifest.json') await removeWithCompressedCopies(path.join(dir, p));
  // The .br / .gz copies a host sends (scripts/serve.ts ignores any older than its file meanwhile).
  for (const [p, bytes] of [...files, ['manifest.json', manifest] as const]) await writeWithCompressedCopies(path.join(dir, p), bytes);
}
