/**
 * Rows left on disk (load.ts `rowsOnDisk`): the snapshot worker checks a kept `csr-f16` file as it streams past
 * (encoding.ts CsrF16Check) instead of decoding it whole, and the page reads it straight into WebAssembly memory
 * (math/sparse-scan.ts wasmRowsMemory). The check must pass exactly the files `decodeSpaceRows` passes, and the
 * memory must scan as the rows decoded in place do. (In the browser: tests/browser/platform-scale.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CsrF16Check, decodeSpaceRows, encodeSpaceData } from '../../src/core/snapshot/encoding.ts';
import { wasmRowsMemory } from '../../src/core/math/sparse-scan.ts';
import { scanSpace } from '../../src/core/vectors.ts';
import type { Space } from '../../src/core/snapshot/format.ts';

const ctx = { file: 'lexical.csr16', field: 'spaces.lexical', itemOf: String };

/** A csr-f16 file of random sparse rows. */
const sparseFile = fc.integer({ min: 1, max: 24 }).chain((dim) =>
  fc.record({
    dim: fc.constant(dim),
    rows: fc.array(fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.float({ min: -4, max: 4, noNaN: true })), { minLength: dim, maxLength: dim }), { maxLength: 20 }),
  }),
);

/** The file fed in pieces cut at multiples of 16 bytes. */
function check(bytes: Uint8Array, rows: number, dim: number, cuts: number[]): CsrF16Check {
  const c = new CsrF16Check(bytes.length, rows, dim);
  const ends = [...new Set(cuts.map((x) => x * 16))].filter((e) => e > 0 && e < bytes.length).sort((a, b) => a - b);
  [0, ...ends].forEach((start, i) => c.feed(bytes.subarray(start, [...ends, bytes.length][i]), start));
  return c;
}

const decodes = (bytes: Uint8Array, rows: number, dim: number) => {
  try {
    decodeSpaceRows(bytes, rows, dim, 'csr-f16', ctx, true);
    return true;
  } catch {
    return false;
  }
};

describe('checking csr-f16 rows as they stream past (CsrF16Check)', () => {
  it('passes every file the loader decodes, with its non-zeros', () => {
    fc.assert(
      fc.property(sparseFile, fc.array(fc.nat({ max: 40 }), { maxLength: 6 }), ({ dim, rows }, cuts) => {
        const bytes = encodeSpaceData(Float32Array.from(rows.flat()), rows.length, dim, 'csr-f16');
        const c = check(bytes, rows.length, dim, cuts);
        expect(c.ok).toBe(true);
        expect(c.nonZeros).toBe(new DataView(bytes.buffer).getUint32(4 + rows.length * 4, true));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses exactly the damaged files the loader refuses (any bytes changed, the file cut short or grown)', () => {
    const damage = fc.oneof(
      fc.record({ kind: fc.constant('byte' as const), at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }),
      fc.record({ kind: fc.constant('word' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 0xffff }) }),
      fc.record({ kind: fc.constant('cut' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('grow' as const), at: fc.integer({ min: 1, max: 8 }) }),
      // Aimed at the rows' structure: a column out of order or repeated, a row offset that goes back or past the end,
      // a value that is infinite or NaN.
      fc.record({ kind: fc.constant('column' as const), at: fc.nat(), value: fc.nat({ max: 30 }) }),
      fc.record({ kind: fc.constant('offset' as const), at: fc.nat(), value: fc.nat({ max: 300 }) }),
      fc.record({ kind: fc.constant('infinite' as const), at: fc.nat(), value: fc.nat({ max: 0x3ff }) }),
    );
    fc.assert(
      fc.property(sparseFile, fc.array(damage, { minLength: 1, maxLength: 3 }), fc.array(fc.nat({ max: 40 }), { maxLength: 6 }), fc.integer({ min: -1, max: 1 }), ({ dim, rows }, damages, cuts, dimShift) => {
        let bytes = encodeSpaceData(Float32Array.from(rows.flat()), rows.length, dim, 'csr-f16');
        const head = 4 + (rows.length + 1) * 4;
        const nnz = new DataView(bytes.buffer).getUint32(head - 4, true);
        for (const d of damages) {
          const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
          if (d.kind === 'column') {
            if (nnz > 0 && bytes.length >= head + nnz * 2) view.setUint16(head + (d.at % nnz) * 2, d.value % (dim + 1), true);
          } else if (d.kind === 'infinite') {
            if (nnz > 0 && bytes.length >= head + nnz * 4) view.setUint16(head + nnz * 2 + (d.at % nnz) * 2, 0x7c00 | d.value, true);
          } else if (d.kind === 'offset') {
            if (rows.length > 0 && bytes.length >= head) view.setUint32(4 + (d.at % (rows.length + 1)) * 4, d.value % (nnz + 2), true);
          } else if (d.kind === 'grow') bytes = Uint8Array.from([...bytes, ...new Uint8Array(d.at)]);
          else if (bytes.length < 2) continue;
          else if (d.kind === 'byte') bytes[d.at % bytes.length] ^= d.xor;
          else if (d.kind === 'word') new DataView(bytes.buffer).setUint16((d.at % (bytes.length >> 1)) * 2, d.value, true);
          else bytes = bytes.slice(0, d.at % bytes.length);
        }
        const expectedDim = Math.max(1, dim + dimShift);
        expect(check(bytes, rows.length, expectedDim, cuts).ok).toBe(decodes(bytes, rows.length, expectedDim));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('rows read straight into WebAssembly memory (wasmRowsMemory)', () => {
  it('scan as the rows decoded in place do, from a csr-f16 file copied into its image', () => {
    fc.assert(
      fc.property(sparseFile, ({ dim, rows }) => {
        const bytes = encodeSpaceData(Float32Array.from(rows.flat()), rows.length, dim, 'csr-f16');
        const { csr } = decodeSpaceRows(bytes, rows.length, dim, 'csr-f16', ctx, true);
        const memory = wasmRowsMemory(rows.length, csr!.cols.length, dim)!;
        expect(memory.image.byteLength).toBe(bytes.byteLength);
        memory.image.set(bytes);
        const space: Space = { name: 'lexical', dim, data: new Float32Array(0), csr, normalized: false, encoder: { name: 'test', version: 1 } };
        const q = Float32Array.from({ length: dim }, (_, i) => Math.sin(i + 1));
        expect(scanSpace({ ...space, csr: memory.rows }, q)).toEqual(scanSpace(space, q));
        expect([memory.rows.offsets, memory.rows.cols, memory.rows.values]).toEqual([csr!.offsets, csr!.cols, csr!.values]);
      }),
      { numRuns: 200 },
    );
  });
});
