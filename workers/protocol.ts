/**
 * The one protocol between the page and its Web Workers: what each worker answers (its API, called through
 * comlink), the messages those calls carry, and the worker-side half of the rules every worker follows.
 * The page-side half (spawn, crash and time-out recovery, progress) is src/app/worker-rpc.ts.
 *
 * Rules, the same for every worker:
 * - one job at a time inside a worker (`serial`): tfjs state is global to the worker, and a WebGPU session
 *   fails on concurrent runs ("Session already started");
 * - `device` (config.device) is honoured by every worker that has a choice to make: the text worker picks the
 *   ONNX device with chooseDevice, the style worker the tfjs backend with chooseTfjsBackend. The sequence
 *   model has one path, pure TypeScript on the worker's CPU, so there is nothing for it to choose;
 * - long jobs report progress through a callback (a comlink proxy); the page gives up a job whose progress
 *   stops for longer than its stall limit;
 * - results are transferred (zero copy), never cloned, when they are typed arrays.
 */
import type { Device } from '../src/core/capabilities.ts';
import type { TextModelConfig, ToonpickConfig } from '../src/core/config.ts';
import type { SequenceSpec } from '../src/core/rank/sequence.ts';
import type { LoadProgress, SnapshotProfile } from '../src/core/snapshot/load.ts';
import type { SnapshotMessage } from '../src/core/snapshot/transfer.ts';
import type { RowsOnDisk } from '../src/core/snapshot/snapshot.ts';
import type { Title } from '../src/core/snapshot/format.ts';
import type { RankingCore } from '../src/core/snapshot/titles.ts';
import type {
  SavedStyleWeights,
  StyleEmbedding,
  StyleEncoderOptions,
  StyleSchedule,
  StyleTrainEpoch,
  StyleTrainProgress as StyleEpochProgress,
  StyleWeights,
} from '../src/core/style/style-encoder.ts';
import type { StyleBackend } from '../src/core/tfjs-backend.ts';

export type { Device, StyleBackend, StyleEmbedding, StyleTrainEpoch };

/** config.device: what the reader's device should run the models on (`auto` = WebGPU when an adapter exists). */
export type DevicePreference = ToonpickConfig['device'];

/** The tfjs backend to try first for a device preference (chooseTfjsBackend falls back down webgpu → wasm → cpu). */
export function tfjsPreference(device: DevicePreference): StyleBackend {
  return device === 'auto' ? 'webgpu' : device;
}

/**
 * Runs jobs one after another, in call order; a failed job does not stop the ones queued after it.
 * Each worker makes one with `const queued = serial()`.
 */
export function serial(): <T>(job: () => Promise<T>) => Promise<T> {
  let queue: Promise<unknown> = Promise.resolve();
  return <T>(job: () => Promise<T>) => {
    const next = queue.then(job, job);
    queue = next.catch(() => undefined);
    return next;
  };
}

// ---- text worker (workers/text.worker.ts): the synopsis encoder ----

export interface TextModelRequest {
  /** `localModelPath` must be root-relative or a URL: a relative one would resolve against the worker's URL. */
  model: TextModelConfig;
  device: DevicePreference;
  /** The snapshot's adapter for this model (weights file bytes), applied after the encoder. */
  adapter?: { dim: number; bytes: Uint8Array };
}

export interface TextModelInfo {
  modelId: string;
  revision: string;
  dtype: 'fp32' | 'q8';
  device: Device;
  dim: number;
  adapted: boolean;
}

/** A file's download progress, or a phase change (`status`), as transformers.js reports it. */
export interface TextLoadProgress {
  status: string;
  file?: string;
  loaded?: number;
  total?: number;
}

export interface TextWorkerApi {
  /** Loads (or reloads) the model; answers which device it runs on. */
  load(req: TextModelRequest, onProgress?: (p: TextLoadProgress) => void): Promise<TextModelInfo>;
  /** N×dim unit vectors, row-major; the buffer is transferred. */
  embed(texts: string[]): Promise<Float32Array>;
  dispose(): Promise<void>;
}

// ---- style worker (workers/style.worker.ts): the art-style encoder ----

export interface StyleModelInfo {
  backend: StyleBackend;
  /** Content hash of the weights in use. */
  hash: string;
  size: number;
  latent: number;
  gramDim: number;
}

export interface StyleTrainRequest {
  /** Cover URLs (absolute, or relative to the page) to train on; decoded in the worker. */
  covers: string[];
  /** Share held out for the validation MSE. Default 0.1. */
  valFraction?: number;
  epochs: number;
  batchSize?: number;
  learningRate?: number;
  /** Learning-rate schedule over the run (StyleTrainOptions); Settings passes the config's, as train:style does. */
  schedule?: StyleSchedule;
  minLearningRate?: number;
  seed?: number;
}

/** Progress of a training run: the covers being decoded, then each batch of each epoch. */
export type StyleTrainProgress = ({ phase: 'decode'; done: number; total: number }) | ({ phase: 'train' } & StyleEpochProgress);

export interface StyleTrainResult {
  history: StyleTrainEpoch[];
  weights: SavedStyleWeights;
  info: StyleModelInfo;
}

export interface StyleWorkerApi {
  /** Picks the backend (once per worker), starting at `preference`, and says which one it got. */
  init(preference?: StyleBackend): Promise<StyleBackend>;
  /** Uses these weights from now on. A corrupt or wrong-shape file throws a DataError and the previous weights stay. */
  load(weights: StyleWeights): Promise<StyleModelInfo>;
  /** A fresh, untrained encoder of this shape (the starting point of training from scratch). */
  create(options: StyleEncoderOptions): Promise<StyleModelInfo>;
  info(): Promise<StyleModelInfo>;
  /** The style map (t-SNE layout and K-means clusters, encoded as in the snapshot) of these L2-normalised style vectors. */
  map(style: Float32Array, dim: number): Uint8Array;
  /** Style and Gram vectors of N images, N×size×size×3 in [0,1]. */
  embed(images: Float32Array): Promise<StyleEmbedding>;
  /** Fetches, decodes and embeds covers; `failed` lists the ones that could not be read (their rows are zero). */
  embedCovers(urls: string[], onProgress?: (done: number, total: number) => void): Promise<StyleEmbedding & { failed: number[] }>;
  /** Continues training a copy of the weights in use; on success the copy is used and returned, else the old weights stay. */
  train(req: StyleTrainRequest, onProgress?: (p: StyleTrainProgress) => void): Promise<StyleTrainResult>;
  /** Stops a training run in progress (it rejects with an AbortError); not queued, so it reaches a running job. */
  cancel(): void;
}

// ---- sequence worker (workers/sequence.worker.ts): the next-title model ----

export interface SequenceModelData {
  spec: SequenceSpec;
  weights: Float32Array;
  /** The catalog's genre rows (itemCount × categories), as SequenceModel takes them. */
  itemCategories: Float32Array;
  catalogItems: number;
}

export interface SequenceWorkerApi {
  /** Builds the model (a model for another catalog is refused); answers its item count. */
  load(data: SequenceModelData): number;
  /** One score vector per sequence (catalog rows, oldest first), transferred back. */
  scores(sequences: number[][]): Float32Array[];
}

// ---- snapshot worker (workers/snapshot.worker.ts): download, hash, decode and check the snapshot ----

export interface SnapshotLoadRequest {
  /** The snapshot folder's absolute URL (a relative one would resolve against the worker's URL). */
  base: string;
  profile: SnapshotProfile;
  /** Half-float sparse rows the file cache keeps are left there for the page to read (it has their WebAssembly kernel). */
  rowsOnDisk: boolean;
}

/**
 * Takes one piece of a space's rows at byte `at` of their file, and gives its buffer back (or not). Called first
 * with neither, as soon as the rows may come (load.ts `onRowsPiece`): a cross-origin isolated page may answer with
 * shared memory the size of the file (a view on a SharedArrayBuffer), which the worker then writes the pieces into
 * itself, calling with `at` alone once every byte before `at` is there.
 */
export type RowsPieceSink = (rows: RowsOnDisk, piece?: Uint8Array, at?: number) => ArrayBuffer | Uint8Array | undefined;

export interface SnapshotWorkerApi {
  /**
   * Loads the snapshot exactly as loadSnapshot does on the page (the same checks, the same file cache), and
   * transfers the decoded snapshot back, its titles as items.json's bytes cut into them (`titles`, for the page to
   * parse and check: titles.ts TitleSlices) where the file can be cut so. Bytes of total arrive through
   * `onProgress`; the rows of a kept file it leaves on disk through `onRowsPiece` as they are checked
   * (`request.rowsOnDisk`; load.ts `onRowsPiece`), each piece transferred (the page answers with the piece's buffer,
   * for the next piece); and, as soon as items.json is in and before those rows, what the ranker reads of every
   * title through `onRankingCore` (titles.ts TitleSlices.core, its arrays transferred), where items.json can be read
   * that way and the catalog has no sequence model.
   */
  load(request: SnapshotLoadRequest, onProgress?: (p: LoadProgress) => void, onRowsPiece?: RowsPieceSink, onRankingCore?: (core: RankingCore) => void): Promise<SnapshotMessage>;
  /**
   * Rows the load left on disk but did not send (a file it had just downloaded), read from the file cache and sent
   * as `load` sends them: true once every piece went, their checksum intact; false when the kept file is gone or
   * damaged.
   */
  keptRows(rows: RowsOnDisk, onRowsPiece: RowsPieceSink, shared?: Uint8Array): Promise<boolean>;
  /**
   * Where `load` could not cut items.json into its titles (its message has no `titles`), the titles it checked whole,
   * `start` to `end` (exclusive): the page asks slice by slice, in catalog order, each once.
   */
  items(start: number, end: number): Title[];
}

// ---- sentiment worker (workers/sentiment.worker.ts): how positive a reader's note reads ----

export interface SentimentWorkerApi {
  /** Fetches and checks the model from `base` (an absolute URL of its folder); answers its bucket count. */
  load(base: string): Promise<{ dim: number }>;
  /** P(positive) per text. */
  score(texts: string[]): Promise<number[]>;
}
