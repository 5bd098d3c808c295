import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { compileWat, wasmModuleSource } from '../../scripts/build-wasm.mts';
import { wasmRows, wasmRowsInSteps, wasmRowsMemory } from '../../src/core/math/sparse-scan.ts';
import { Worker } from 'node:worker_threads';
import { rng } from '../../src/core/random.ts';
import { decodeSpaceRows, encodeSpaceData, fromHalf, halfFloatTable } from '../../src/core/snapshot/encoding.ts';
import type { Space } from '../../src/core/snapshot/format.ts';
import { scanSpace, scanSpaceSteps } from '../../src/core/vectors.ts';
import { runSteps } from '../../src/core/steps.ts';

const mathDir = path.join(import.meta.dirname, '../../src/core/math');
const ctx = { file: 'lexical.csr16', field: 'spaces.lexical', itemOf: String };

/** Rows stored as the builder stores a sparse space, then read back as the loader keeps them (views, half floats). */
function sparseSpace(dense: Float32Array, rows: number, dim: number): Space {
  const { data, csr } = decodeSpaceRows(encodeSpaceData(dense, rows, dim, 'csr-f16'), rows, dim, 'csr-f16', ctx, true);
  return { name: 'lexical', dim, data, csr, normalized: false, encoder: { name: 'test', version: 1 } };
}

describe('the WebAssembly sparse scan (src/core/math/sparse-scan.ts)', () => {
  it('ships the bytes its text source compiles to (`npm run build:wasm` was run after the last edit)', async () => {
    const file = path.join(mathDir, 'sparse-scan.wat');
    const [bytes, shared] = [await compileWat(file), await compileWat(file, true)];
    expect(readFileSync(path.join(mathDir, 'sparse-scan.wasm.ts'), 'utf8')).toBe(wasmModuleSource('sparse-scan', bytes, shared));
  });

  it('scans rows another thread wrote into shared memory (a file image, as the snapshot worker writes it) to the same bits', async () => {
    const dim = 37, rows = 300;
    const random = rng(7);
    const dense = Float32Array.from({ length: rows * dim }, () => (random() < 0.2 ? random() * 2 - 1 : 0));
    const file = encodeSpaceData(dense, rows, dim, 'csr-f16');
    const space = sparseSpace(dense, rows, dim);
    const nnz = space.csr!.cols.length;
    const memory = wasmRowsMemory(rows, nnz, dim, true)!;
    expect(memory.image.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(memory.image.byteLength).toBe(file.byteLength);
    // The file's bytes written by a worker thread, piece by piece, straight into the shared image.
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       const { image, file } = workerData;
       for (let at = 0; at < file.length; at += 1000) image.set(file.subarray(at, at + 1000), at);
       parentPort.postMessage('written');`,
      { eval: true, workerData: { image: memory.image, file } },
    );
    await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
    await worker.terminate();
    const q = Float32Array.from({ length: dim }, () => random() * 2 - 1);
    expect(scanSpace({ ...space, csr: memory.rows }, q)).toEqual(scanSpace(space, q));
    expect(scanSpace({ ...space, csr: memory.rows }, q)).toEqual(scanSpace({ ...space, csr: wasmRows(space.csr!, dim) }, q));
  });

  it('scores every row exactly as the JavaScript scan does (the same float32 bits), empty rows included', () => {
    const matrix = fc.integer({ min: 1, max: 40 }).chain((dim) =>
      fc.record({
        dim: fc.constant(dim),
        rows: fc.array(fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.float({ min: -4, max: 4, noNaN: true })), { minLength: dim, maxLength: dim }), { maxLength: 30 }),
        q: fc.array(fc.float({ min: -2, max: 2, noNaN: true }), { minLength: dim, maxLength: dim }),
      }),
    );
    fc.assert(
      fc.property(matrix, ({ dim, rows, q }) => {
        const space = sparseSpace(Float32Array.from(rows.flat()), rows.length, dim);
        const inWasm = { ...space, csr: wasmRows(space.csr!, dim) };
        expect(inWasm.csr.kernel).toBeDefined();
        const query = Float32Array.from(q);
        expect(scanSpace(inWasm, query)).toEqual(scanSpace(space, query));
      }),
      { numRuns: 200 },
    );
  });

  it('scans in steps (any row ranges) to the same bits, in WebAssembly, in JavaScript and over dense rows', () => {
    const matrix = fc.integer({ min: 1, max: 24 }).chain((dim) =>
      fc.record({
        dim: fc.constant(dim),
        rows: fc.array(fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.float({ min: -4, max: 4, noNaN: true })), { minLength: dim, maxLength: dim }), { minLength: 1, maxLength: 40 }),
        q: fc.array(fc.float({ min: -2, max: 2, noNaN: true }), { minLength: dim, maxLength: dim }),
        stepValues: fc.integer({ min: 1, max: 200 }),
      }),
    );
    fc.assert(
      fc.property(matrix, ({ dim, rows, q, stepValues }) => {
        const sparse = sparseSpace(Float32Array.from(rows.flat()), rows.length, dim);
        const dense: Space = { ...sparse, data: Float32Array.from(rows.flat(), Math.fround), csr: undefined };
        const query = Float32Array.from(q);
        for (const space of [sparse, { ...sparse, csr: wasmRows(sparse.csr!, dim) }, dense]) {
          const steps = scanSpaceSteps(space, query, stepValues);
          let pauses = 0;
          let r = steps.next();
          for (; !r.done; r = steps.next()) pauses++;
          expect(r.value).toEqual(scanSpace(space, query));
          const perRow = space.csr ? space.csr.offsets[rows.length] / rows.length : dim;
          expect(pauses).toBe(Math.ceil(rows.length / Math.max(1, Math.floor(stepValues / Math.max(1, perRow)))) - 1);
          expect(runSteps(scanSpaceSteps(space, query, Infinity))).toEqual(scanSpace(space, query));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('reads half floats through a table of every half\'s value (the formula\'s, bit for bit)', () => {
    const table = halfFloatTable();
    for (let h = 0; h < 65536; h++) if (!Object.is(table[h], Math.fround(fromHalf(h)))) throw new Error(`half 0x${h.toString(16)}: ${table[h]} ≠ ${fromHalf(h)}`);
    expect([table[0x3c00], table[0xc000], table[0x7bff], table[0x0001], table[0x8000], table[0x7c00]]).toEqual([1, -2, 65504, 2 ** -24, -0, Infinity]);
  });

  it('holds the same rows, and leaves alone rows it has no kernel for', () => {
    const dense = Float32Array.from({ length: 12 * 7 }, (_, i) => (i % 3 === 0 ? Math.sin(i) : 0));
    const space = sparseSpace(dense, 12, 7);
    const rows = wasmRows(space.csr!, 7);
    expect([rows.offsets, rows.cols, rows.values]).toEqual([space.csr!.offsets, space.csr!.cols, space.csr!.values]);
    expect(rows.offsets.buffer).not.toBe(space.csr!.offsets.buffer);
    expect(wasmRows(rows, 7)).toBe(rows); // already in WebAssembly memory
    const int8 = decodeSpaceRows(encodeSpaceData(dense, 12, 7, 'csr-int8'), 12, 7, 'csr-int8', ctx, true).csr!;
    expect(wasmRows(int8, 7)).toBe(int8); // float32 values: the JavaScript scan
    expect(() => rows.kernel!.scan(new Float32Array(6), new Float32Array(12))).toThrow(/a query of 6 values .* dim 7/);
  });

  it('moves the rows in steps of the chunk size asked for (the page, between its tasks), to the same rows and scores', () => {
    const rows = 300, dim = 50;
    const dense = Float32Array.from({ length: rows * dim }, (_, i) => (i % 7 === 0 ? Math.cos(i) : 0));
    const space = sparseSpace(dense, rows, dim);
    const csr = space.csr!;
    const steps = wasmRowsInSteps(csr, dim, 256);
    let pauses = 0;
    let r = steps.next();
    for (; !r.done; r = steps.next()) pauses++;
    const chunks = (a: ArrayLike<number> & { BYTES_PER_ELEMENT: number }) => Math.ceil(a.length / (256 / a.BYTES_PER_ELEMENT));
    expect(pauses).toBe(chunks(csr.offsets) + chunks(csr.cols) + chunks(csr.values) - 3);
    const q = Float32Array.from({ length: dim }, (_, i) => Math.sin(i));
    expect(scanSpace({ ...space, csr: r.value }, q)).toEqual(scanSpace({ ...space, csr: wasmRows(csr, dim) }, q));
    expect(scanSpace({ ...space, csr: r.value }, q)).toEqual(scanSpace(space, q));
  });
});
