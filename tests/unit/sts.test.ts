import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/errors.ts';
import { parseStsTsv, pearson, ranks, rowCosines, spearman } from '../../src/core/text/sts.ts';

const HEADER = 'genre\tfilename\tyear\tid\tscore\tsentence1\tsentence2';

describe('STS figures', () => {
  it('computes Pearson and Spearman like the textbook', () => {
    expect(pearson([1, 2, 3, 4], [2, 4, 6, 8])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3, 4], [8, 6, 4, 2])).toBeCloseTo(-1, 12);
    // r of (1,2,3,4,5) and (2,1,4,3,5) = 0.8
    expect(pearson([1, 2, 3, 4, 5], [2, 1, 4, 3, 5])).toBeCloseTo(0.8, 12);
    // Monotone but not linear: Spearman 1, Pearson below 1.
    const x = [1, 2, 3, 4, 5];
    const y = x.map((v) => v ** 3);
    expect(spearman(x, y)).toBeCloseTo(1, 12);
    expect(pearson(x, y)).toBeLessThan(0.99);
    expect(Array.from(ranks([10, 20, 20, 5]))).toEqual([2, 3.5, 3.5, 1]);
    expect(pearson([1, 1, 1], [1, 2, 3])).toBe(0);
  });

  it('gives the cosine of row pairs', () => {
    const c = rowCosines(new Float32Array([1, 0, 3, 4]), new Float32Array([0, 1, 6, 8]), 2);
    expect(c[0]).toBeCloseTo(0, 6);
    expect(c[1]).toBeCloseTo(1, 6);
  });

  it('parses KorSTS rows and names a bad line', () => {
    const pairs = parseStsTsv(`${HEADER}\nmain\tMSRvid\t2012\t0001\t5.000\t비행기가 이륙하고 있다.\t비행기가 이륙하고 있다.\n`, 'sts.tsv');
    expect(pairs).toEqual([{ score: 5, a: '비행기가 이륙하고 있다.', b: '비행기가 이륙하고 있다.' }]);
    const bad = () => parseStsTsv(`${HEADER}\nmain\tMSRvid\t2012\t0001\tfive\ta\tb`, 'sts.tsv');
    expect(bad).toThrow(DataError);
    expect(bad).toThrow('sts.tsv, item line 2, field "score"');
    expect(() => parseStsTsv('a\tb\n', 'x.tsv')).toThrow(/header/);
  });
});
