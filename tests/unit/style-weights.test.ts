/**
 * How the style encoder's weights are stored: float32 (version 1, as every snapshot before float16/int8 had
 * them), float16, and int8 with a scale per tensor (version 2). Encode → decode stays within each format's
 * rounding; a file of the wrong length, with a bad storage description or corrupt bytes is refused by name.
 */
import * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/errors.ts';
import { rng } from '../../src/core/random.ts';
import {
  StyleEncoder,
  decodeStyleWeights,
  encodeStyleWeights,
  fromFloat16Bits,
  toFloat16Bits,
  type SavedStyleWeights,
  type StyleEncoderOptions,
} from '../../src/core/style/style-encoder.ts';
import { repoRoot } from './helpers/paths.ts';

const TINY: StyleEncoderOptions = { size: 16, latent: 8, filters: [4, 8, 8, 16], gramSize: 4, seed: 5 };
let saved: SavedStyleWeights;
let images: Float32Array;

beforeAll(async () => {
  await tf.setBackend('cpu');
  const enc = StyleEncoder.create(TINY);
  // Some training, so that the weights are not the plain Glorot draw.
  const random = rng(3);
  images = Float32Array.from({ length: 6 * 16 * 16 * 3 }, () => random());
  await enc.train(images.subarray(0, 4 * 16 * 16 * 3), images.subarray(4 * 16 * 16 * 3), { epochs: 1, batchSize: 2 });
  saved = await enc.save();
  enc.dispose();
});

function refuse(weights: { manifest: unknown; data: unknown }, message: RegExp) {
  let error: unknown;
  try {
    decodeStyleWeights(weights);
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(DataError);
  expect((error as Error).message).toMatch(message);
}

describe('float16 conversion', () => {
  it('rounds to the nearest binary16 value (ties to even), with subnormals, and refuses what does not fit', () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66],
      [65504, 0x7bff],
      [2 ** -14, 0x0400], // smallest normal
      [2 ** -24, 0x0001], // smallest subnormal
      [2 ** -26, 0x0000], // rounds to zero
      [1 + 2 ** -11, 0x3c00], // a tie: to even
      [1 + 3 * 2 ** -11, 0x3c02], // a tie: to even (up)
      [2047.9, 0x6800], // rounds up across the exponent
    ];
    for (const [v, bits] of cases) expect([v, toFloat16Bits(v)]).toEqual([v, bits]);
    expect(Number.isNaN(toFloat16Bits(70000))).toBe(true);
    expect(Number.isNaN(toFloat16Bits(Number.NaN))).toBe(true);
    expect(Number.isNaN(toFloat16Bits(Infinity))).toBe(true);
    // Every finite binary16 value decodes and encodes back to itself.
    for (let h = 0; h < 0x10000; h++) {
      if ((h & 0x7c00) === 0x7c00) continue; // inf / NaN
      const v = fromFloat16Bits(h);
      expect(toFloat16Bits(v) === h || (v === 0 && (h & 0x7fff) === 0)).toBe(true);
    }
  });
});

describe('StyleEncoder weights storage', () => {
  it('float32: the version-1 file, same bytes and hash as save()', () => {
    const stored = encodeStyleWeights(saved, 'float32');
    expect(stored.manifest.version).toBe(1);
    expect(stored.manifest).not.toHaveProperty('dtype');
    expect(stored.hash).toBe(saved.hash);
    expect(stored.data.byteLength).toBe(saved.data.length * 4);
    expect(decodeStyleWeights(stored).data).toEqual(saved.data);
  });

  it.each([
    ['float16', 2],
    ['int8', 1],
  ] as const)('%s: encode → decode within its rounding, a quarter or an eighth of the bytes; vectors stay close', async (dtype, bytesPer) => {
    const stored = encodeStyleWeights(saved, dtype);
    expect(stored.manifest).toMatchObject({ version: 2, dtype, hash: stored.hash });
    expect(stored.data).toBeInstanceOf(Uint8Array);
    expect(stored.data.byteLength).toBe(saved.data.length * bytesPer);
    // Through JSON text and file bytes at an odd offset, as a snapshot folder or a Node Buffer would give them.
    const bytes = new Uint8Array(stored.data.byteLength + 1);
    bytes.set(stored.data, 1);
    const decoded = decodeStyleWeights({ manifest: JSON.parse(JSON.stringify(stored.manifest)), data: bytes.subarray(1) });
    expect(decoded.data).toHaveLength(saved.data.length);

    let offset = 0;
    saved.manifest.tensors.forEach(({ shape }, t) => {
      const n = shape.reduce((a, b) => a * b, 1);
      let max = 0;
      for (let i = offset; i < offset + n; i++) max = Math.max(max, Math.abs(saved.data[i]));
      for (let i = offset; i < offset + n; i++) {
        const v = saved.data[i];
        // float16: 11 significant bits (relative 2^-11), subnormals below 2^-14 in steps of 2^-24;
        // int8: within half a step of the tensor's scale (its largest magnitude / 127).
        const tolerance = dtype === 'float16' ? Math.max(Math.abs(v) * 2 ** -11, 2 ** -25) : max / 127 / 2 + 1e-7;
        expect(Math.abs(decoded.data[i] - v)).toBeLessThanOrEqual(tolerance);
      }
      if (dtype === 'int8') expect(stored.manifest.scales![t]).toBeCloseTo(max / 127, 6);
      offset += n;
    });

    // Same shape, and the encoder's vectors barely move.
    const original = StyleEncoder.load(saved);
    const loaded = StyleEncoder.load(stored);
    expect(loaded.config).toEqual(original.config);
    const a = await original.embed(images);
    const b = await loaded.embed(images);
    const worst = a.style.reduce((m, v, i) => Math.max(m, Math.abs(v - b.style[i])), 0);
    const scale = a.style.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(worst).toBeLessThan(scale * (dtype === 'float16' ? 0.005 : 0.05));
    // Stored again, the same bytes and hash.
    expect((await loaded.store(dtype)).hash).toBe(stored.hash);
    original.dispose();
    loaded.dispose();
  });

  it('refuses a wrong length, a bad storage description or corrupt bytes with a clear error', () => {
    const half = encodeStyleWeights(saved, 'float16');
    const eighth = encodeStyleWeights(saved, 'int8');
    const copy = <T>(v: T): T => JSON.parse(JSON.stringify(v));
    const n = saved.data.length;

    refuse({ manifest: half.manifest, data: half.data.subarray(0, half.data.length - 2) }, new RegExp(`weights\\.bin.*has ${2 * n - 2} bytes, the manifest needs ${n} float16 values \\(${2 * n} bytes\\)`));
    refuse({ manifest: half.manifest, data: new Uint8Array(2 * n + 1) }, /weights\.bin.*the manifest needs \d+ float16 values/);
    refuse({ manifest: eighth.manifest, data: eighth.data.subarray(1) }, new RegExp(`weights\\.bin.*has ${n - 1} bytes, the manifest needs ${n} int8 values`));
    // float16 bytes under a float32 manifest: the size does not fit.
    refuse({ manifest: saved.manifest, data: half.data }, /weights\.bin.*(holds \d+ float32 values, the manifest needs \d+|not a whole number of float32 values \(the manifest needs \d+)/);

    refuse({ manifest: { ...copy(half.manifest), dtype: 'bfloat16' }, data: half.data }, /weights\.json.*dtype.*"bfloat16", expected float32, float16 or int8/);
    refuse({ manifest: { ...copy(half.manifest), dtype: undefined }, data: half.data }, /dtype/);
    refuse({ manifest: { ...copy(eighth.manifest), scales: undefined }, data: eighth.data }, /weights\.json.*int8 weights need \d+ finite scales/);
    refuse({ manifest: { ...copy(eighth.manifest), scales: eighth.manifest.scales!.slice(1) }, data: eighth.data }, /scales/);
    refuse({ manifest: { ...copy(eighth.manifest), scales: eighth.manifest.scales!.map((s, i) => (i ? s : -1)) }, data: eighth.data }, /scales/);
    refuse({ manifest: { ...copy(half.manifest), scales: [1] }, data: half.data }, /scales are only for int8/);
    refuse({ manifest: { ...copy(saved.manifest), dtype: 'float16' }, data: half.data }, /version 1 stores float32/);
    refuse({ manifest: { ...copy(half.manifest), version: 3 }, data: half.data }, /version 3 is not supported/);

    // A changed scale or byte no longer matches the content hash.
    refuse({ manifest: { ...copy(eighth.manifest), scales: eighth.manifest.scales!.map((s, i) => (i ? s : s * 2)) }, data: eighth.data }, /content hash .* does not match/);
    const flipped = half.data.slice();
    flipped[17] ^= 0x01;
    refuse({ manifest: half.manifest, data: flipped }, /weights\.bin.*content hash .* does not match/);
    expect(() => encodeStyleWeights(saved, 'bfloat16' as never)).toThrow(/dtype must be float32, float16 or int8/);
    const big = saved.data.slice();
    big[3] = 1e6;
    expect(() => encodeStyleWeights({ manifest: saved.manifest, data: big }, 'float16')).toThrow(/value 3 .* cannot be stored as float16/);
  });

  // tests/fixtures/style-v1: a tiny encoder (16×16, filters 4–8, latent 4, seed 7) saved by the version-1 code of
  // commit a6ac204 (src/core/style/style-encoder.ts before float16/int8), with its vectors of two seeded images.
  it('still loads float32 files written before version 2, with the same vectors', async () => {
    const dir = path.join(repoRoot, 'tests/fixtures/style-v1');
    const manifest = JSON.parse(await readFile(path.join(dir, 'weights.json'), 'utf8'));
    const expected = JSON.parse(await readFile(path.join(dir, 'expected.json'), 'utf8')) as { imagesSeed: number; count: number; style: number[]; gram: number[] };
    expect(manifest).toMatchObject({ version: 1 });
    expect(manifest).not.toHaveProperty('dtype');
    const enc = StyleEncoder.load({ manifest, data: await readFile(path.join(dir, 'weights.bin')) });
    const random = rng(expected.imagesSeed);
    const out = await enc.embed(Float32Array.from({ length: expected.count * 16 * 16 * 3 }, () => random()));
    out.style.forEach((v, i) => expect(v).toBeCloseTo(expected.style[i], 5));
    out.gram.forEach((v, i) => expect(v).toBeCloseTo(expected.gram[i], 5));
    expect((await enc.save()).hash).toBe(manifest.hash);
    enc.dispose();
  });
});
