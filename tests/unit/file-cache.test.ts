import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checksum, RunningChecksum } from '../../src/core/snapshot/file-cache.ts';

describe('the file cache checksum (OPFS entries)', () => {
  it('changes with any one byte, and with the length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (bytes, at, flip) => {
        const damaged = bytes.slice();
        damaged[at % bytes.length] ^= flip;
        expect(checksum(damaged)).not.toBe(checksum(bytes));
        expect(checksum(bytes.subarray(0, bytes.length - 1))).not.toBe(checksum(bytes));
      }),
      { numRuns: 500 },
    );
  });

  it('depends on the bytes only, not where they sit in their buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.integer({ min: 1, max: 3 }), (bytes, shift) => {
        const buffer = new Uint8Array(bytes.length + shift);
        buffer.set(bytes, shift);
        expect(checksum(buffer.subarray(shift))).toBe(checksum(bytes));
      }),
    );
  });
});

describe('reading a kept file in pieces (rows left on disk)', () => {
  /** Pieces of `bytes` at the cut points given: every piece but the last a multiple of 16 bytes. */
  const pieces = (bytes: Uint8Array, cuts: number[]) => {
    const ends = [...new Set(cuts.map((c) => Math.min(bytes.length, c * 16)))].sort((a, b) => a - b).filter((e) => e > 0 && e < bytes.length);
    return [0, ...ends].map((start, i) => bytes.subarray(start, [...ends, bytes.length][i]));
  };

  it('sums pieces to the checksum of the whole', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.array(fc.nat({ max: 30 }), { maxLength: 5 }), (bytes, cuts) => {
        const sum = new RunningChecksum();
        for (const p of pieces(bytes, cuts)) sum.update(p);
        expect(sum.digest()).toBe(checksum(bytes));
      }),
      { numRuns: 300 },
    );
    const sum = new RunningChecksum();
    sum.update(new Uint8Array(5));
    expect(() => sum.update(new Uint8Array(16))).toThrow(/only the last piece/);
  });
});
