/**
 * The built text worker (workers/text.worker.ts) in real Chromium, on WASM and on WebGPU (SwiftShader):
 * it loads the tiny fixture model from our own origin, reports its device, and gives the same vectors
 * as the PyTorch reference (and so as Node, tests/unit/synopsis-encoder.test.ts). Nothing may be fetched
 * from any other host: not the model, not onnxruntime's WASM files.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { defaultConfig } from '../../src/core/config.ts';
import { rng } from '../../src/core/random.ts';
import { SynopsisAdapter } from '../../src/core/text/adapter.ts';
import { inWorker, launch, repoRoot, serveDist, startWorker, trackErrors, trackRequests } from './harness.ts';

const FIXTURE = path.join(repoRoot, 'tests/fixtures/models/toonpick/tiny-bert');
const ref = JSON.parse(await readFile(path.join(FIXTURE, 'reference.json'), 'utf8')) as { dim: number; items: Array<{ text: string; embedding: number[] }> };

let server: Awaited<ReturnType<typeof serveDist>>;
let workerUrl: string;

beforeAll(async () => {
  server = await serveDist();
  await cp(FIXTURE, path.join(server.root, 'models/toonpick/tiny-bert'), { recursive: true });
  // An empty page on our origin to start the worker from (no app, no favicon request).
  await writeFile(path.join(server.root, 'blank.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>blank</title>');
  const name = (await readdir(path.join(server.root, 'assets'))).find((f) => /^text\.worker-.*\.js$/.test(f));
  if (!name) throw new Error('dist/assets has no text.worker-*.js: is the worker referenced by the app?');
  workerUrl = `${server.url}assets/${name}`;
});
afterAll(async () => {
  await server?.dispose();
});

/** The model settings the app would send, pointed at the fixture (remote downloads left on, as by default). */
function request(modelId = 'toonpick/tiny-bert') {
  return {
    model: { ...defaultConfig.models.text, modelId, dtype: { wasm: 'fp32', webgpu: 'fp32' }, localModelPath: '/models/' },
    device: 'auto',
  };
}

/** load(req) then embed(texts) in the started worker, which is stopped afterwards; an error comes back as `{ error }`. */
function loadAndEmbed(page: Page, req: unknown, texts: string[]) {
  return inWorker(
    page,
    async (call, { req, texts }) => {
      const info = (await call('load', [req])) as { device: string; dim: number; adapted: boolean };
      const vectors = (await call('embed', [texts])) as Float32Array;
      return { info, vectors: Array.from(vectors), isFloat32: vectors instanceof Float32Array };
    },
    { req, texts },
    { terminate: true },
  );
}

async function runWorker(page: Page, url: string, req: unknown, texts: string[]) {
  await startWorker(page, url);
  return loadAndEmbed(page, req, texts);
}

function maxAbsDiff(got: number[], dim: number): number {
  let m = 0;
  ref.items.forEach((r, i) => r.embedding.forEach((v, k) => (m = Math.max(m, Math.abs(got[i * dim + k] - v)))));
  return m;
}

async function checkDevice(flags: string[], device: string) {
  const browser: Browser = await launch(flags);
  try {
    const ctx = await browser.newContext();
    const requests = trackRequests(ctx);
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    await page.goto(`${server.url}blank.html`);
    const out = await runWorker(page, workerUrl, request(), ref.items.map((r) => r.text));
    expect(out).not.toHaveProperty('error');
    const ok = out as { info: { device: string; dim: number }; vectors: number[]; isFloat32: boolean };
    expect(ok.info.device).toBe(device);
    expect(ok.info.dim).toBe(ref.dim);
    expect(ok.isFloat32).toBe(true);
    expect(ok.vectors.length).toBe(ref.items.length * ref.dim);
    expect(maxAbsDiff(ok.vectors, ref.dim)).toBeLessThanOrEqual(1e-4);
    // Model files and onnxruntime's WASM came from our origin; nothing else was asked for.
    const foreign = requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('blob:') && !u.startsWith('data:'));
    expect(foreign).toEqual([]);
    expect(requests.some((u) => u.endsWith('/models/toonpick/tiny-bert/onnx/model.onnx'))).toBe(true);
    expect(requests.some((u) => /\/assets\/ort-wasm-simd-threaded\.asyncify-[\w-]+\.wasm$/.test(u))).toBe(true);
    expect(errors).toEqual([]);
    // transformers.js keeps the model files in the Cache API for offline use.
    const cached = await page.evaluate(async () => (await (await caches.open('transformers-cache')).keys()).map((r) => new URL(r.url).pathname));
    expect(cached).toEqual(expect.arrayContaining(['/models/toonpick/tiny-bert/onnx/model.onnx', '/models/toonpick/tiny-bert/tokenizer.json']));
  } finally {
    await browser.close();
  }
}

describe('the text worker in Chromium', () => {
  it('runs the fixture model on WASM with the reference vectors, all files from our origin', async () => {
    await checkDevice([], 'wasm');
  });

  it('runs it on WebGPU (SwiftShader) when WebGPU is enabled, with the same vectors', async () => {
    await checkDevice(['--enable-unsafe-webgpu'], 'webgpu');
  });

  it('applies the snapshot adapter after the model, as Node does', async () => {
    const random = rng(11);
    const d = ref.dim;
    const adapter = new SynopsisAdapter(d, Float32Array.from({ length: d * d }, () => (random() - 0.5) * 0.2), Float32Array.from({ length: d }, () => (random() - 0.5) * 0.1));
    const expected = adapter.apply(Float32Array.from(ref.items.flatMap((r) => r.embedding)));
    const browser = await launch();
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}blank.html`);
      const out = await runWorker(page, workerUrl, { ...request(), adapter: { dim: d, bytes: adapter.toBytes() } }, ref.items.map((r) => r.text));
      expect(out).not.toHaveProperty('error');
      const got = out as { info: { adapted: boolean }; vectors: number[] };
      expect(got.info.adapted).toBe(true);
      let diff = 0;
      expected.forEach((v, i) => (diff = Math.max(diff, Math.abs(v - got.vectors[i]))));
      expect(diff).toBeLessThanOrEqual(1e-4);
      // An adapter made for another vector size is refused, not applied.
      const wrong = await runWorker(page, workerUrl, { ...request(), adapter: { dim: 4, bytes: SynopsisAdapter.identity(4).toBytes() } }, ['웹툰']);
      expect((wrong as { error: string }).error).toContain('4-d');
    } finally {
      await browser.close();
    }
  });

  it('loads offline from the cache after the first use, and fails fast offline on first use', async () => {
    const browser = await launch();
    try {
      const texts = ref.items.map((r) => r.text);
      const first = await browser.newContext();
      const page = await first.newPage();
      await page.goto(`${server.url}blank.html`);
      expect(await runWorker(page, workerUrl, request(), texts)).not.toHaveProperty('error');
      await startWorker(page, workerUrl);
      await first.setOffline(true);
      const again = await loadAndEmbed(page, request(), texts);
      expect(again).not.toHaveProperty('error');
      expect(maxAbsDiff((again as { vectors: number[] }).vectors, ref.dim)).toBeLessThanOrEqual(1e-4);

      const fresh = await browser.newContext();
      const other = await fresh.newPage();
      await other.goto(`${server.url}blank.html`);
      await startWorker(other, workerUrl);
      await fresh.setOffline(true);
      const started = Date.now();
      const offline = await loadAndEmbed(other, request(), texts);
      expect((offline as { error: string }).error).toContain('toonpick/tiny-bert');
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await browser.close();
    }
  });

  it('fails fast and names the missing file when the model is not there', async () => {
    const browser = await launch();
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}blank.html`);
      const req = { ...request('toonpick/no-such-model'), model: { ...request().model, modelId: 'toonpick/no-such-model', allowRemoteModels: false } };
      const started = Date.now();
      const out = await runWorker(page, workerUrl, req, ['웹툰']);
      expect(out).toHaveProperty('error');
      const message = (out as { error: string }).error;
      expect(message).toContain('toonpick/no-such-model');
      expect(message).toContain('config.json');
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await browser.close();
    }
  });
});
