import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { beforeAll, describe, expect, it } from 'vitest';
import { registerWasmTrainingKernels } from '../../src/core/style/wasm-kernels.ts';
import { rng } from '../../src/core/random.ts';

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
interface Case {
  x: [number, number, number, number];
  k: [number, number];
  out: number;
  stride: number | [number, number];
  pad: Pad;
}

// Strides 1–3, same/valid/explicit padding, odd sizes, kernels smaller than, equal to and larger than the stride,
// and the autoencoder's own layers (4×4, stride 2, same).
const CASES: Case[] = [
  { x: [2, 9, 9, 3], k: [3, 3], out: 4, stride: 2, pad: 'same' },
  { x: [2, 9, 9, 3], k: [3, 3], out: 4, stride: 2, pad: 'valid' },
  { x: [3, 8, 10, 5], k: [4, 4], out: 6, stride: 2, pad: 'same' },
  { x: [1, 7, 7, 2], k: [2, 2], out: 3, stride: 3, pad: 'valid' },
  { x: [2, 8, 8, 3], k: [5, 5], out: 2, stride: 1, pad: 'same' },
  { x: [2, 10, 10, 3], k: [3, 3], out: 2, stride: 3, pad: 'same' },
  { x: [2, 11, 6, 3], k: [4, 3], out: 2, stride: [2, 1], pad: 'valid' },
  { x: [2, 12, 9, 4], k: [3, 5], out: 3, stride: [1, 2], pad: 'same' },
  { x: [2, 9, 9, 2], k: [3, 3], out: 3, stride: 2, pad: [[0, 0], [1, 2], [2, 0], [0, 0]] },
  { x: [2, 7, 7, 3], k: [1, 1], out: 4, stride: 2, pad: 'same' },
  { x: [4, 16, 16, 8], k: [4, 4], out: 16, stride: 2, pad: 'same' },
];

function random(shape: number[], seed: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r() * 2 - 1);
}

/** Filter and input gradients of Σ conv2d(x, w) ⊙ g on one backend (g plays the upstream gradient dy). */
async function gradients(backend: string, c: Case, seed: number): Promise<{ dw: Float32Array; dx: Float32Array }> {
  await tf.setBackend(backend);
  const w = tf.tensor4d(random([...c.k, c.x[3], c.out], seed), [...c.k, c.x[3], c.out]);
  const x = tf.tensor4d(random(c.x, seed + 1), c.x);
  const outShape = tf.tidy(() => tf.conv2d(x, w, c.stride, c.pad).shape);
  const g = tf.tensor(random(outShape, seed + 2), outShape);
  const [dx, dw] = tf.grads((xi: tf.Tensor, wi: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(xi as tf.Tensor4D, wi as tf.Tensor4D, c.stride, c.pad), g)))([x, w]);
  const out = { dw: (await dw.data()) as Float32Array, dx: (await dx.data()) as Float32Array };
  tf.dispose([w, x, g, dx, dw]);
  return out;
}

function relativeMaxDiff(actual: Float32Array, expected: Float32Array): number {
  expect(actual.length).toBe(expected.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / scale;
}

describe('wasm training kernels', () => {
  beforeAll(async () => {
    await tf.setBackend('wasm');
  });

  it('fills the gap: Conv2DBackpropFilter is missing on stock wasm and registered afterwards, once', () => {
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeUndefined();
    const native = tf.getKernel('Conv2DBackpropInput', 'wasm');
    registerWasmTrainingKernels();
    const filter = tf.getKernel('Conv2DBackpropFilter', 'wasm');
    const input = tf.getKernel('Conv2DBackpropInput', 'wasm');
    expect(filter).toBeDefined();
    expect(input).not.toBe(native);
    registerWasmTrainingKernels();
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBe(filter);
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBe(input);
    // Only the wasm backend is touched.
    expect(tf.getKernel('Conv2DBackpropFilter', 'cpu')).not.toBe(filter);
  });

  it.each(CASES.map((c, i) => [i, c] as const))('case %i matches the CPU backend: %o', async (i, c) => {
    registerWasmTrainingKernels();
    const cpu = await gradients('cpu', c, 100 * i);
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const wasm = await gradients('wasm', c, 100 * i);
    expect(tf.memory().numTensors).toBe(before);
    expect(relativeMaxDiff(wasm.dw, cpu.dw)).toBeLessThan(1e-5);
    expect(relativeMaxDiff(wasm.dx, cpu.dx)).toBeLessThan(1e-5);
  });

  it('conv2dTranspose (the decoder forward pass) matches the CPU backend', async () => {
    registerWasmTrainingKernels();
    const dyShape = [3, 8, 8, 16];
    const wShape = [4, 4, 8, 16];
    const run = async (backend: string) => {
      await tf.setBackend(backend);
      const y = tf.conv2dTranspose(tf.tensor4d(random(dyShape, 7), dyShape as [number, number, number, number]), tf.tensor4d(random(wShape, 8), wShape as [number, number, number, number]), [3, 16, 16, 8], 2, 'same');
      const data = (await y.data()) as Float32Array;
      y.dispose();
      return data;
    };
    const cpu = await run('cpu');
    expect(relativeMaxDiff(await run('wasm'), cpu)).toBeLessThan(1e-5);
  });

  it('trains a small conv autoencoder with Adam on wasm without leaking', async () => {
    registerWasmTrainingKernels();
    await tf.setBackend('wasm');
    const x = tf.tensor4d(random([4, 16, 16, 3], 3).map((v) => (v + 1) / 2), [4, 16, 16, 3]);
    const w1 = tf.variable(tf.tensor4d(random([3, 3, 3, 8], 4).map((v) => v * 0.3), [3, 3, 3, 8]));
    const w2 = tf.variable(tf.tensor4d(random([4, 4, 3, 8], 5).map((v) => v * 0.3), [4, 4, 3, 8]));
    const opt = tf.train.adam(1e-2);
    const loss = () =>
      tf.losses.meanSquaredError(x, tf.sigmoid(tf.conv2dTranspose(tf.relu(tf.leakyRelu(tf.conv2d(x, w1, 2, 'same'), 0.2)), w2, [4, 16, 16, 3], 2, 'same'))) as tf.Scalar;
    const first = tf.tidy(() => loss().dataSync()[0]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 30; i++) tf.dispose(opt.minimize(loss, true) ?? undefined);
    opt.dispose();
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before);
    const last = tf.tidy(() => loss().dataSync()[0]);
    expect(last).toBeLessThan(first * 0.8);
    tf.dispose([x, w1, w2]);
  });
});
