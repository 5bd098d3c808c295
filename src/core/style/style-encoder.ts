/**
 * The art-style encoder (seeds 000 and 001): a convolutional autoencoder trained on cover images.
 *
 *   encoder: 4 × [conv 4×4, stride 2, leaky ReLU]  →  dense → latent mean (and log-variance for the VAE)
 *   decoder: dense → 4 × [transposed conv 4×4, stride 2], leaky ReLU between, sigmoid at the end (pixels in [0,1])
 *
 * Two vectors per image:
 * - `style`: the latent mean (never a sample, so the same weights always give the same vector);
 * - `gram`: channel Gram matrices G_jk = Σ_hw F_jhw F_khw / (H·W) of the first three encoder feature maps, each
 *   max-pooled to at most gramSize × gramSize, upper triangles concatenated, L2-normalised (texture and colour
 *   statistics, independent of where things sit in the picture).
 *
 * Pure TensorFlow.js ops on explicit variables, so it runs on whichever backend the caller selected
 * (see ../tfjs-backend.ts). Kernels 4×4 with stride 2 tile the upsampled output evenly (no checkerboard artefacts).
 */
import * as tf from '@tensorflow/tfjs';
import { defaultConfig } from '../config.ts';
import { DataError } from '../errors.ts';
import { rng, shuffle } from '../random.ts';
import { adamState, assignValues, checkResumable, restoreAdam, variableValues, type RunKey, type TrainCheckpoint } from '../train/checkpoint.ts';
import { registerWasmTrainingKernels } from './wasm-kernels.ts';
import { parseWith } from '../schema/issues.ts';
import { StyleWeightsManifestSchema, WEIGHTS_DTYPES, WEIGHTS_FORMAT, type StyleEncoderConfig, type StyleWeightsManifest, type WeightsDtype } from '../schema/style.ts';

// The weights manifest's shapes are its schema's (schema/style.ts).
export { type StyleEncoderConfig, type StyleWeightsManifest, type WeightsDtype };

export type StyleVariant = 'ae' | 'vae';
/** Learning-rate schedule of a training run: fixed, or half a cosine from the start rate down to a floor. */
export type StyleSchedule = 'constant' | 'cosine';

export interface StyleEncoderOptions {
  /** Input side in pixels; a multiple of 16 (four halvings). Default 64. */
  size?: number;
  /** Latent (style vector) dimension. Default: config.models.style. */
  latent?: number;
  /** 'ae' (plain autoencoder) or 'vae' (variational). Default 'ae'. */
  variant?: StyleVariant;
  /** Weight of KL(q(z|x) || N(0, I)) against the per-pixel reconstruction MSE (VAE only). Default 1e-4. */
  klWeight?: number;
  /** Channels of the four encoder layers (the decoder mirrors them). Default: config.models.style. */
  filters?: readonly [number, number, number, number];
  /** Each Gram matrix is max-pooled to at most gramSize × gramSize. Default: config.models.style. */
  gramSize?: number;
  /** Seed of the initial weights. Default 0. */
  seed?: number;
}


export interface StyleEmbedding {
  /** N × latent, the latent means. */
  style: Float32Array;
  /** N × gramDim, each row L2-normalised. */
  gram: Float32Array;
}

export interface StyleTrainOptions {
  // Defaults: the shipped training (config.models.style), as `npm run train:style` runs it.
  epochs?: number;
  /** On the 872 webtoon covers 16 reached val MSE 0.040 in 10 epochs, against 0.044 with 32. */
  batchSize?: number;
  /** Adam step size (the start of the schedule); 2e-3 was worse than 1e-3. */
  learningRate?: number;
  /**
   * 'constant', or 'cosine': the step size follows half a cosine over the run's batches, from learningRate down
   * to minLearningRate at the last batch.
   */
  schedule?: StyleSchedule;
  /** Where the cosine schedule ends (at most learningRate). */
  minLearningRate?: number;
  /** Mirror each training image left–right with probability ½ (a fresh draw every time it is used). */
  flip?: boolean;
  /** Seeds the batch order and the VAE's samples. */
  seed?: number;
  /** Checked between batches; an aborted run throws the signal's reason and keeps the weights reached so far. */
  signal?: AbortSignal;
  /** Called after every epoch with everything needed to resume from there (train/checkpoint.ts). */
  onCheckpoint?: (checkpoint: TrainCheckpoint<StyleTrainEpoch>) => void | Promise<void>;
  /** Goes on from this checkpoint of the same run (same settings, data and `dataKey`) instead of starting afresh. */
  resume?: TrainCheckpoint;
  /** Identifies the training data in checkpoints (e.g. the snapshot version), beyond the image counts. */
  dataKey?: string;
}

/**
 * Images read on demand, in batches: how a large catalog's covers are trained on and embedded without ever being
 * in memory at once (Node reads them from a file; a Float32Array of all the images works as one too).
 */
export interface ImageSource {
  readonly count: number;
  /** The images of `rows`, in that order: rows.length × size × size × 3 float32 in [0, 1], a fresh array. */
  read(rows: readonly number[]): Promise<Float32Array>;
}

/** All the images of a N×size×size×3 array as a source (read copies the rows asked for). */
export function imageSource(images: Float32Array, size: number): ImageSource {
  const per = size * size * 3;
  if (images.length % per !== 0) throw new RangeError(`style encoder: images must be a Float32Array of N×${size}×${size}×3 values, got length ${images.length}`);
  return {
    count: images.length / per,
    read: async (rows) => {
      const out = new Float32Array(rows.length * per);
      rows.forEach((i, k) => out.set(images.subarray(i * per, (i + 1) * per), k * per));
      return out;
    },
  };
}

/** Some rows of a source, renumbered 0…rows.length − 1 (a training or validation split, without copying it). */
export function imageRows(source: ImageSource, rows: readonly number[]): ImageSource {
  return { count: rows.length, read: (which) => source.read(which.map((r) => rows[r])) };
}

export interface StyleTrainProgress {
  /** 1-based. */
  epoch: number;
  /** 1-based index of the batch just finished. */
  batch: number;
  batches: number;
  /** Training loss of that batch (reconstruction MSE, plus klWeight × KL for the VAE). */
  loss: number;
}

export interface StyleTrainEpoch {
  epoch: number;
  /** Mean reconstruction MSE over the epoch's batches, [0,1] pixels (the VAE's uses sampled latents). */
  trainMse: number;
  /** Reconstruction MSE of the validation images from their latent means; NaN without validation images. */
  valMse: number;
  /** Mean training loss over the epoch's batches. */
  trainLoss: number;
  /** Step size of the epoch's last batch. */
  learningRate: number;
}

/**
 * A manifest plus the data of weights.bin: float32 values (a version-1 manifest), or the file's bytes (any
 * version; a Node Buffer at any offset will do).
 */
export interface StyleWeights {
  manifest: StyleWeightsManifest;
  data: Float32Array | Uint8Array;
}

/** Float32 weights as `save()` gives them (a version-1 manifest). */
export interface SavedStyleWeights extends StyleWeights {
  data: Float32Array;
  hash: string;
}

/** Weights as stored in a snapshot by `store(dtype)`: the manifest and the exact bytes of weights.bin. */
export interface StoredStyleWeights extends StyleWeights {
  data: Uint8Array;
  hash: string;
}

const MANIFEST_FILE = 'style/weights.json';
const DATA_FILE = 'style/weights.bin';
const BYTES: Record<WeightsDtype, number> = { float32: 4, float16: 2, int8: 1 };

const KERNEL = 4;
const LEAK = 0.2;
const EMBED_BATCH = 32;
// Shape and training defaults are the shipped model's (config.models.style), so every caller agrees.
const SHIPPED = defaultConfig.models.style;
const DEFAULTS: StyleEncoderConfig = {
  size: 64,
  latent: SHIPPED.latent,
  variant: 'ae',
  klWeight: 1e-4,
  filters: [...SHIPPED.filters] as StyleEncoderConfig['filters'],
  gramSize: SHIPPED.gramSize,
  seed: 0,
};

function isPositiveInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v > 0;
}

/** Fills in defaults and checks every option; throws a RangeError naming the bad one. */
function resolveConfig(options: StyleEncoderOptions): StyleEncoderConfig {
  // Only the known keys: a loaded manifest may carry anything.
  const c: StyleEncoderConfig = {
    size: options.size ?? DEFAULTS.size,
    latent: options.latent ?? DEFAULTS.latent,
    variant: options.variant ?? DEFAULTS.variant,
    klWeight: options.klWeight ?? DEFAULTS.klWeight,
    filters: (Array.isArray(options.filters) ? [...options.filters] : (options.filters ?? [...DEFAULTS.filters])) as StyleEncoderConfig['filters'],
    gramSize: options.gramSize ?? DEFAULTS.gramSize,
    seed: options.seed ?? DEFAULTS.seed,
  };
  if (!isPositiveInt(c.size) || c.size % 16 !== 0) throw new RangeError(`style encoder: size must be a positive multiple of 16, got ${c.size}`);
  if (!isPositiveInt(c.latent)) throw new RangeError(`style encoder: latent must be a positive integer, got ${c.latent}`);
  if (c.variant !== 'ae' && c.variant !== 'vae') throw new RangeError(`style encoder: variant must be 'ae' or 'vae', got ${String(c.variant)}`);
  if (!(typeof c.klWeight === 'number' && Number.isFinite(c.klWeight) && c.klWeight >= 0))
    throw new RangeError(`style encoder: klWeight must be a finite number ≥ 0, got ${c.klWeight}`);
  if (!isPositiveInt(c.gramSize)) throw new RangeError(`style encoder: gramSize must be a positive integer, got ${c.gramSize}`);
  if (!Array.isArray(c.filters) || c.filters.length !== 4 || !c.filters.every(isPositiveInt))
    throw new RangeError(`style encoder: filters must be four positive integers, got ${JSON.stringify(c.filters)}`);
  for (const ch of c.filters.slice(0, 3)) {
    // Pooling in whole blocks keeps the Gram vector the same on every backend (no padding rules involved).
    if (ch > c.gramSize && ch % c.gramSize !== 0)
      throw new RangeError(`style encoder: ${ch} channels cannot be max-pooled evenly to gramSize ${c.gramSize}`);
  }
  if (!Number.isFinite(c.seed)) throw new RangeError(`style encoder: seed must be a number, got ${c.seed}`);
  return c;
}

/** Side of the pooled Gram matrix of a layer with `channels` channels. */
function pooledSide(channels: number, gramSize: number): number {
  return Math.min(channels, gramSize);
}

/** Names and shapes of every weight, in storage order. Decoder convolution filters are [k, k, out, in]. */
function weightShapes(c: StyleEncoderConfig): { name: string; shape: number[] }[] {
  const [f1, f2, f3, f4] = c.filters;
  const cells = (c.size / 16) ** 2 * f4;
  const list: { name: string; shape: number[] }[] = [];
  const add = (name: string, shape: number[]) => list.push({ name, shape });
  let cin = 3;
  c.filters.forEach((cout, i) => {
    add(`enc${i + 1}.w`, [KERNEL, KERNEL, cin, cout]);
    add(`enc${i + 1}.b`, [cout]);
    cin = cout;
  });
  add('mean.w', [cells, c.latent]);
  add('mean.b', [c.latent]);
  if (c.variant === 'vae') {
    add('logvar.w', [cells, c.latent]);
    add('logvar.b', [c.latent]);
  }
  add('dec.w', [c.latent, cells]);
  add('dec.b', [cells]);
  const outs = [f3, f2, f1, 3];
  let din = f4;
  outs.forEach((dout, i) => {
    add(`dec${i + 1}.w`, [KERNEL, KERNEL, dout, din]);
    add(`dec${i + 1}.b`, [dout]);
    din = dout;
  });
  return list;
}

const sizeOf = (shape: number[]) => shape.reduce((a, b) => a * b, 1);

/** Glorot-uniform weights and zero biases from the project's seeded PRNG: identical on every backend. */
function initialValues(c: StyleEncoderConfig): Float32Array[] {
  const random = rng(c.seed);
  return weightShapes(c).map(({ shape }) => {
    const values = new Float32Array(sizeOf(shape));
    if (shape.length === 1) return values;
    const receptive = shape.length === 4 ? shape[0] * shape[1] : 1;
    const fanIn = receptive * shape[shape.length - 2];
    const fanOut = receptive * shape[shape.length - 1];
    const limit = Math.sqrt(6 / (fanIn + fanOut));
    for (let i = 0; i < values.length; i++) values[i] = (random() * 2 - 1) * limit;
    return values;
  });
}

/**
 * A fast 64-bit content hash (two independently seeded 32-bit multiply-xorshift lanes over the data's
 * little-endian 32-bit words, then any last bytes), as 16 hex digits. Not cryptographic: it catches corrupt or
 * mismatched files and names a set of weights, synchronously and outside secure contexts (where crypto.subtle is
 * missing). Over float32 data it is the version-1 hash, so those files keep their hashes.
 */
function hash64(header: string, bytes: Uint8Array): string {
  const text = new TextEncoder().encode(header);
  const whole = bytes.byteLength >>> 2;
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const words = new Uint32Array(aligned.buffer, aligned.byteOffset, whole);
  let h1 = 0x811c9dc5 ^ text.length;
  let h2 = 0x9747b28c ^ whole;
  const mix = (w: number) => {
    h1 = Math.imul(h1 ^ w, 0x85ebca6b);
    h1 ^= h1 >>> 13;
    h2 = Math.imul(h2 ^ w, 0xc2b2ae35);
    h2 ^= h2 >>> 16;
  };
  for (let i = 0; i < text.length; i++) mix(text[i]);
  for (let i = 0; i < whole; i++) mix(words[i]);
  for (let i = whole * 4; i < bytes.byteLength; i++) mix(bytes[i] | 0x100); // tail bytes, told apart from words
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x7feb352d) ^ h2;
  h2 = Math.imul(h2 ^ (h2 >>> 15), 0x846ca68b) ^ h1;
  return (h1 >>> 0).toString(16).padStart(8, '0') + (h2 >>> 0).toString(16).padStart(8, '0');
}

type TensorList = { name: string; shape: number[] }[];

/** Version 1 (float32): config and tensors. Version 2 adds the storage (dtype, scales) to what is hashed. */
function manifestHash(config: StyleEncoderConfig, tensors: TensorList, bytes: Uint8Array, storage?: { dtype: WeightsDtype; scales?: number[] }): string {
  return hash64(JSON.stringify(storage ? { config, tensors, ...storage } : { config, tensors }), bytes);
}

/** The bytes behind any binary input (a Node Buffer may start at any offset). */
function asBytes(data: unknown): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new DataError(DATA_FILE, 'must be a Float32Array or bytes');
}

/** The values as a 4-byte-aligned Float32Array. */
function asFloat32(bytes: Uint8Array): Float32Array {
  if (bytes.byteLength % 4 !== 0) throw new DataError(DATA_FILE, `has ${bytes.byteLength} bytes, not a whole number of float32 values`);
  return bytes.byteOffset % 4 === 0 ? new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4) : new Float32Array(bytes.slice().buffer);
}

// ---- float16 (IEEE 754 binary16), round to nearest even ----

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The binary16 bits nearest to v; NaN when |v| is beyond float16's range (65504). */
export function toFloat16Bits(v: number): number {
  f32[0] = v;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff || Math.abs(f32[0]) > 65504) return NaN;
  const e = exp - 127 + 15;
  if (e >= 0x1f) return NaN;
  if (e <= 0) {
    // Subnormal (or zero) in float16: shift the mantissa, with its hidden bit, into place and round.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m;
  }
  const rest = mant & 0x1fff;
  let h = (e << 10) | (mant >>> 13);
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // may carry into the exponent: still correct
  if ((h & 0x7fff) >= 0x7c00) return NaN;
  return sign | h;
}

/** The value of binary16 bits. */
export function fromFloat16Bits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/**
 * Float32 weights (as `save()` gives them) in the storage of `dtype`: float32 as they are (version 1), float16
 * (nearest value), or int8 with one scale per tensor (largest magnitude ↦ ±127). Throws a RangeError for a value
 * float16 cannot hold.
 */
export function encodeStyleWeights(saved: { manifest: StyleWeightsManifest; data: Float32Array }, dtype: WeightsDtype): StoredStyleWeights {
  if (!WEIGHTS_DTYPES.includes(dtype)) throw new RangeError(`style weights: dtype must be float32, float16 or int8, got ${String(dtype)}`);
  const { config, tensors } = saved.manifest;
  const values = saved.data;
  if (dtype === 'float32') {
    const bytes = new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
    const hash = manifestHash(config, tensors, bytes);
    return { manifest: { format: WEIGHTS_FORMAT, version: 1, config, tensors, hash }, data: bytes, hash };
  }
  const bytes = new Uint8Array(values.length * BYTES[dtype]);
  let scales: number[] | undefined;
  if (dtype === 'float16') {
    const view = new DataView(bytes.buffer);
    for (let i = 0; i < values.length; i++) {
      const h = toFloat16Bits(values[i]);
      if (Number.isNaN(h)) throw new RangeError(`style weights: value ${i} (${values[i]}) cannot be stored as float16`);
      view.setUint16(2 * i, h, true);
    }
  } else {
    scales = [];
    const codes = new Int8Array(bytes.buffer);
    let offset = 0;
    for (const { shape } of tensors) {
      const n = sizeOf(shape);
      let max = 0;
      for (let i = offset; i < offset + n; i++) max = Math.max(max, Math.abs(values[i]));
      const scale = Math.fround(max / 127);
      for (let i = offset; i < offset + n; i++) codes[i] = scale > 0 ? Math.max(-127, Math.min(127, Math.round(values[i] / scale))) : 0;
      scales.push(scale);
      offset += n;
    }
  }
  const storage = scales ? { dtype, scales } : { dtype };
  const hash = manifestHash(config, tensors, bytes, storage);
  // Version 2 for float16/int8; float32 weights are still written as version 1.
  return { manifest: { format: WEIGHTS_FORMAT, version: 2, config, tensors, ...storage, hash }, data: bytes, hash };
}

/** The stored values back as float32, `total` of them (length already checked). */
function decodeValues(bytes: Uint8Array, dtype: WeightsDtype, total: number, tensors: TensorList, scales: number[] | undefined): Float32Array {
  if (dtype === 'float32') return asFloat32(bytes);
  const out = new Float32Array(total);
  if (dtype === 'float16') {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let i = 0; i < total; i++) out[i] = fromFloat16Bits(view.getUint16(2 * i, true));
    return out;
  }
  const codes = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  tensors.forEach(({ shape }, t) => {
    const n = sizeOf(shape);
    for (let i = offset; i < offset + n; i++) out[i] = codes[i] * scales![t];
    offset += n;
  });
  return out;
}

function sameShape(a: unknown, b: number[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * Checks a manifest + data pair completely (format, version, config, tensor list, storage, size, content hash,
 * finite values) and gives the config and the float32 values. Throws a DataError naming the file otherwise.
 */
export function decodeStyleWeights(raw: { manifest: unknown; data: unknown }): { config: StyleEncoderConfig; tensors: TensorList; data: Float32Array } {
  const m = parseWith(StyleWeightsManifestSchema, raw.manifest, MANIFEST_FILE);
  let config: StyleEncoderConfig;
  try {
    config = resolveConfig(m.config);
  } catch (e) {
    throw new DataError(MANIFEST_FILE, (e as Error).message, { field: 'config' });
  }
  const expected = weightShapes(config);
  if (m.tensors.length !== expected.length)
    throw new DataError(MANIFEST_FILE, `lists ${m.tensors.length} tensors, the configured model has ${expected.length}`, { field: 'tensors' });
  expected.forEach((e, i) => {
    const t = m.tensors[i];
    if (t.name !== e.name) throw new DataError(MANIFEST_FILE, `tensor ${i} is ${JSON.stringify(t.name)}, expected "${e.name}"`, { field: 'tensors' });
    if (!sameShape(t.shape, e.shape))
      throw new DataError(MANIFEST_FILE, `tensor "${e.name}" has shape ${JSON.stringify(t.shape)}, expected [${e.shape.join(',')}]`, { field: 'tensors' });
  });

  // Storage: version 1 is float32; version 2 names its dtype, and int8 needs one scale per tensor.
  let dtype: WeightsDtype = 'float32';
  let scales: number[] | undefined;
  if (m.version === 2) {
    if (m.dtype === undefined) throw new DataError(MANIFEST_FILE, 'is missing (version 2 names how the values are stored: float32, float16 or int8)', { field: 'dtype' });
    dtype = m.dtype;
    if (dtype === 'int8') {
      if (m.scales?.length !== expected.length)
        throw new DataError(MANIFEST_FILE, `int8 weights need ${expected.length} finite scales ≥ 0, one per tensor`, { field: 'scales' });
      scales = m.scales;
    } else if (m.scales !== undefined) throw new DataError(MANIFEST_FILE, `scales are only for int8 weights, not ${dtype}`, { field: 'scales' });
  } else if (m.dtype !== undefined && m.dtype !== 'float32') {
    throw new DataError(MANIFEST_FILE, `version 1 stores float32, but dtype is ${JSON.stringify(m.dtype)}`, { field: 'dtype' });
  }

  const bytes = asBytes(raw.data);
  const total = expected.reduce((s, e) => s + sizeOf(e.shape), 0);
  if (dtype === 'float32') {
    if (bytes.byteLength % 4 !== 0)
      throw new DataError(DATA_FILE, `has ${bytes.byteLength} bytes, not a whole number of float32 values (the manifest needs ${total}, ${4 * total} bytes)`);
    if (bytes.byteLength !== 4 * total) throw new DataError(DATA_FILE, `holds ${bytes.byteLength / 4} float32 values, the manifest needs ${total}`);
  } else if (bytes.byteLength !== total * BYTES[dtype]) {
    throw new DataError(DATA_FILE, `has ${bytes.byteLength} bytes, the manifest needs ${total} ${dtype} values (${total * BYTES[dtype]} bytes)`);
  }
  const actual = manifestHash(config, expected, bytes, m.version === 2 ? (scales ? { dtype, scales } : { dtype }) : undefined);
  if (actual !== m.hash) throw new DataError(DATA_FILE, `content hash ${actual} does not match the manifest's ${m.hash} (corrupt or from another model)`);
  const data = decodeValues(bytes, dtype, total, expected, scales);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new DataError(DATA_FILE, `value ${i} is not finite`);
  }
  return { config, tensors: expected, data };
}

/** Lets timers and messages (an abort from the UI or a worker message) run between training batches. */
const nextTask = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
const range = (start: number, end: number) => Array.from({ length: end - start }, (_, i) => start + i);

export class StyleEncoder {
  readonly config: StyleEncoderConfig;
  /** Length of each `gram` row. */
  readonly gramDim: number;
  private readonly names: string[];
  private readonly weights: Map<string, tf.Variable>;
  /** Upper-triangle positions in each pooled, flattened Gram matrix. */
  private readonly triangles: Int32Array[];
  private disposed = false;

  private constructor(config: StyleEncoderConfig, values: Float32Array[]) {
    this.config = config;
    const shapes = weightShapes(config);
    this.names = shapes.map((s) => s.name);
    this.triangles = config.filters.slice(0, 3).map((ch) => {
      const p = pooledSide(ch, config.gramSize);
      const idx: number[] = [];
      for (let i = 0; i < p; i++) for (let j = i; j < p; j++) idx.push(i * p + j);
      return Int32Array.from(idx);
    });
    this.gramDim = this.triangles.reduce((s, t) => s + t.length, 0);
    this.weights = new Map();
    try {
      shapes.forEach(({ name, shape }, i) => {
        const initial = tf.tensor(values[i], shape, 'float32');
        this.weights.set(name, tf.variable(initial, true, undefined, 'float32'));
        initial.dispose(); // the variable holds its own reference to the data
      });
    } catch (e) {
      this.dispose();
      throw e;
    }
  }

  /** A fresh, untrained encoder. */
  static create(options: StyleEncoderOptions = {}): StyleEncoder {
    const config = resolveConfig(options);
    return new StyleEncoder(config, initialValues(config));
  }

  /**
   * Rebuilds an encoder from `save()`'s output (or the parsed weights.json plus the bytes of weights.bin).
   * Everything is checked first, so a corrupt or mismatched file throws a DataError and creates no tensors.
   */
  static load(weights: { manifest: unknown; data: Float32Array | ArrayBuffer | ArrayBufferView }): StyleEncoder {
    const { config, data } = decodeStyleWeights(weights);
    const values: Float32Array[] = [];
    let offset = 0;
    for (const { shape } of weightShapes(config)) {
      const n = sizeOf(shape);
      values.push(data.slice(offset, offset + n));
      offset += n;
    }
    return new StyleEncoder(config, values);
  }

  /** The weights as a manifest (JSON-ready) plus one Float32Array, and their content hash. */
  async save(): Promise<SavedStyleWeights> {
    this.checkAlive();
    const tensors = weightShapes(this.config);
    const data = new Float32Array(tensors.reduce((s, t) => s + sizeOf(t.shape), 0));
    let offset = 0;
    for (const name of this.names) {
      const values = await this.weights.get(name)!.data<'float32'>();
      data.set(values, offset);
      offset += values.length;
    }
    const config = { ...this.config, filters: [...this.config.filters] as StyleEncoderConfig['filters'] };
    const hash = manifestHash(config, tensors, new Uint8Array(data.buffer));
    return { manifest: { format: WEIGHTS_FORMAT, version: 1, config, tensors, hash }, data, hash };
  }

  /** The weights as a snapshot stores them: the manifest and the bytes of weights.bin in `dtype` (encodeStyleWeights). */
  async store(dtype: WeightsDtype): Promise<StoredStyleWeights> {
    return encodeStyleWeights(await this.save(), dtype);
  }

  /** Style (latent mean) and Gram vectors of N images, N×size×size×3 RGB in [0,1] (or read from a source). */
  async embed(images: Float32Array | ImageSource): Promise<StyleEmbedding> {
    const source = this.sourceOf(images, 'images');
    const n = source.count;
    const style = new Float32Array(n * this.config.latent);
    const gram = new Float32Array(n * this.gramDim);
    for (let start = 0; start < n; start += EMBED_BATCH) {
      const end = Math.min(n, start + EMBED_BATCH);
      const pixels = await source.read(range(start, end));
      const [mean, g] = tf.tidy(() => {
        const x = this.batchTensor(pixels, end - start);
        const { mean, features } = this.encode(x);
        return [mean, this.gramVectors(features)];
      });
      style.set(await mean.data<'float32'>(), start * this.config.latent);
      gram.set(await g.data<'float32'>(), start * this.gramDim);
      tf.dispose([mean, g]);
    }
    return { style, gram };
  }

  /** Reconstructions (from the latent means) of N images, same layout as the input. */
  async reconstruct(images: Float32Array): Promise<Float32Array> {
    const n = this.countImages(images, 'images');
    const out = new Float32Array(images.length);
    const per = this.config.size * this.config.size * 3;
    for (let start = 0; start < n; start += EMBED_BATCH) {
      const end = Math.min(n, start + EMBED_BATCH);
      const y = tf.tidy(() => this.decode(this.encode(this.batchTensor(images.subarray(start * per, end * per), end - start)).mean));
      out.set(await y.data<'float32'>(), start * per);
      y.dispose();
    }
    return out;
  }

  /**
   * Trains with Adam on shuffled mini-batches; after each epoch measures the validation MSE. Resolves to the
   * per-epoch history. Aborting `signal` stops before the next batch by throwing the signal's reason.
   */
  async train(
    trainImages: Float32Array | ImageSource,
    valImages: Float32Array | ImageSource,
    options: StyleTrainOptions = {},
    onProgress?: (p: StyleTrainProgress) => void,
  ): Promise<StyleTrainEpoch[]> {
    const {
      epochs = SHIPPED.epochs,
      batchSize = SHIPPED.batchSize,
      learningRate = SHIPPED.learningRate,
      schedule = SHIPPED.schedule,
      flip = SHIPPED.flip,
      seed = 0,
      signal,
    } = options;
    const minLearningRate = options.minLearningRate ?? Math.min(SHIPPED.minLearningRate, learningRate);
    if (!isPositiveInt(epochs) && epochs !== 0) throw new RangeError(`style train: epochs must be a whole number, got ${epochs}`);
    if (!isPositiveInt(batchSize)) throw new RangeError(`style train: batchSize must be a positive integer, got ${batchSize}`);
    if (!(learningRate > 0)) throw new RangeError(`style train: learningRate must be > 0, got ${learningRate}`);
    if (schedule !== 'constant' && schedule !== 'cosine') throw new RangeError(`style train: schedule must be 'constant' or 'cosine', got ${String(schedule)}`);
    if (!(minLearningRate >= 0 && minLearningRate <= learningRate))
      throw new RangeError(`style train: minLearningRate must be in [0, learningRate], got ${minLearningRate}`);
    const trainSource = this.sourceOf(trainImages, 'trainImages');
    const valSource = this.sourceOf(valImages, 'valImages');
    const n = trainSource.count;
    if (n === 0) throw new RangeError('style train: no training images');
    registerWasmTrainingKernels(); // the wasm backend lacks the conv filter gradient; a no-op elsewhere

    const c = this.config;
    const run: RunKey = {
      variant: c.variant, size: c.size, latent: c.latent, filters: c.filters.join(','), gramSize: c.gramSize, klWeight: c.klWeight,
      epochs, batchSize, learningRate, schedule, minLearningRate, flip, seed, train: n, validation: valSource.count, data: options.dataKey ?? null,
    };
    const { resume } = options;
    if (resume) checkResumable(resume, 'style', run, epochs, n);
    const random = rng(resume ? resume.random : seed);
    const order = resume ? resume.order.slice() : Array.from({ length: n }, (_, i) => i);
    const batches = Math.ceil(n / batchSize);
    const trainable = this.names.map((name) => this.weights.get(name)!);
    const optimizer = tf.train.adam(learningRate);
    if (resume) {
      assignValues(trainable, resume.weights);
      await restoreAdam(optimizer, trainable, resume.adam);
    }
    // tfjs' Adam reads its step size at every update, so the schedule sets it before each batch.
    const rate = optimizer as unknown as { learningRate: number };
    const steps = epochs * batches;
    const stepSize = (step: number) =>
      schedule === 'cosine' && steps > 1 ? minLearningRate + 0.5 * (learningRate - minLearningRate) * (1 + Math.cos((Math.PI * step) / (steps - 1))) : learningRate;
    const history: StyleTrainEpoch[] = resume ? (resume.history as StyleTrainEpoch[]).slice() : [];
    try {
      for (let epoch = (resume?.epoch ?? 0) + 1; epoch <= epochs; epoch++) {
        shuffle(order, random);
        let lossSum = 0;
        let mseSum = 0;
        for (let b = 0; b < batches; b++) {
          await nextTask();
          signal?.throwIfAborted();
          rate.learningRate = stepSize((epoch - 1) * batches + b);
          const idx = order.slice(b * batchSize, (b + 1) * batchSize);
          const noiseSeed = Math.floor(random() * 2 ** 31);
          const x = this.batchTensor(await trainSource.read(idx), idx.length, flip ? idx.map(() => random() < 0.5) : undefined);
          let mse: tf.Scalar | undefined;
          const loss = optimizer.minimize(
            () => {
              const terms = this.lossTerms(x, noiseSeed);
              mse = tf.keep(terms.mse);
              return terms.loss;
            },
            true,
            trainable,
          )!;
          const [l, m] = await Promise.all([loss.data(), mse!.data()]);
          tf.dispose([x, loss, mse!]);
          lossSum += l[0] * idx.length;
          mseSum += m[0] * idx.length;
          onProgress?.({ epoch, batch: b + 1, batches, loss: l[0] });
        }
        history.push({ epoch, trainMse: mseSum / n, valMse: await this.meanSquaredError(valSource), trainLoss: lossSum / n, learningRate: rate.learningRate });
        if (options.onCheckpoint)
          await options.onCheckpoint({ kind: 'style', run, epoch, random: random.state(), order: order.slice(), history: history.slice(), weights: await variableValues(trainable), adam: await adamState(optimizer, trainable) });
      }
    } finally {
      optimizer.dispose();
    }
    return history;
  }

  /** Frees every tensor the encoder owns. Idempotent. */
  dispose(): void {
    for (const v of this.weights.values()) v.dispose();
    this.weights.clear();
    this.disposed = true;
  }

  // ---- model ----

  private w(name: string): tf.Variable {
    return this.weights.get(name)!;
  }

  /** Encoder pass: latent mean, log-variance (VAE), and the first three feature maps (for the Gram vector). */
  private encode(x: tf.Tensor4D): { mean: tf.Tensor2D; logVar?: tf.Tensor2D; features: tf.Tensor4D[] } {
    const features: tf.Tensor4D[] = [];
    let h = x;
    for (let i = 1; i <= 4; i++) {
      h = tf.leakyRelu(tf.add(tf.conv2d(h, this.w(`enc${i}.w`) as tf.Tensor4D, 2, 'same'), this.w(`enc${i}.b`)), LEAK);
      features.push(h);
    }
    const flat = tf.reshape(h, [h.shape[0], -1]) as tf.Tensor2D;
    const mean = tf.add(tf.matMul(flat, this.w('mean.w') as tf.Tensor2D), this.w('mean.b')) as tf.Tensor2D;
    const logVar =
      this.config.variant === 'vae' ? (tf.add(tf.matMul(flat, this.w('logvar.w') as tf.Tensor2D), this.w('logvar.b')) as tf.Tensor2D) : undefined;
    return { mean, logVar, features: features.slice(0, 3) };
  }

  private decode(z: tf.Tensor2D): tf.Tensor4D {
    const side = this.config.size / 16;
    const f4 = this.config.filters[3];
    const dense = tf.leakyRelu(tf.add(tf.matMul(z, this.w('dec.w') as tf.Tensor2D), this.w('dec.b')), LEAK);
    let h = tf.reshape(dense, [z.shape[0], side, side, f4]) as tf.Tensor4D;
    for (let i = 1; i <= 4; i++) {
      const filter = this.w(`dec${i}.w`) as tf.Tensor4D;
      const outShape: [number, number, number, number] = [h.shape[0], h.shape[1] * 2, h.shape[2] * 2, filter.shape[2]];
      const pre = tf.add(tf.conv2dTranspose(h, filter, outShape, 2, 'same'), this.w(`dec${i}.b`)) as tf.Tensor4D;
      h = i < 4 ? tf.leakyRelu(pre, LEAK) : tf.sigmoid(pre);
    }
    return h;
  }

  /** Reconstruction MSE and the total loss (plus klWeight × KL for the VAE, with a reparameterised sample). */
  private lossTerms(x: tf.Tensor4D, noiseSeed: number): { mse: tf.Scalar; loss: tf.Scalar } {
    const { mean, logVar: rawLogVar } = this.encode(x);
    if (!rawLogVar) {
      const mse = tf.losses.meanSquaredError(x, this.decode(mean)) as tf.Scalar;
      return { mse, loss: mse };
    }
    // Bounded so that exp() can neither overflow nor collapse the sampling noise to exactly zero.
    const logVar = tf.clipByValue(rawLogVar, -10, 10);
    const eps = tf.randomNormal(mean.shape, 0, 1, 'float32', noiseSeed);
    const z = tf.add(mean, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps)) as tf.Tensor2D;
    const mse = tf.losses.meanSquaredError(x, this.decode(z)) as tf.Scalar;
    // KL(N(μ, σ²) || N(0, 1)) summed over latent dimensions, averaged over the batch.
    const kl = tf.mean(tf.sum(tf.mul(-0.5, tf.sub(tf.sub(tf.add(1, logVar), tf.square(mean)), tf.exp(logVar))), 1)) as tf.Scalar;
    return { mse, loss: tf.add(mse, tf.mul(kl, this.config.klWeight)) as tf.Scalar };
  }

  /** N × gramDim: pooled upper-triangle Gram entries of the given feature maps, concatenated, L2-normalised. */
  private gramVectors(features: tf.Tensor4D[]): tf.Tensor2D {
    const parts = features.map((f, l) => {
      const [n, h, w, c] = f.shape;
      const flat = tf.reshape(f, [n, h * w, c]) as tf.Tensor3D;
      let g = tf.div(tf.matMul(flat, flat, true, false), h * w) as tf.Tensor3D; // [N, C, C]
      const p = pooledSide(c, this.config.gramSize);
      if (p < c) {
        const block = c / p; // whole blocks: checked in resolveConfig
        g = tf.max(tf.reshape(g, [n, p, block, p, block]), [2, 4]) as tf.Tensor3D;
      }
      return tf.gather(tf.reshape(g, [n, p * p]), tf.tensor1d(this.triangles[l], 'int32'), 1);
    });
    const all = tf.concat(parts, 1) as tf.Tensor2D;
    return tf.div(all, tf.maximum(tf.norm(all, 'euclidean', 1, true), 1e-12)) as tf.Tensor2D;
  }

  // ---- data ----

  private checkAlive(): void {
    if (this.disposed) throw new Error('style encoder: used after dispose()');
  }

  private countImages(images: Float32Array, what: string): number {
    this.checkAlive();
    const per = this.config.size * this.config.size * 3;
    if (!(images instanceof Float32Array) || images.length % per !== 0)
      throw new RangeError(`style encoder: ${what} must be a Float32Array of N×${this.config.size}×${this.config.size}×3 values, got length ${images?.length}`);
    return images.length / per;
  }

  /** A Float32Array of images as a source (checked), or the source as it is. */
  private sourceOf(images: Float32Array | ImageSource, what: string): ImageSource {
    if (!(images instanceof Float32Array)) {
      this.checkAlive();
      return images;
    }
    this.countImages(images, what);
    return imageSource(images, this.config.size);
  }

  /** `count` images as a batch tensor; those with `mirrored[k]` flipped left–right (in `pixels`, in place). */
  private batchTensor(pixels: Float32Array, count: number, mirrored?: boolean[]): tf.Tensor4D {
    const s = this.config.size;
    const per = s * s * 3;
    const row = s * 3;
    if (pixels.length !== count * per) throw new RangeError(`style encoder: an image source gave ${pixels.length} values for ${count} images of ${s}×${s}×3`);
    mirrored?.forEach((flip, k) => {
      if (!flip) return;
      for (let y = 0; y < s; y++)
        for (let x = 0; x < s / 2; x++) {
          const a = k * per + y * row + x * 3;
          const b = k * per + y * row + (s - 1 - x) * 3;
          for (let ch = 0; ch < 3; ch++) [pixels[a + ch], pixels[b + ch]] = [pixels[b + ch], pixels[a + ch]];
        }
    });
    return tf.tensor4d(pixels, [count, s, s, 3]);
  }

  /** Reconstruction MSE (per value, [0,1] pixels) from the latent means; NaN for no images. */
  async meanSquaredError(images: Float32Array | ImageSource): Promise<number> {
    const source = this.sourceOf(images, 'images');
    const n = source.count;
    if (n === 0) return NaN;
    let sum = 0;
    for (let start = 0; start < n; start += EMBED_BATCH) {
      const end = Math.min(n, start + EMBED_BATCH);
      const pixels = await source.read(range(start, end));
      const se = tf.tidy(() => {
        const x = this.batchTensor(pixels, end - start);
        return tf.sum(tf.squaredDifference(x, this.decode(this.encode(x).mean)));
      });
      sum += (await se.data())[0];
      se.dispose();
    }
    return sum / (n * this.config.size * this.config.size * 3);
  }
}
