import { describe, it, expect } from 'vitest';
import type { Recommendation } from '../../src/core/ranker.ts';
import { reasonIn } from '../../src/ui/i18n.svelte.ts';
import { en } from '../../src/ui/strings.ts';
import { ko } from '../../src/ui/strings.ko.ts';

const card = (spaces: string[], closest?: number): Recommendation => ({
  index: 0,
  score: 1,
  why: { space: spaces[0], contributions: {}, because: closest === undefined ? [] : [closest], spaces, shared: [], ...(closest === undefined ? {} : { closest }) },
});
const titleOf = (row: number) => `Title ${row}`;

describe('a card’s reason (src/ui/i18n.svelte.ts)', () => {
  it('names the spaces that carried it and the history title behind them', () => {
    expect(reasonIn(en, card(['cf', 'genre'], 3), titleOf)).toBe('Because of “Title 3” in your history · similar readers with similar taste and genre');
    expect(reasonIn(en, card(['lexical']), titleOf)).toBe('Similar story keywords');
  });

  it('says popular, not similar, where the community’s popularity carried it', () => {
    expect(reasonIn(en, card(['popularity']), titleOf)).toBe(en.popularWhy);
    expect(reasonIn(ko, card(['popularity']), titleOf)).toBe(ko.popularWhy);
    expect(reasonIn(en, card(['popularity', 'cf'], 3), titleOf)).toBe('Because of “Title 3” in your history · similar readers with similar taste · popular with readers');
    expect(reasonIn(ko, card(['genre', 'popularity']), titleOf)).toBe('장르가 비슷해요 · 독자들에게 인기');
  });
});
