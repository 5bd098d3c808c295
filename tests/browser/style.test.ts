/**
 * The built style worker (workers/style.worker.ts) in real Chromium, on WASM and on WebGPU (SwiftShader): it
 * reports its backend, embeds like tfjs on the CPU in Node, trains on covers, stops when cancelled and refuses
 * corrupt weights while keeping the ones in use. Then the app's style map and settings pages.
 * A tiny model (16×16 images, 4 filters) keeps SwiftShader quick.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Page } from 'playwright-core';
import { defaultConfig } from '../../src/core/config.ts';
import { rng } from '../../src/core/random.ts';
import { StyleEncoder, encodeStyleWeights, type SavedStyleWeights } from '../../src/core/style/style-encoder.ts';
import { inWorker, launch, serveDist, startWorker, trackErrors, trackRequests } from './harness.ts';

let server: Awaited<ReturnType<typeof serveDist>>;
let workerUrl: string;
let covers: string[];
let tiny: SavedStyleWeights;
let images: number[];
let cpu: { style: number[]; gram: number[] };

beforeAll(async () => {
  server = await serveDist();
  await writeFile(path.join(server.root, 'blank.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>blank</title>');
  const name = (await readdir(path.join(server.root, 'assets'))).find((f) => /^style\.worker-.*\.js$/.test(f));
  if (!name) throw new Error('dist/assets has no style.worker-*.js: is the worker referenced by the app?');
  workerUrl = `${server.url}assets/${name}`;
  covers = (await readdir(path.join(server.root, 'snapshot/covers64'))).sort().slice(0, 12).map((f) => `${server.url}snapshot/covers64/${f}`);
  // The reference: the same tiny weights and images on tfjs' CPU backend in Node.
  await tf.setBackend('cpu');
  const enc = StyleEncoder.create({ size: 16, latent: 4, filters: [4, 4, 4, 4], gramSize: 4, seed: 3 });
  tiny = await enc.save();
  const random = rng(5);
  images = Array.from({ length: 3 * 16 * 16 * 3 }, () => random());
  const out = await enc.embed(Float32Array.from(images));
  cpu = { style: Array.from(out.style), gram: Array.from(out.gram) };
  enc.dispose();
});
afterAll(async () => {
  await server?.dispose();
});

async function open(page: Page) {
  await page.goto(`${server.url}blank.html`);
  await startWorker(page, workerUrl);
}

const maxDiff = (a: number[], b: number[]) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

async function checkBackend(flags: string[], backend: string) {
  const browser = await launch(flags);
  try {
    const ctx = await browser.newContext();
    const requests = trackRequests(ctx);
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    await open(page);
    const weights = { manifest: tiny.manifest, data: Array.from(tiny.data) };
    const out = await inWorker(
      page,
      async (call, { weights, images, covers }) => {
        const init = await call('init', []);
        const loaded = await call('load', [{ manifest: weights.manifest, data: Float32Array.from(weights.data) }]);
        const emb = await call('embed', [Float32Array.from(images)]);
        const trained = await call('train', [{ covers, epochs: 2, batchSize: 4, seed: 1 }]);
        return { init, loaded, style: Array.from(emb.style as Float32Array), gram: Array.from(emb.gram as Float32Array), history: trained.history, after: trained.info };
      },
      { weights, images, covers },
    );
    expect(out).not.toHaveProperty('error');
    const r = out as { init: string; loaded: { backend: string; hash: string }; style: number[]; gram: number[]; history: { valMse: number }[]; after: { hash: string } };
    expect(r.init).toBe(backend);
    expect(r.loaded.backend).toBe(backend);
    expect(r.loaded.hash).toBe(tiny.hash);
    // Same vectors as tfjs' CPU backend in Node, up to float32 rounding on another backend.
    expect(maxDiff(r.style, cpu.style)).toBeLessThan(1e-3);
    expect(maxDiff(r.gram, cpu.gram)).toBeLessThan(1e-3);
    expect(r.history).toHaveLength(2);
    expect(r.history.every((h) => Number.isFinite(h.valMse))).toBe(true);
    expect(r.after.hash).not.toBe(tiny.hash); // the trained weights are in use
    // tfjs' WASM binaries came from our origin.
    expect(requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('blob:') && !u.startsWith('data:'))).toEqual([]);
    if (backend === 'wasm') expect(requests.some((u) => /\/assets\/tfjs-backend-wasm[\w-]*\.wasm$/.test(u))).toBe(true);
    expect(errors).toEqual([]);
  } finally {
    await browser.close();
  }
}

/** Where the style map draws each title (its cover's x, y), from the Style map page. */
async function mapLayout(page: Page): Promise<string[]> {
  await page.goto(`${server.url}#/style-map`);
  await page.getByTestId('style-point').first().waitFor();
  return page.getByTestId('style-point').evaluateAll((els) => els.map((a) => `${a.getAttribute('data-id')} ${a.querySelector('rect')!.getAttribute('x')} ${a.querySelector('rect')!.getAttribute('y')}`));
}

describe('the style worker in Chromium', () => {
  it('trains and embeds on WASM', async () => {
    await checkBackend([], 'wasm');
  });

  it('trains and embeds on WebGPU (SwiftShader) with the CPU vectors', async () => {
    await checkBackend(['--enable-unsafe-webgpu'], 'webgpu');
  });

  it('stops training on cancel() and refuses corrupt weights, keeping the ones in use', async () => {
    const browser = await launch();
    try {
      const page = await browser.newPage();
      await open(page);
      const weights = { manifest: tiny.manifest, data: Array.from(tiny.data) };
      const out = await inWorker(
        page,
        async (call, { weights, covers, stored }) => {
          await call('load', [{ manifest: weights.manifest, data: Float32Array.from(weights.data) }]);
          const started = performance.now();
          let outcome = 'finished';
          const training = call('train', [{ covers, epochs: 100000, batchSize: 4 }]).catch((e: Error) => (outcome = e.message));
          // Cancel until it stops: the first calls may land while the covers are still being read.
          let done = false;
          void training.then(() => (done = true));
          while (!done) {
            await new Promise((r) => setTimeout(r, 200));
            await call('cancel', []);
          }
          const seconds = (performance.now() - started) / 1000;
          const afterCancel = (await call('info', [])).hash;
          const broken = { ...weights.manifest, hash: '0000000000000000' };
          const refused = await call('load', [{ manifest: broken, data: Float32Array.from(weights.data) }]).then(
            () => 'accepted',
            (e: Error) => e.message,
          );
          const wrongShape = await call('load', [{ manifest: weights.manifest, data: new Float32Array(7) }]).then(
            () => 'accepted',
            (e: Error) => e.message,
          );
          const afterRefusal = (await call('info', [])).hash;
          // float16 and int8 files (their bytes, as fetched or read from disk) load too.
          const compact: string[] = [];
          for (const w of stored) compact.push((await call('load', [{ manifest: w.manifest, data: Uint8Array.from(w.data) }])).hash);
          return { outcome, seconds, afterCancel, refused, wrongShape, afterRefusal, compact };
        },
        { weights, covers, stored: (['float16', 'int8'] as const).map((d) => encodeStyleWeights(tiny, d)).map((w) => ({ manifest: w.manifest, data: Array.from(w.data) })) },
      );
      expect(out).not.toHaveProperty('error');
      const r = out as { outcome: string; seconds: number; afterCancel: string; refused: string; wrongShape: string; afterRefusal: string; compact: string[] };
      expect(r.outcome).toMatch(/cancelled/);
      expect(r.seconds).toBeLessThan(60); // it did not run its 100 000 epochs
      expect(r.afterCancel).toBe(tiny.hash); // the interrupted copy was thrown away
      expect(r.refused).toMatch(/weights\.bin.*hash/);
      expect(r.wrongShape).toMatch(/float32 values/);
      expect(r.afterRefusal).toBe(tiny.hash);
      expect(r.compact).toEqual((['float16', 'int8'] as const).map((d) => encodeStyleWeights(tiny, d).hash));
    } finally {
      await browser.close();
    }
  });
});

describe('the style pages', () => {
  it('draws one point per title on the style map; a point opens its title', async () => {
    const browser = await launch();
    try {
      const page = await browser.newPage();
      const errors = trackErrors(page);
      await page.goto(`${server.url}#/style-map`);
      const map = page.getByTestId('style-map');
      await map.waitFor();
      const items = (await (await fetch(`${server.url}snapshot/items.json`)).json()) as { id: string; title: string }[];
      const points = page.getByTestId('style-point');
      expect(await points.count()).toBe(items.filter((t) => t.title).length);
      await page.getByTestId('zoom-in').click();
      await page.getByTestId('zoom-out').click();
      const target = items[5];
      await page.locator(`[data-testid="style-point"][data-id="${target.id}"]`).focus();
      await page.keyboard.press('Enter');
      await page.waitForFunction((id) => location.hash === `#/title/${id}`, target.id);
      await page.getByRole('heading', { name: target.title }).first().waitFor();
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('settings: corrupt weights files are refused and the shipped weights stay in use', async () => {
    const browser = await launch();
    try {
      const page = await browser.newPage();
      await page.goto(`${server.url}#/settings`);
      await page.getByTestId('style-backend').waitFor();
      expect(await page.getByTestId('style-backend').getAttribute('data-backend')).toBe('wasm');
      const shipped = await page.getByTestId('style-weights').textContent();
      const json = Buffer.from(JSON.stringify(tiny.manifest));
      await page.getByTestId('style-import-json').setInputFiles({ name: 'weights.json', mimeType: 'application/json', buffer: json });
      await page.getByTestId('style-import-bin').setInputFiles({ name: 'weights.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(4 * 10) });
      const message = page.getByTestId('style-message');
      await message.waitFor();
      expect(await message.getAttribute('role')).toBe('alert');
      expect(await message.textContent()).toMatch(/weights\.bin/);
      expect(await page.getByTestId('style-weights').textContent()).toBe(shipped);
    } finally {
      await browser.close();
    }
  });

  it('settings: imports weights stored as float16 (the shipped ones, re-encoded) and uses them', async () => {
    // The demo snapshot's own weights, as float16 bytes: same shape as the catalog's vectors, another hash.
    const json = JSON.parse(await readFile(path.join(server.root, 'snapshot/style/weights.json'), 'utf8'));
    const shippedEncoder = StyleEncoder.load({ manifest: json, data: await readFile(path.join(server.root, 'snapshot/style/weights.bin')) });
    const half = await shippedEncoder.store('float16');
    shippedEncoder.dispose();
    expect(half.hash).not.toBe(json.hash);
    const browser = await launch();
    try {
      const page = await browser.newPage();
      const errors = trackErrors(page);
      await page.goto(`${server.url}#/settings`);
      await page.getByTestId('style-backend').waitFor();
      await page.getByTestId('style-import-json').setInputFiles({ name: 'weights.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(half.manifest)) });
      await page.getByTestId('style-import-bin').setInputFiles({ name: 'weights.bin', mimeType: 'application/octet-stream', buffer: Buffer.from(half.data) });
      await page.waitForFunction((h) => (document.querySelector('[data-testid="style-weights"]')?.textContent ?? '').includes(h), half.hash, { timeout: 120_000 });
      expect(await page.getByTestId('style-message').getAttribute('role')).toBe('status');
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('settings: retraining shows progress, can be cancelled, and its weights replace the shipped ones until restored', async () => {
    const browser = await launch();
    try {
      const page = await browser.newPage();
      const errors = trackErrors(page);
      await page.goto(`${server.url}#/settings`);
      await page.getByTestId('style-backend').waitFor();
      const shipped = await page.getByTestId('style-weights').textContent();
      await page.getByTestId('style-epochs').fill('1');
      await page.getByTestId('style-train').click();
      await page.waitForFunction(() => document.querySelector('[data-testid="style-progress-label"]')?.getAttribute('data-epoch') === '1');
      await page.getByTestId('style-cancel').click();
      await page.getByTestId('style-message').waitFor();
      expect(await page.getByTestId('style-message').getAttribute('role')).toBe('status');
      expect(await page.getByTestId('style-weights').textContent()).toBe(shipped);

      const shippedLayout = await mapLayout(page);
      await page.goto(`${server.url}#/settings`);
      await page.getByTestId('style-backend').waitFor();
      // The field starts at the shipped model's epochs (config.models.style, as train:style); one is enough here.
      expect(await page.getByTestId('style-epochs').inputValue()).toBe(String(defaultConfig.models.style.epochs));
      await page.getByTestId('style-epochs').fill('1');
      await page.getByTestId('style-train').click();
      await page.waitForFunction(() => document.querySelector('[data-testid="style-weights"]')?.getAttribute('data-source') === 'retrained', undefined, { timeout: 150_000 });
      // The style map is laid out again for the retrained weights…
      const retrainedLayout = await mapLayout(page);
      expect(retrainedLayout).toHaveLength(shippedLayout.length);
      expect(retrainedLayout).not.toEqual(shippedLayout);
      // …and, like the weights, kept in IndexedDB: a reload still uses both.
      await page.goto(`${server.url}#/settings`);
      await page.reload();
      await page.getByTestId('style-backend').waitFor();
      await page.waitForFunction(() => document.querySelector('[data-testid="style-weights"]')?.getAttribute('data-source') === 'retrained');
      expect(await mapLayout(page)).toEqual(retrainedLayout);
      await page.goto(`${server.url}#/settings`);
      await page.getByTestId('style-restore').click();
      await page.waitForFunction((s) => document.querySelector('[data-testid="style-weights"]')?.textContent === s, shipped);
      expect(await mapLayout(page)).toEqual(shippedLayout);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  });

  it('settings: a style worker that crashes mid-training fails the run with a message, and the next run gets a new worker', async () => {
    const browser = await launch();
    try {
      const page = await browser.newPage();
      const started: string[] = [];
      page.on('worker', (w) => { if (w.url().includes('style.worker')) started.push(w.url()); });
      await page.goto(`${server.url}#/settings`);
      await page.getByTestId('style-backend').waitFor();
      const shipped = await page.getByTestId('style-weights').textContent();
      await page.getByTestId('style-epochs').fill('1');
      await page.getByTestId('style-train').click();
      // One epoch on two busy cores may take longer than the default 30 s.
      await page.waitForFunction(() => document.querySelector('[data-testid="style-progress-label"]')?.getAttribute('data-epoch') === '1', undefined, { timeout: 120_000 });
      // An uncaught error inside the worker, as a crash in tfjs or an out-of-memory would raise.
      const worker = page.workers().find((w) => w.url().includes('style.worker'))!;
      await worker.evaluate(() => void setTimeout(() => { throw new Error('simulated style worker crash'); }));
      const message = page.getByTestId('style-message');
      await message.waitFor();
      expect(await message.getAttribute('role')).toBe('alert');
      expect(await message.textContent()).toContain('the style worker stopped');
      expect(await message.textContent()).toContain('simulated style worker crash');
      // Nothing was lost and nothing is left waiting: the shipped weights stay, the buttons are back.
      expect(await page.getByTestId('style-weights').textContent()).toBe(shipped);
      expect(await page.getByTestId('style-train').isEnabled()).toBe(true);
      expect(await page.getByTestId('style-cancel').isDisabled()).toBe(true);
      // The next run starts a new worker, which loads the weights in use again, and trains.
      await page.getByTestId('style-train').click();
      await page.waitForFunction(() => document.querySelector('[data-testid="style-progress-label"]')?.getAttribute('data-epoch') === '1');
      // Playwright reports a new worker asynchronously: it can already be training when the event arrives.
      await expect.poll(() => started.length, { timeout: 10_000 }).toBe(2);
      await page.getByTestId('style-cancel').click();
      await page.waitForFunction(() => document.querySelector('[data-testid="style-message"]')?.getAttribute('role') === 'status', undefined, { timeout: 120_000 });
    } finally {
      await browser.close();
    }
  });

  it('settings: the style worker honours config.device (?device=)', async () => {
    const browser = await launch(['--enable-unsafe-webgpu']);
    try {
      const page = await browser.newPage();
      const backend = async (query: string) => {
        await page.goto(`${server.url}${query}#/settings`);
        await page.getByTestId('style-backend').waitFor();
        return page.getByTestId('style-backend').getAttribute('data-backend');
      };
      expect(await backend('')).toBe('webgpu');
      expect(await backend('?device=wasm')).toBe('wasm');
      expect(await backend('?device=cpu')).toBe('cpu');
    } finally {
      await browser.close();
    }
  });
});
