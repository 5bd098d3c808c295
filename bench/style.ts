/**
 * Art-style encoder training speed per backend, in images per second (higher is faster), as ratios against
 * tfjs' pure-JS CPU backend in Node measured in the same run: cpu and wasm in Node, then wasm and webgpu
 * (SwiftShader unless the machine has a GPU) in headless Chromium through the built worker.
 * The model shape shipped until float16/int8 storage (64×64 covers, filters 16–128, latent 64), kept fixed so the
 * README's rates stay comparable; the wider shipped model (config.models.style) trains more slowly. Each rate is the images of one extra epoch over the
 * time it adds (epochs 2 − epochs 1, after a warm-up), so decoding the covers and starting up do not count.
 * One more row reads the covers from a scratch file a batch at a time, as `train:style` does at scale.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import { chooseTfjsBackend } from '../src/core/tfjs-backend.ts';
import { StyleEncoder, type ImageSource, type StyleEncoderOptions } from '../src/core/style/style-encoder.ts';
import { scratch, spillCovers } from '../scripts/lib/spill.ts';
import { inWorker, launch, startWorker } from '../tests/browser/harness.ts';
import { serve } from '../scripts/serve.ts';
import type { BenchRow } from './lib.ts';

const ROOT = path.resolve(import.meta.dirname, '..');
const COVERS = path.join(ROOT, 'public/snapshot/covers64');
const N = 16;
/** tfjs' pure-JS CPU backend trains at well under 1 image/s: fewer images for it. */
const N_CPU = 8;
const MODEL: StyleEncoderOptions = { filters: [16, 32, 64, 128], gramSize: 8, seed: 0 };

async function nodeRate(backend: 'cpu' | 'wasm', images: Float32Array | ImageSource): Promise<number> {
  if ((await chooseTfjsBackend(backend)) !== backend) throw new Error(`backend ${backend} unavailable`);
  const time = async (epochs: number) => {
    const enc = StyleEncoder.create(MODEL);
    const t0 = performance.now();
    await enc.train(images, new Float32Array(0), { epochs, batchSize: 16 });
    enc.dispose();
    return performance.now() - t0;
  };
  const n = images instanceof Float32Array ? images.length / (64 * 64 * 3) : images.count;
  await time(1); // warm-up: kernels compiled, buffers allocated
  const one = await time(1);
  return (n / ((await time(2)) - one)) * 1000;
}

async function browserRate(flags: string[], expected: string, covers: string[], url: string): Promise<number> {
  const dist = path.join(ROOT, 'dist');
  const worker = (await readdir(path.join(dist, 'assets'))).find((f) => /^style\.worker-.*\.js$/.test(f))!;
  const browser = await launch(flags);
  try {
    const page = await browser.newPage();
    await page.goto(`${url}snapshot/manifest.json`); // a document on our origin that runs no app code
    await startWorker(page, `${url}assets/${worker}`);
    const r = await inWorker(
      page,
      async (call, { covers, model, expected }) => {
        const backend = await call('init', []);
        if (backend !== expected) return { backend, ms: [] as number[] };
        const ms: number[] = [];
        for (const epochs of [1, 1, 2]) {
          await call('create', [model]);
          const t0 = performance.now();
          await call('train', [{ covers, epochs, batchSize: 16, valFraction: 0.01 }]);
          ms.push(performance.now() - t0);
        }
        return { backend, ms };
      },
      { covers, model: MODEL, expected },
      { terminate: true },
    );
    if ('error' in r) throw new Error(`style worker: ${r.error}`);
    if (r.backend !== expected) throw new Error(`Chromium gave ${r.backend}, not ${expected}`);
    const trained = covers.length - Math.round(covers.length * 0.01);
    return (trained / (r.ms[2] - r.ms[1])) * 1000;
  } finally {
    await browser.close();
  }
}

export async function styleBench(): Promise<BenchRow[]> {
  const files = (await readdir(COVERS)).sort().slice(0, N);
  const per = 64 * 64 * 3;
  const images = new Float32Array(N * per);
  await Promise.all(
    files.map(async (f, i) => {
      const data = await sharp(path.join(COVERS, f)).resize(64, 64, { fit: 'cover' }).removeAlpha().raw().toBuffer();
      for (let k = 0; k < per; k++) images[i * per + k] = data[k] / 255;
    }),
  );
  const rows: BenchRow[] = [];
  const cpu = await nodeRate('cpu', images.slice(0, N_CPU * per));
  const row = (c: string, v: number): BenchRow => ({ bench: 'style training', case: c, value: v, unit: 'img/s', ratio: v / cpu, baseline: 'vs node cpu (higher is faster)' });
  rows.push({ bench: 'style training', case: 'node cpu (tfjs pure JS)', value: cpu, unit: 'img/s' });
  const wasm = await nodeRate('wasm', images);
  rows.push(row('node wasm', wasm));
  // What train:style does at scale: the covers in a scratch file, read back a batch at a time.
  const work = await scratch('toonpick-bench-covers');
  try {
    const file = await spillCovers(COVERS, files, path.join(work.dir, 'covers.rgb'));
    try {
      const streamed = await nodeRate('wasm', file);
      rows.push({ bench: 'style training', case: 'node wasm, covers read from a file a batch at a time', value: streamed, unit: 'img/s', ratio: streamed / wasm, baseline: 'vs node wasm from memory' });
    } finally {
      file.close();
    }
  } finally {
    await work.dispose();
  }
  tf.engine().reset();
  if (!existsSync(path.join(ROOT, 'dist/index.html'))) {
    console.error('style bench: dist/ missing (npm run build), browser rows left out');
    return rows;
  }
  const server = await serve(path.join(ROOT, 'dist'));
  try {
    const covers = files.map((f) => `${server.url}snapshot/covers64/${f}`);
    rows.push(row('chromium worker wasm', await browserRate([], 'wasm', covers, server.url)));
    rows.push(row('chromium worker webgpu', await browserRate(['--enable-unsafe-webgpu'], 'webgpu', covers, server.url)));
  } finally {
    await server.close();
  }
  return rows;
}
