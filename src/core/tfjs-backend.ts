/**
 * The one place that picks the TensorFlow.js backend: the style encoder, the sequence model and the
 * synopsis adapter all train and run on what this chooses.
 *
 * Order: WebGPU (only when the platform really hands out an adapter), then WASM, then the pure-JS CPU backend.
 * The WebGPU and WASM backends are imported lazily so that a page (or Node) without WebGPU never loads that code.
 */
import * as tf from '@tensorflow/tfjs';
import { probeCapabilities, type Capabilities } from './capabilities.ts';
import { registerWasmTrainingKernels } from './style/wasm-kernels.ts';

export type StyleBackend = 'webgpu' | 'wasm' | 'cpu';

/** Where the wasm backend finds its `.wasm` binaries: a folder prefix ending in '/', or one URL per file name. */
export type WasmPaths = string | Record<string, string>;

export interface ChooseBackendOptions {
  /**
   * Needed in the browser: the bundler does not copy tfjs' `.wasm` files, so pass their served URLs
   * (`tfjs-backend-wasm.wasm`, `tfjs-backend-wasm-simd.wasm`, `tfjs-backend-wasm-threaded-simd.wasm`).
   * In Node leave it out: the package's Node build reads the files next to itself.
   */
  wasmPaths?: WasmPaths;
  /** What the platform can do; default the one probe (`probeCapabilities`), which decides whether WebGPU has an adapter. */
  capabilities?: Pick<Capabilities, 'webgpu'>;
}

const ORDER: readonly StyleBackend[] = ['webgpu', 'wasm', 'cpu'];

async function tryBackend(name: StyleBackend, options: ChooseBackendOptions): Promise<boolean> {
  try {
    if (name === 'webgpu') {
      // navigator.gpu existing is not enough: requestAdapter() may still answer null (blocklisted GPU, headless).
      if (!(options.capabilities ?? (await probeCapabilities())).webgpu) return false;
      await import('@tensorflow/tfjs-backend-webgpu'); // registers 'webgpu' itself when navigator.gpu exists
    } else if (name === 'wasm') {
      const wasm = await import('@tensorflow/tfjs-backend-wasm');
      // One thread, also on a cross-origin isolated page (scripts/serve.ts ISOLATION), where the backend would pick
      // its threaded build: that build's threads do not start from our module workers (their script fails there:
      // the style worker died with an uncaught ErrorEvent in Chromium), and one thread is what every measurement of
      // it was made with. Before findBackend, which starts the backend.
      tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
      // setWasmPaths only counts before the backend first initialises (and throws after a failed start).
      if (options.wasmPaths !== undefined && !tf.findBackend('wasm')) wasm.setWasmPaths(options.wasmPaths);
      registerWasmTrainingKernels();
    }
    // setBackend answers false (after a console warning) when the backend fails to initialise.
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch (e) {
    // A lazy chunk that fails to load, a bad wasmPaths map, a backend that throws while starting: say so, fall back.
    console.warn(`style encoder: backend ${name} unavailable (${(e as Error)?.message ?? String(e)})`);
    return false;
  }
}

/**
 * Selects the best available backend, starting at `preference` (default 'webgpu') and falling back down
 * webgpu → wasm → cpu. Returns the name of the backend now active. In Node: 'wasm' (there is no navigator.gpu).
 */
export async function chooseTfjsBackend(preference: StyleBackend = 'webgpu', options: ChooseBackendOptions = {}): Promise<StyleBackend> {
  const start = ORDER.indexOf(preference);
  if (start < 0) throw new Error(`unknown style backend "${String(preference)}" (expected ${ORDER.join(', ')})`);
  for (const name of ORDER.slice(start)) {
    if (await tryBackend(name, options)) return name;
  }
  throw new Error('no TensorFlow.js backend could be initialised (not even cpu)');
}
