import { describe, it, expect, beforeAll } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LexicalEncoder, fnv1a } from '../../src/core/text/lexical.ts';
import { lexicalFeatures, words } from '../../src/core/text/tokenize.ts';
import { parseCatalogJsonl, type SourceItem } from '../../src/core/source.ts';
import { dot } from '../../src/core/vectors.ts';
import { webtoonsDir } from './helpers/paths.ts';

let items: SourceItem[];
let enc: LexicalEncoder;
const byTitle = (t: string) => items.find((i) => i.title === t)!;

beforeAll(async () => {
  items = parseCatalogJsonl(await readFile(path.join(webtoonsDir, 'catalog.jsonl'), 'utf8'));
  enc = LexicalEncoder.fit(items);
});

describe('Korean-aware tokenisation', () => {
  it('splits words in any script and keeps stems shared across particles', () => {
    expect(words('회귀자가 복수를! The END')).toEqual(['회귀자가', '복수를', 'the', 'end']);
    const a = new Set(lexicalFeatures('회귀자가'));
    const b = lexicalFeatures('회귀자를');
    expect(b.filter((g) => a.has(g))).toEqual(expect.arrayContaining(['<회', '회귀', '귀자', '<회귀', '회귀자']));
  });

  it('hashes identically everywhere (FNV-1a test vectors)', () => {
    expect(fnv1a('')).toBe(0x811c9dc5);
    expect(fnv1a('a')).toBe(0xe40c292c);
    expect(fnv1a('foobar')).toBe(0xbf9cf968);
  });
});

describe('lexical space', () => {
  it('gives the same vector for the same text, unit length', () => {
    const a = enc.embedOne(items[0]);
    const b = enc.embedOne({ ...items[0] });
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(dot(a, a)).toBeCloseTo(1, 5);
  });

  it('puts related synopses closer than unrelated ones on real catalog rows', () => {
    // Zombie stories should sit closer to each other than to the rest of the catalog.
    const zombie = items.filter((i) => /좀비/.test(i.synopsis));
    const others = items.filter((i) => !/좀비/.test(i.synopsis + i.title));
    expect(zombie.length).toBeGreaterThanOrEqual(4);
    const z = zombie.map((i) => enc.embedOne(i));
    const o = others.map((i) => enc.embedOne(i));
    let within = 0, wn = 0, across = 0, an = 0;
    for (let a = 0; a < z.length; a++) {
      for (let b = a + 1; b < z.length; b++) { within += dot(z[a], z[b]); wn++; }
      for (const v of o) { across += dot(z[a], v); an++; }
    }
    expect(within / wn).toBeGreaterThan(2 * (across / an));
    // And the nearest neighbour of 좀비딸 among a few candidates is the other zombie story.
    const a = enc.embedOne(byTitle('좀비딸'));
    expect(dot(a, enc.embedOne(byTitle('데드라이프')))).toBeGreaterThan(dot(a, enc.embedOne(byTitle('일상날개짓'))));
  });

  it('ranks a title first for a query made of its own words', () => {
    const data = enc.embed(items);
    const target = items.findIndex((i) => i.synopsis.length > 40);
    const q = enc.embedQuery(items[target].synopsis.slice(0, 30));
    let best = -1, bestScore = -Infinity;
    for (let i = 0; i < items.length; i++) {
      const s = dot(q, data.subarray(i * enc.dim, (i + 1) * enc.dim));
      if (s > bestScore) { bestScore = s; best = i; }
    }
    expect(best).toBe(target);
  });

  it('refuses an IDF table of the wrong length', () => {
    expect(() => new LexicalEncoder(16, new Float32Array(8))).toThrow(/8 entries, expected 16/);
  });
});

describe('scanDot', () => {
  it('equals a plain dot product for every row, including a tail of rows not divisible by 4', async () => {
    const { scanDot } = await import('../../src/core/vectors.ts');
    const dim = 7, n = 11;
    const data = Float32Array.from({ length: n * dim }, (_, i) => Math.sin(i));
    const q = Float32Array.from({ length: dim }, (_, i) => Math.cos(i));
    const out = scanDot(data, dim, q);
    for (let r = 0; r < n; r++) expect(out[r]).toBeCloseTo(dot(data.subarray(r * dim, (r + 1) * dim), q), 5);
  });
});
