/**
 * The synopsis encoder in a Web Worker (comlink), so model loading and inference never block the page.
 * A thin adapter over src/core: SynopsisEncoder (transformers.js) then, when the snapshot ships one, the
 * domain adapter. Created by src/app/text-client.ts.
 *
 * onnxruntime-web's runtime files are served from our own origin: transformers.js would otherwise fetch
 * them from a CDN. These are the files its `onnxruntime-web/webgpu` build asks for (the asyncify build
 * serves both the WASM and the WebGPU execution providers).
 */
import * as Comlink from 'comlink';
import ortWasmUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url';
import ortMjsUrl from 'onnxruntime-web/ort-wasm-simd-threaded.asyncify.mjs?url';
import { chooseDevice, probeCapabilities, type Device } from '../src/core/capabilities.ts';
import { serial, type TextLoadProgress, type TextModelInfo, type TextModelRequest, type TextWorkerApi } from './protocol.ts';
import { SynopsisAdapter } from '../src/core/text/adapter.ts';
import { SynopsisEncoder, type EncoderDevice } from '../src/core/text/synopsis-encoder.ts';

let encoder: SynopsisEncoder | null = null;
let adapter: SynopsisAdapter | null = null;
// One load or inference at a time: a WebGPU session fails on concurrent runs ("Session already started").
const queued = serial();

async function open(req: TextModelRequest, device: Device, onProgress?: (p: TextLoadProgress) => void): Promise<SynopsisEncoder> {
  const m = req.model;
  return SynopsisEncoder.load({
    modelId: m.modelId,
    revision: m.revision,
    dtype: device === 'webgpu' ? m.dtype.webgpu : m.dtype.wasm,
    device: device as EncoderDevice,
    maxTokens: m.maxTokens,
    allowRemoteModels: m.allowRemoteModels,
    localModelPath: m.localModelPath,
    wasmPaths: { wasm: ortWasmUrl, mjs: ortMjsUrl },
    onProgress: onProgress
      ? (p) => onProgress({ status: p.status, ...('file' in p ? { file: p.file } : {}), ...('loaded' in p ? { loaded: p.loaded, total: p.total } : {}) })
      : undefined,
  });
}

const api: TextWorkerApi = {
  /** Loads (or reloads) the model; answers which device it runs on. */
  load(req: TextModelRequest, onProgress?: (p: TextLoadProgress) => void): Promise<TextModelInfo> {
    return queued(async () => {
      if (!/^([a-z][a-z0-9+.-]*:|\/)/i.test(req.model.localModelPath)) {
        throw new Error(`localModelPath must be root-relative ("/models/") or a URL in a worker, got "${req.model.localModelPath}"`);
      }
      await encoder?.dispose();
      encoder = null;
      const caps = await probeCapabilities();
      let device = chooseDevice(caps, req.device);
      let enc: SynopsisEncoder;
      try {
        enc = await open(req, device, onProgress);
      } catch (e) {
        // A GPU that is there but cannot run this model (a missing feature, a memory limit): WASM instead.
        if (device !== 'webgpu') throw e;
        device = chooseDevice({ ...caps, webgpu: false }, req.device);
        enc = await open(req, device, onProgress);
      }
      const ad = req.adapter ? SynopsisAdapter.fromBytes(req.adapter.bytes, req.adapter.dim, 'the snapshot adapter') : null;
      if (ad && ad.dim !== enc.dim) {
        await enc.dispose();
        throw new Error(`the snapshot adapter is ${ad.dim}-d but model "${req.model.modelId}" gives ${enc.dim}-d vectors`);
      }
      encoder = enc;
      adapter = ad;
      const m = req.model;
      return { modelId: m.modelId, revision: m.revision, dtype: device === 'webgpu' ? m.dtype.webgpu : m.dtype.wasm, device, dim: enc.dim, adapted: !!ad };
    });
  },

  /** N×dim unit vectors, row-major; the buffer is transferred, not copied. */
  embed(texts: string[]): Promise<Float32Array> {
    return queued(async () => {
      if (!encoder) throw new Error('text model not loaded: call load() first');
      const base = await encoder.embed(texts);
      const out = adapter ? adapter.apply(base) : base;
      return Comlink.transfer(out, [out.buffer]);
    });
  },

  dispose(): Promise<void> {
    return queued(async () => {
      await encoder?.dispose();
      encoder = null;
      adapter = null;
    });
  },
};

Comlink.expose(api);
