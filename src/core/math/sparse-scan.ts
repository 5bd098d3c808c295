/**
 * Sparse rows scanned in WebAssembly (sparse-scan.wat): at 100k titles the lexical space's scan takes ~8–12 ms
 * here against ~30–40 ms as a JavaScript loop, to the same bits. A module can only read its own memory, so
 * `wasmRows` copies the rows in once per snapshot and hands back views on that copy (the original buffer can then
 * go). Where WebAssembly cannot compile (a host page whose Content-Security-Policy forbids it) or the memory
 * cannot be had, the rows stay as they are and vectors.ts scans them in JavaScript, with the same result.
 */
import { halfFloatTable, type CsrRows } from '../snapshot/encoding.ts';
import type { Space } from '../snapshot/format.ts';
import { runSteps } from '../steps.ts';
import { WASM_BASE64, WASM_SHARED_BASE64 } from './sparse-scan.wasm.ts';

interface ScanExports {
  scan(n: number, offsets: number, cols: number, values: number, table: number, q: number, out: number): void;
}

const compiled: { plain?: WebAssembly.Module | null; shared?: WebAssembly.Module | null } = {};

/**
 * The compiled kernel, or null where this realm may not compile WebAssembly (tried once); `shared`, the same kernel
 * over a shared memory (build-wasm.mts), null where there is none (a page that is not cross-origin isolated).
 */
function kernelModule(shared = false): WebAssembly.Module | null {
  const kind = shared ? 'shared' : 'plain';
  if (compiled[kind] === undefined) {
    try {
      // Synchronous compilation is allowed on a page's thread for modules under 4 KB; this one is ~200 bytes.
      compiled[kind] = new WebAssembly.Module(Uint8Array.from(atob(shared ? WASM_SHARED_BASE64 : WASM_BASE64), (c) => c.charCodeAt(0)));
    } catch {
      compiled[kind] = null;
    }
  }
  return compiled[kind];
}

const PAGE_BYTES = 65536;
const HALF_TABLE = 65536;
const align8 = (x: number) => (x + 7) & ~7;

/**
 * The same rows in WebAssembly memory, with their kernel; the rows themselves where there is no kernel for them
 * (float32 values) or WebAssembly is unavailable. Rows that already have a kernel are returned as they are.
 */
export function wasmRows(csr: CsrRows, dim: number): CsrRows {
  return runSteps(wasmRowsInSteps(csr, dim, Infinity));
}

/**
 * Moves every sparse space's rows into WebAssembly memory (the spaces replaced in the map), pausing after each
 * `chunkBytes` copied: the loader runs it at once, the page a chunk per task as the snapshot arrives.
 */
export function* spacesIntoWasm(spaces: Map<string, Space>, chunkBytes: number): Generator<void, void> {
  for (const [name, space] of spaces) if (space.csr) spaces.set(name, { ...space, csr: yield* wasmRowsInSteps(space.csr, space.dim, chunkBytes) });
}

/**
 * wasmRows, pausing (yielding) after each `chunkBytes` copied: a page moves 60 MB of rows (100k titles) between
 * other work instead of in one long task.
 */
export function* wasmRowsInSteps(csr: CsrRows, dim: number, chunkBytes: number): Generator<void, CsrRows> {
  const { offsets, cols, values, table } = csr;
  if (csr.kernel || !table || !(values instanceof Uint16Array) || table.length !== HALF_TABLE) return csr;
  const memory = wasmRowsMemory(offsets.length - 1, cols.length, dim);
  if (!memory) return csr;
  const rows = memory.rows;
  for (const [to, from] of [[rows.offsets, offsets], [rows.cols, cols], [rows.values, values]] as const) {
    const step = Math.max(1, Math.floor(chunkBytes / from.BYTES_PER_ELEMENT));
    for (let i = 0; i < from.length; i += step) {
      to.set(from.subarray(i, Math.min(from.length, i + step)), i);
      if (i + step < from.length) yield;
    }
  }
  return rows;
}

/** Whether this realm can compile the kernel (a page whose Content-Security-Policy forbids WebAssembly cannot). */
export const sparseKernelAvailable = (): boolean => kernelModule() !== null;

/** Whether `buffer` is shared memory (the global is missing where a realm may not share memory: not isolated). */
export const isSharedBuffer = (buffer: unknown): buffer is SharedArrayBuffer => typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer;

/**
 * Whether the rows' memory can be shared with a worker, which then writes the rows into it itself (snapshot-client.ts):
 * only a cross-origin isolated page (COOP + COEP headers) may share memory with its workers.
 */
export const sharedRowsAvailable = (): boolean => (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true && kernelModule(true) !== null;

/**
 * WebAssembly memory for `n` half-float rows of `dim` with `nnz` non-zeros, and their kernel; undefined where there
 * is no kernel or no memory of that size. The rows sit in it as a `csr-f16` file's image (encoding.ts: the dim, the
 * row offsets, the columns, the half floats), so that a kept file's pieces can be copied straight into `image`
 * (snapshot-client.ts) as well as rows copied into `rows`' views; `rows` is valid once they are filled. `shared`: the
 * memory is a SharedArrayBuffer's (only where sharedRowsAvailable), which a worker can fill.
 */
export function wasmRowsMemory(n: number, nnz: number, dim: number, shared = false): { image: Uint8Array; rows: CsrRows } | undefined {
  const module = kernelModule(shared);
  if (!module) return undefined;
  // Layout: the half-float table, the query, the output, then the file's image (its row offsets 4-aligned).
  const at = { table: 0, q: HALF_TABLE * 4, out: 0, image: 0, offsets: 0, cols: 0, values: 0 };
  at.out = align8(at.q + dim * 4);
  at.image = align8(at.out + n * 4);
  at.offsets = at.image + 4;
  at.cols = at.offsets + (n + 1) * 4;
  at.values = at.cols + nnz * 2;
  const end = at.values + nnz * 2;
  let memory: WebAssembly.Memory;
  let exports: ScanExports;
  try {
    const pages = Math.ceil(end / PAGE_BYTES);
    memory = new WebAssembly.Memory(shared ? { initial: pages, maximum: pages, shared } : { initial: pages });
    exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as ScanExports;
  } catch {
    return undefined; // no memory of that size here: the JavaScript scan reads the rows where they are
  }
  const buf = memory.buffer;
  const rows: CsrRows = {
    offsets: new Uint32Array(buf, at.offsets, n + 1),
    cols: new Uint16Array(buf, at.cols, nnz),
    values: new Uint16Array(buf, at.values, nnz),
    table: new Float32Array(buf, at.table, HALF_TABLE),
  };
  rows.table!.set(halfFloatTable());
  new DataView(buf).setUint32(at.image, dim, true);
  const query = new Float32Array(buf, at.q, dim);
  const scores = new Float32Array(buf, at.out, n);
  rows.kernel = {
    scan(q, out, start = 0, end = n) {
      if (q.length !== dim || out.length !== n) throw new RangeError(`sparse scan: a query of ${q.length} values and ${out.length} outputs for ${n} rows of dim ${dim}`);
      if (!(start >= 0 && start <= end && end <= n)) throw new RangeError(`sparse scan: rows ${start}–${end} of ${n}`);
      query.set(q);
      // The kernel reads each row's absolute offsets, so rows [start, end) are the offsets and outputs from there on.
      exports.scan(end - start, at.offsets + 4 * start, at.cols, at.values, at.table, at.q, at.out + 4 * start);
      out.set(scores.subarray(start, end), start);
    },
  };
  return { image: new Uint8Array(buf, at.image, end - at.image), rows };
}
