import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { AUGMENTATIONS, augment, augmentViews, randomDeletion, randomInsertion, randomSwap, synonymReplacement } from '../../src/core/text/augment.ts';
import { SYNONYM_GROUPS } from '../../src/core/text/synonyms-ko.ts';
import { rng } from '../../src/core/random.ts';
import { demoSnapshotDir } from './helpers/paths.ts';

// The demo snapshot keeps its synopses in one page (docs/snapshot.md, `details`).
const synopses = (JSON.parse(readFileSync(path.join(demoSnapshotDir, 'details/synopses-0.json'), 'utf8')) as string[]).filter((s) => s.trim());

describe('Korean synopsis augmentation', () => {
  it('keeps every augmented synopsis non-empty, for every operation and rate', () => {
    const random = rng(7);
    for (const text of [...synopses.slice(0, 200), '단어', '두 단어']) {
      for (const op of AUGMENTATIONS) {
        for (const rate of [0.1, 0.5, 1]) expect(augment(text, op, rate, random).trim().length, `${op} ${rate}: ${text}`).toBeGreaterThan(0);
      }
    }
    // Deleting with certainty still leaves one word.
    expect(randomDeletion(['하나', '둘', '셋'], 1, rng(1))).toHaveLength(1);
  });

  it('is reproducible by seed and varies with it', () => {
    const views = (seed: number) => synopses.slice(0, 50).map((s) => augmentViews(s, 2, 0.2, rng(seed)));
    expect(views(3)).toEqual(views(3));
    expect(views(3)).not.toEqual(views(4));
  });

  it('replaces a noun stem by a synonym and fits the particle to it (를 → 을)', () => {
    const out = synonymReplacement(['복수를', '꿈꾸는', '소녀'], 2, rng(1));
    expect(out[1]).toBe('꿈꾸는');
    const [revenge, girl] = [out[0], out[2]];
    expect(['보복을', '앙갚음을']).toContain(revenge);
    expect(['여자 아이', '여자애']).toContain(girl);
    // Punctuation around a word stays where it was.
    expect(synonymReplacement(['‘세상을,'], 1, rng(2))).toEqual(['‘세계를,']);
    // A word that only starts like a synonym (검은 = black, not 검 + 은) is left alone.
    expect(synonymReplacement(['검은', '고양이'], 2, rng(1))).toEqual(['검은', '고양이']);
  });

  it('swaps and inserts without losing words', () => {
    const words = ['평범한', '소년이', '갑자기', '세상을', '구한다'];
    const swapped = randomSwap(words, 2, rng(5));
    expect([...swapped].sort()).toEqual([...words].sort());
    const inserted = randomInsertion(words, 2, rng(5));
    expect(inserted).toHaveLength(words.length + 2);
    for (const w of words) expect(inserted).toContain(w);
    // Nothing to insert when no word has a synonym.
    expect(randomInsertion(['외계인'], 3, rng(1))).toEqual(['외계인']);
  });

  it('ships a small table of real synonym groups', () => {
    const words = SYNONYM_GROUPS.flat();
    expect(SYNONYM_GROUPS.length).toBeGreaterThan(50);
    expect(words.length).toBeLessThan(400);
    for (const g of SYNONYM_GROUPS) expect(new Set(g).size).toBe(g.length);
    expect(words.filter((w) => !/^[\p{Script=Hangul} ]+$/u.test(w))).toEqual([]);
  });
});
