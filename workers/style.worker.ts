/**
 * The art-style encoder in a Web Worker (comlink): training and embedding never block the page.
 * A thin adapter over src/core/style: the backend comes from chooseTfjsBackend (WebGPU when the capability
 * probe found an adapter, else WASM, else CPU); covers are decoded here with createImageBitmap and an
 * OffscreenCanvas. Created by src/app/style-client.ts.
 *
 * tfjs' WASM binaries are served from our own origin (the bundler emits them through these `?url` imports).
 */
import * as Comlink from 'comlink';
import wasmUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import simdUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import threadedUrl from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { rng, shuffle } from '../src/core/random.ts';
import { buildStyleMap, encodeStyleMap } from '../src/core/style/style-map.ts';
import { chooseTfjsBackend, type StyleBackend } from '../src/core/tfjs-backend.ts';
import { StyleEncoder, imageRows, imageSource, type StyleEncoderOptions, type StyleWeights } from '../src/core/style/style-encoder.ts';
import { serial, type StyleModelInfo, type StyleTrainRequest, type StyleTrainProgress, type StyleWorkerApi } from './protocol.ts';

let backend: Promise<StyleBackend> | null = null;
let encoder: StyleEncoder | null = null;
let hash = '';
let training: AbortController | null = null;
// One job at a time on the one set of weights (tfjs state is global to the worker).
const queued = serial();

/** The page sends config.device's preference first (protocol.ts `tfjsPreference`); later calls share the answer. */
function init(preference: StyleBackend = 'webgpu'): Promise<StyleBackend> {
  backend ??= chooseTfjsBackend(preference, {
    wasmPaths: { 'tfjs-backend-wasm.wasm': wasmUrl, 'tfjs-backend-wasm-simd.wasm': simdUrl, 'tfjs-backend-wasm-threaded-simd.wasm': threadedUrl },
  });
  return backend;
}

async function info(): Promise<StyleModelInfo> {
  if (!encoder) throw new Error('no style weights loaded');
  return { backend: await init(), hash, size: encoder.config.size, latent: encoder.config.latent, gramDim: encoder.gramDim };
}

/** Puts `next` in use; the previous encoder is freed only now, so a failure before this kept it. */
function use(next: StyleEncoder, nextHash: string) {
  encoder?.dispose();
  encoder = next;
  hash = nextHash;
}

/** How many covers decode between two progress reports. */
const DECODE_REPORT = 32;

/** Decodes images to size×size RGB in [0,1], centre-cropped like sharp's fit 'cover'. */
async function decodeCovers(urls: string[], size: number, onProgress?: (done: number, total: number) => void, signal?: AbortSignal): Promise<{ images: Float32Array; failed: number[] }> {
  const per = size * size * 3;
  const images = new Float32Array(urls.length * per);
  const failed: number[] = [];
  const canvas = new OffscreenCanvas(size, size);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  for (let i = 0; i < urls.length; i++) {
    signal?.throwIfAborted(); // cancel() stops a run while it is still reading covers
    try {
      const res = await fetch(new URL(urls[i], self.location.href));
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const bitmap = await createImageBitmap(await res.blob());
      const side = Math.min(bitmap.width, bitmap.height);
      ctx.clearRect(0, 0, size, size);
      ctx.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, size, size);
      bitmap.close();
      const rgba = ctx.getImageData(0, 0, size, size).data;
      for (let p = 0; p < size * size; p++) for (let c = 0; c < 3; c++) images[i * per + p * 3 + c] = rgba[p * 4 + c] / 255;
    } catch {
      failed.push(i); // its rows stay zero; the caller leaves that title out
    }
    if ((i + 1) % DECODE_REPORT === 0 || i + 1 === urls.length) onProgress?.(i + 1, urls.length);
  }
  return { images, failed };
}

const api: StyleWorkerApi = {
  /** Picks the backend (once per worker) and says which one it got. */
  init,

  /** Uses these weights from now on. A corrupt or wrong-shape file throws a DataError and the previous weights stay. */
  load(weights: StyleWeights): Promise<StyleModelInfo> {
    return queued(async () => {
      await init();
      // Float32, float16 or int8 storage; checked completely (content hash included) before anything is built.
      const next = StyleEncoder.load(weights);
      use(next, weights.manifest.hash);
      return info();
    });
  },

  /** A fresh, untrained encoder of this shape (the starting point of training from scratch). */
  create(options: StyleEncoderOptions): Promise<StyleModelInfo> {
    return queued(async () => {
      await init();
      const next = StyleEncoder.create(options);
      use(next, (await next.save()).hash);
      return info();
    });
  },

  info,

  /**
   * The style map (t-SNE layout and K-means clusters, encoded as in the snapshot) of these style vectors
   * (itemCount × dim, rows L2-normalised): the page redraws the map after a retrain. Takes seconds.
   */
  map(style: Float32Array, dim: number): Uint8Array {
    const bytes = encodeStyleMap(buildStyleMap(style, dim).points);
    return Comlink.transfer(bytes, [bytes.buffer as ArrayBuffer]);
  },

  /** Style and Gram vectors of N images, N×size×size×3 in [0,1]. */
  embed(images: Float32Array) {
    return queued(async () => {
      if (!encoder) throw new Error('no style weights loaded');
      const out = await encoder.embed(images);
      return Comlink.transfer(out, [out.style.buffer, out.gram.buffer]);
    });
  },

  /** Fetches and decodes covers, then embeds them; `failed` lists the ones that could not be read (their rows are zero). */
  embedCovers(urls, onProgress) {
    return queued(async () => {
      if (!encoder) throw new Error('no style weights loaded');
      const { images, failed } = await decodeCovers(urls, encoder.config.size, onProgress);
      const out = await encoder.embed(images);
      return Comlink.transfer({ ...out, failed }, [out.style.buffer, out.gram.buffer]);
    });
  },

  /**
   * Continues training a copy of the weights in use on these covers. On success the trained copy is used from
   * then on and returned (to be stored); on cancel() or an error it is thrown away and the old weights stay.
   */
  train(req: StyleTrainRequest, onProgress?: (p: StyleTrainProgress) => void) {
    return queued(async () => {
      if (!encoder) throw new Error('no style weights loaded');
      const controller = new AbortController();
      training = controller;
      const copy = StyleEncoder.load(await encoder.save());
      try {
        const { images, failed } = await decodeCovers(req.covers, copy.config.size, (done, total) => onProgress?.({ phase: 'decode', done, total }), controller.signal);
        const usable = shuffle(req.covers.map((_, i) => i).filter((i) => !failed.includes(i)), rng((req.seed ?? 0) + 1));
        const nVal = Math.round(usable.length * (req.valFraction ?? 0.1));
        // The splits read the decoded covers in place: no second copy of every image.
        const all = imageSource(images, copy.config.size);
        const history = await copy.train(
          imageRows(all, usable.slice(nVal)),
          imageRows(all, usable.slice(0, nVal)),
          {
            epochs: req.epochs,
            batchSize: req.batchSize,
            learningRate: req.learningRate,
            schedule: req.schedule,
            minLearningRate: req.minLearningRate,
            seed: req.seed,
            signal: controller.signal,
          },
          onProgress && ((p) => onProgress({ phase: 'train', ...p })),
        );
        const weights = await copy.save();
        use(copy, weights.hash);
        return Comlink.transfer({ history, weights, info: await info() }, [weights.data.buffer]);
      } catch (e) {
        if (encoder !== copy) copy.dispose();
        throw e;
      } finally {
        if (training === controller) training = null;
      }
    });
  },

  /** Stops a training run in progress (it rejects with an AbortError); no-op otherwise. */
  cancel(): void {
    training?.abort(new DOMException('training was cancelled', 'AbortError'));
  },
};

Comlink.expose(api);
