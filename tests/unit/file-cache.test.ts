import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checksum } from '../../src/core/snapshot/file-cache.ts';

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
