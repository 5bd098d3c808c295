/**
 * What this platform can do, probed once and frozen (like transformers.js `apis`). Backend choice for
 * every encoder is made from this in one function, `chooseDevice`. Pure TS: works in pages, workers, Node.
 */
export interface Capabilities {
  /** A WebGPU adapter was actually handed out (navigator.gpu alone is not enough). */
  webgpu: boolean;
  /** The adapter supports fp16 shaders (ask for fp16 weights only then). */
  shaderF16: boolean;
  wasm: boolean;
  /** Multi-threaded WASM needs cross-origin isolation; without it ORT and tfjs run one thread. */
  wasmThreads: boolean;
  workers: boolean;
  indexedDB: boolean;
  serviceWorker: boolean;
  /** Node.js (scripts and unit tests), not a browser. */
  node: boolean;
}

export type Device = 'webgpu' | 'wasm' | 'cpu';

interface GpuLike {
  requestAdapter(): Promise<{ features: { has(f: string): boolean } } | null>;
}

let probed: Promise<Readonly<Capabilities>> | undefined;

async function probe(): Promise<Readonly<Capabilities>> {
  const g = globalThis as Record<string, any>;
  const node = typeof g.process?.versions?.node === 'string' && typeof g.window === 'undefined' && typeof g.WorkerGlobalScope === 'undefined';
  let webgpu = false;
  let shaderF16 = false;
  const gpu = g.navigator?.gpu as GpuLike | undefined;
  if (gpu && !node) {
    try {
      const adapter = await gpu.requestAdapter();
      webgpu = adapter != null;
      shaderF16 = !!adapter?.features.has('shader-f16');
    } catch {
      webgpu = false;
    }
  }
  return Object.freeze({
    webgpu,
    shaderF16,
    wasm: typeof g.WebAssembly === 'object',
    wasmThreads: !!g.crossOriginIsolated && typeof g.SharedArrayBuffer === 'function',
    workers: typeof g.Worker === 'function',
    indexedDB: typeof g.indexedDB === 'object' && g.indexedDB !== null,
    serviceWorker: !!g.navigator?.serviceWorker,
    node,
  });
}

/** Probes once per realm; later calls share the answer. */
export function probeCapabilities(): Promise<Readonly<Capabilities>> {
  probed ??= probe();
  return probed;
}

/**
 * The one backend decision: the preferred device if the platform has it, else the next best.
 * Node has no browser WASM runtime for ORT: transformers.js there runs on onnxruntime-node ('cpu').
 */
export function chooseDevice(caps: Capabilities, preference: 'auto' | Device = 'auto'): Device {
  if (caps.node) return preference === 'wasm' ? 'wasm' : 'cpu';
  if ((preference === 'auto' || preference === 'webgpu') && caps.webgpu) return 'webgpu';
  if (preference !== 'cpu' && caps.wasm) return 'wasm';
  return 'cpu';
}
