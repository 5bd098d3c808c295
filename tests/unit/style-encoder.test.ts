import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { chooseTfjsBackend } from '../../src/core/tfjs-backend.ts';
import { StyleEncoder, type StyleEncoderOptions, type StyleTrainProgress } from '../../src/core/style/style-encoder.ts';
import { DataError } from '../../src/core/errors.ts';
import { defaultConfig } from '../../src/core/config.ts';
import { loadCovers, splitCovers } from './helpers/covers.ts';
import { decodeCheckpoint, encodeCheckpoint, type TrainCheckpoint } from '../../src/core/train/checkpoint.ts';

const SIZE = 64;
const PER = SIZE * SIZE * 3;
// Small enough to train a few epochs in seconds on one core, big enough to learn something real.
const SMALL: StyleEncoderOptions = { filters: [8, 16, 32, 64], latent: 32, gramSize: 16, seed: 1 };

let train: Float32Array;
let val: Float32Array;

function mse(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
}

beforeAll(async () => {
  expect(await chooseTfjsBackend('wasm')).toBe('wasm');
  const covers = await loadCovers(SIZE, 200);
  expect(covers.images.length).toBe(200 * PER);
  ({ train, val } = splitCovers(covers.images, SIZE, 0.1, 1));
});

describe('StyleEncoder training on real covers (wasm)', () => {
  it.each(['ae', 'vae'] as const)('%s: a few epochs lower the validation MSE', async (variant) => {
    const tensorsBefore = tf.memory().numTensors;
    const enc = StyleEncoder.create({ ...SMALL, variant });
    const untrained = mse(await enc.reconstruct(val), val);
    const progress: StyleTrainProgress[] = [];
    const history = await enc.train(train, val, { epochs: 4, batchSize: 8, learningRate: 2e-3, schedule: 'constant', flip: false, seed: 1 }, (p) => progress.push(p));

    expect(history.map((h) => h.epoch)).toEqual([1, 2, 3, 4]);
    const batches = Math.ceil(180 / 8);
    expect(progress).toHaveLength(4 * batches);
    expect(progress[batches]).toMatchObject({ epoch: 2, batch: 1, batches });
    for (const h of history) {
      expect(Number.isFinite(h.trainMse) && Number.isFinite(h.valMse) && Number.isFinite(h.trainLoss)).toBe(true);
      // The VAE's loss adds a positive KL term; the plain autoencoder's loss is the MSE.
      if (variant === 'vae') expect(h.trainLoss).toBeGreaterThan(h.trainMse);
      else expect(h.trainLoss).toBeCloseTo(h.trainMse, 6);
    }
    const last = history[history.length - 1];
    expect(last.valMse).toBeLessThan(0.85 * untrained);
    expect(last.valMse).toBeLessThan(history[0].valMse);
    // valMse is the MSE of reconstruct() on the validation images.
    expect(last.valMse).toBeCloseTo(mse(await enc.reconstruct(val), val), 5);

    enc.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('follows the learning-rate schedule: constant, or half a cosine down to the floor at the last batch', async () => {
    const few = train.subarray(0, 16 * PER);
    const rates = async (options: Parameters<StyleEncoder['train']>[2]) => {
      const enc = StyleEncoder.create(SMALL);
      const history = await enc.train(few, val.subarray(0, 2 * PER), { epochs: 3, batchSize: 8, ...options });
      enc.dispose();
      return history.map((h) => h.learningRate);
    };
    expect(await rates({ learningRate: 2e-3, schedule: 'constant' })).toEqual([2e-3, 2e-3, 2e-3]);
    // 6 batches: step t of 0…5 has rate min + (max − min)(1 + cos(πt/5))/2; each epoch reports its last batch's.
    const cosine = await rates({ learningRate: 2e-3, schedule: 'cosine', minLearningRate: 1e-4 });
    const at = (t: number) => 1e-4 + 0.5 * (2e-3 - 1e-4) * (1 + Math.cos((Math.PI * t) / 5));
    cosine.forEach((r, i) => expect(r).toBeCloseTo(at(2 * i + 1), 10));
    expect(cosine[2]).toBeCloseTo(1e-4, 12);
    const enc = StyleEncoder.create(SMALL);
    await expect(enc.train(few, val, { schedule: 'linear' as never })).rejects.toThrow(/schedule must be 'constant' or 'cosine'/);
    await expect(enc.train(few, val, { learningRate: 1e-3, minLearningRate: 2e-3 })).rejects.toThrow(/minLearningRate must be in \[0, learningRate\]/);
    enc.dispose();
  });

  it('mirrors training images at random when asked: seeded, so the same run gives the same weights', async () => {
    const few = train.subarray(0, 8 * PER);
    const run = async (flip: boolean) => {
      const enc = StyleEncoder.create(SMALL);
      await enc.train(few, val.subarray(0, PER), { epochs: 1, batchSize: 4, flip, seed: 2 });
      const { hash } = await enc.save();
      enc.dispose();
      return hash;
    };
    const mirrored = await run(true);
    expect(await run(true)).toBe(mirrored);
    expect(await run(false)).not.toBe(mirrored);
    // Mirroring a left–right symmetric set changes nothing: the images are the same, so is every update.
    const symmetric = new Float32Array(8 * PER);
    for (let i = 0; i < 8; i++)
      for (let y = 0; y < SIZE; y++)
        for (let x = 0; x < SIZE; x++)
          for (let c = 0; c < 3; c++) symmetric[i * PER + (y * SIZE + x) * 3 + c] = few[i * PER + (y * SIZE + Math.min(x, SIZE - 1 - x)) * 3 + c];
    const onSymmetric = async (flip: boolean) => {
      const enc = StyleEncoder.create(SMALL);
      await enc.train(symmetric, symmetric.subarray(0, PER), { epochs: 1, batchSize: 4, flip, seed: 2 });
      const out = await enc.embed(symmetric.subarray(0, PER));
      enc.dispose();
      return Array.from(out.style);
    };
    const [a, b] = [await onSymmetric(true), await onSymmetric(false)];
    a.forEach((v, i) => expect(v).toBeCloseTo(b[i], 5));
  });

  it('resumes from a checkpoint (through its file) to the very weights of an uninterrupted run, and refuses another run\'s', async () => {
    const few = train.subarray(0, 40 * PER);
    const held = val.subarray(0, 8 * PER);
    // Read through an image source, as train:style reads its cover file.
    const source = { count: 40, read: async (rows: readonly number[]) => Float32Array.from(rows.flatMap((i) => Array.from(few.subarray(i * PER, (i + 1) * PER)))) };
    const options = { epochs: 3, batchSize: 8, learningRate: 2e-3, schedule: 'cosine' as const, flip: true, seed: 4, dataKey: 'covers-v1' };
    const tensorsBefore = tf.memory().numTensors;
    const straight = StyleEncoder.create({ ...SMALL, variant: 'vae' });
    const whole = await straight.train(few, held, options);
    const expected = await straight.save();

    const files: Uint8Array[] = [];
    const first = StyleEncoder.create({ ...SMALL, variant: 'vae' });
    const stop = new AbortController();
    await expect(
      first.train(source, held, { ...options, signal: stop.signal, onCheckpoint: (c) => void files.push(encodeCheckpoint(c)) }, (p) => {
        if (p.epoch === 2 && p.batch === 2) stop.abort(); // the process dies in epoch 2
      }),
    ).rejects.toMatchObject({ name: 'AbortError' });
    first.dispose();
    expect(files).toHaveLength(1);
    const checkpoint = decodeCheckpoint(files[0], 'style.ckpt');
    expect(checkpoint.epoch).toBe(1);

    const resumed = StyleEncoder.create({ ...SMALL, variant: 'vae', seed: 99 }); // its own initial weights are replaced
    const history = await resumed.train(few, held, { ...options, resume: checkpoint });
    expect(history).toEqual(whole);
    expect(Array.from((await resumed.save()).data)).toEqual(Array.from(expected.data));

    const other: TrainCheckpoint = { ...checkpoint, run: { ...checkpoint.run, data: 'covers-v2' } };
    await expect(resumed.train(few, held, { ...options, resume: other })).rejects.toThrow(/belongs to another run: data is "covers-v2" there and "covers-v1" here/);
    await expect(resumed.train(few.subarray(0, 32 * PER), held, { ...options, resume: checkpoint })).rejects.toThrow(/train is 40 there and 32 here/);
    const cut = files[0].subarray(0, files[0].length - 4);
    expect(() => decodeCheckpoint(cut, 'style.ckpt')).toThrow(/style\.ckpt: holds \d+ bytes of weights and moments, not \d+ \(truncated\?\)/);
    expect(() => decodeCheckpoint(new TextEncoder().encode('{"kind":"style"}'), 'x.ckpt')).toThrow(/x\.ckpt: is not a Toonpick training checkpoint/);
    straight.dispose();
    resumed.dispose();
    expect(tf.memory().numTensors).toBe(tensorsBefore); // nothing leaked by checkpoints, an interrupted run or resuming
  });

  it('stops between batches when the signal is aborted, keeping what it learned', async () => {
    const enc = StyleEncoder.create(SMALL);
    const controller = new AbortController();
    let seen = 0;
    const run = enc.train(train, val, { epochs: 3, batchSize: 16, signal: controller.signal }, () => {
      if (++seen === 2) controller.abort();
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toBe(2);
    // Still usable after the abort, and nothing leaked from the interrupted run (optimizer state included).
    const before = tf.memory().numTensors;
    await enc.embed(val.subarray(0, PER));
    expect(tf.memory().numTensors).toBe(before);
    const aborted = new AbortController();
    aborted.abort();
    await expect(enc.train(train, val, { signal: aborted.signal })).rejects.toMatchObject({ name: 'AbortError' });
    enc.dispose();
  });
});

describe('StyleEncoder embeddings and weights', () => {
  it('embeds deterministically: latent means and L2-normalised Gram vectors', async () => {
    const images = val.subarray(0, 5 * PER);
    const a = StyleEncoder.create(SMALL);
    const b = StyleEncoder.create(SMALL);
    const first = await a.embed(images);
    expect(first.style).toHaveLength(5 * 32);
    // Pooled Gram sides min(C, 16) for C = 8, 16, 32: triangles of 36 + 136 + 136.
    expect(a.gramDim).toBe(36 + 136 + 136);
    expect(first.gram).toHaveLength(5 * a.gramDim);
    for (let i = 0; i < 5; i++) {
      const row = first.gram.subarray(i * a.gramDim, (i + 1) * a.gramDim);
      expect(Math.hypot(...row)).toBeCloseTo(1, 5);
    }
    // Different covers give different vectors.
    expect(Array.from(first.gram.subarray(0, a.gramDim))).not.toEqual(Array.from(first.gram.subarray(a.gramDim, 2 * a.gramDim)));
    expect(Array.from(first.style.subarray(0, 32))).not.toEqual(Array.from(first.style.subarray(32, 64)));

    const again = await a.embed(images);
    expect(again.style).toEqual(first.style);
    expect(again.gram).toEqual(first.gram);
    // Same seed, same weights, same vectors; batching does not change them (32 per batch internally).
    expect((await b.embed(images)).style).toEqual(first.style);
    const many = await a.embed(val);
    expect(many.style.subarray(0, 5 * 32)).toEqual(first.style);

    const vae = StyleEncoder.create({ ...SMALL, variant: 'vae' });
    expect((await vae.embed(images)).style).toEqual((await vae.embed(images)).style);
    a.dispose();
    b.dispose();
    vae.dispose();
  });

  it('computes the Gram vector as specified, and the same on the CPU backend', async () => {
    const enc = StyleEncoder.create({ ...SMALL, gramSize: 8 });
    const images = val.subarray(0, 3 * PER);
    const onWasm = await enc.embed(images);
    const saved = await enc.save();
    enc.dispose();

    // Reference: the first three feature maps with plain tfjs ops on the CPU backend, the rest in plain JS.
    await tf.setBackend('cpu');
    const weights = new Map<string, tf.Tensor>();
    let offset = 0;
    for (const { name, shape } of saved.manifest.tensors) {
      const n = shape.reduce((a, b) => a * b, 1);
      weights.set(name, tf.tensor(saved.data.subarray(offset, offset + n), shape));
      offset += n;
    }
    let h = tf.tensor4d(images, [3, SIZE, SIZE, 3]);
    const maps: tf.Tensor4D[] = [];
    for (let l = 1; l <= 3; l++) {
      h = tf.leakyRelu(tf.add(tf.conv2d(h, weights.get(`enc${l}.w`) as tf.Tensor4D, 2, 'same'), weights.get(`enc${l}.b`)!), 0.2);
      maps.push(h);
    }
    const expected: number[][] = [[], [], []];
    for (const map of maps) {
      const [n, hh, ww, c] = map.shape;
      const f = await map.data();
      const p = Math.min(c, 8);
      const block = c / p;
      for (let i = 0; i < n; i++) {
        const g = Array.from({ length: c }, (_, j) =>
          Array.from({ length: c }, (_, k) => {
            let s = 0;
            for (let q = 0; q < hh * ww; q++) s += f[(i * hh * ww + q) * c + j] * f[(i * hh * ww + q) * c + k];
            return s / (hh * ww);
          }),
        );
        for (let a = 0; a < p; a++) {
          for (let b = a; b < p; b++) {
            let m = -Infinity;
            for (let x = 0; x < block; x++) for (let y = 0; y < block; y++) m = Math.max(m, g[a * block + x][b * block + y]);
            expected[i].push(m);
          }
        }
      }
    }
    expect(expected[0]).toHaveLength(36 + 36 + 36);
    for (let i = 0; i < 3; i++) {
      const norm = Math.hypot(...expected[i]);
      const got = onWasm.gram.subarray(i * 108, (i + 1) * 108);
      expected[i].forEach((v, d) => expect(got[d]).toBeCloseTo(v / norm, 5));
    }
    tf.dispose([...weights.values(), ...maps]);

    // The whole encoder on the CPU backend agrees with wasm.
    const cpuEncoder = StyleEncoder.load(saved);
    const onCpu = await cpuEncoder.embed(images);
    cpuEncoder.dispose();
    for (let d = 0; d < onCpu.style.length; d++) expect(onCpu.style[d]).toBeCloseTo(onWasm.style[d], 4);
    for (let d = 0; d < onCpu.gram.length; d++) expect(onCpu.gram[d]).toBeCloseTo(onWasm.gram[d], 5);
    await tf.setBackend('wasm');
  });

  it('save → load round-trips exactly, also through JSON text and unaligned file bytes', async () => {
    const enc = StyleEncoder.create({ ...SMALL, variant: 'vae', klWeight: 2e-4 });
    await enc.train(train.subarray(0, 16 * PER), val, { epochs: 1, batchSize: 8 });
    const images = val.subarray(0, 4 * PER);
    const expected = await enc.embed(images);
    const saved = await enc.save();
    expect(saved.hash).toMatch(/^[0-9a-f]{16}$/);
    expect(saved.manifest.hash).toBe(saved.hash);
    expect((await enc.save()).hash).toBe(saved.hash);

    // As a snapshot folder would hold it: weights.json text, weights.bin bytes at an odd offset (a Node Buffer).
    const json = JSON.parse(JSON.stringify(saved.manifest));
    const bytes = new Uint8Array(saved.data.byteLength + 1);
    bytes.set(new Uint8Array(saved.data.buffer, saved.data.byteOffset, saved.data.byteLength), 1);
    const loaded = StyleEncoder.load({ manifest: json, data: bytes.subarray(1) });
    expect(loaded.config).toEqual(enc.config);
    const got = await loaded.embed(images);
    expect(got.style).toEqual(expected.style);
    expect(got.gram).toEqual(expected.gram);
    expect((await loaded.save()).hash).toBe(saved.hash);
    const other = StyleEncoder.create({ ...SMALL, variant: 'vae', klWeight: 2e-4, seed: 2 });
    expect((await other.save()).hash).not.toBe(saved.hash);
    other.dispose();
    enc.dispose();
    loaded.dispose();
  });

  it('refuses corrupt or wrong-shape weights with a clear error and creates no tensors', async () => {
    const enc = StyleEncoder.create(SMALL);
    const saved = await enc.save();
    enc.dispose();
    const before = tf.memory().numTensors;
    const manifest = () => JSON.parse(JSON.stringify(saved.manifest));
    const refuse = (weights: { manifest: unknown; data: Float32Array }, message: RegExp) => {
      let error: unknown;
      try {
        StyleEncoder.load(weights);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(DataError);
      expect((error as Error).message).toMatch(message);
    };

    const wrongShape = manifest();
    wrongShape.tensors[2].shape = [4, 4, 8, 17];
    refuse({ manifest: wrongShape, data: saved.data }, /style\/weights\.json.*"enc2\.w" has shape \[4,4,8,17\], expected \[4,4,8,16\]/);

    const otherModel = manifest();
    otherModel.config.latent = 48; // the tensors listed no longer fit the config
    refuse({ manifest: otherModel, data: saved.data }, /"mean\.w" has shape .* expected/);

    refuse({ manifest: saved.manifest, data: saved.data.subarray(0, saved.data.length - 1) }, /weights\.bin.*holds \d+ float32 values, the manifest needs \d+/);

    const flipped = saved.data.slice();
    flipped[123] += 0.5;
    refuse({ manifest: saved.manifest, data: flipped }, /weights\.bin.*content hash .* does not match/);

    refuse({ manifest: { ...manifest(), format: 'something-else' }, data: saved.data }, /format/);
    refuse({ manifest: { ...manifest(), version: 3 }, data: saved.data }, /version 3 is not supported/);
    refuse({ manifest: { ...manifest(), config: { ...manifest().config, size: 60 } }, data: saved.data }, /size must be a positive multiple of 16/);
    refuse({ manifest: null, data: saved.data }, /not a JSON object/);

    expect(tf.memory().numTensors).toBe(before);
  });

  it('checks its options and inputs, and frees everything on dispose', async () => {
    expect(() => StyleEncoder.create({ size: 60 })).toThrow(RangeError);
    expect(() => StyleEncoder.create({ filters: [24, 32, 64, 64], gramSize: 16 })).toThrow(/max-pooled evenly/);
    const before = tf.memory().numTensors;
    const enc = StyleEncoder.create();
    // The defaults are the shipped model's (config.models.style), the same as train:style's.
    const shipped = defaultConfig.models.style;
    expect(enc.config).toMatchObject({ size: 64, latent: shipped.latent, variant: 'ae', filters: shipped.filters, gramSize: shipped.gramSize });
    await expect(enc.embed(new Float32Array(PER + 1))).rejects.toThrow(/N×64×64×3/);
    enc.dispose();
    enc.dispose();
    expect(tf.memory().numTensors).toBe(before);
    await expect(enc.embed(val.subarray(0, PER))).rejects.toThrow(/after dispose/);
  });
});
