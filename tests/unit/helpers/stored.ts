import { expect } from 'vitest';

/**
 * `actual` holds `expected` as a snapshot stores it (int8 rows with a scale, or half floats): each value within
 * half a step of its row's int8 grid (max |x| / 254), which also bounds half-float rounding for unit-scale rows.
 */
export function expectStoredRows(actual: ArrayLike<number>, expected: ArrayLike<number>, dim: number): void {
  expect(actual.length).toBe(expected.length);
  for (let o = 0; o < expected.length; o += dim) {
    let max = 0;
    for (let j = o; j < o + dim; j++) max = Math.max(max, Math.abs(expected[j]));
    const tolerance = (max / 254) * 1.001 + 1e-7;
    for (let j = o; j < o + dim; j++) {
      if (Math.abs(actual[j] - expected[j]) > tolerance) expect.fail(`row ${o / dim}, [${j - o}]: ${actual[j]} is not ${expected[j]} within ${tolerance}`);
    }
  }
}
