import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { browse, browseGenres, prepareBrowse, type BrowseSort } from '../../src/core/browse.ts';
import { loadSnapshot } from '../../src/core/snapshot/load.ts';
import type { Title } from '../../src/core/snapshot/format.ts';
import { normalizeText } from '../../src/core/text/tokenize.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { demoSnapshotDir } from './helpers/paths.ts';

let items: Title[];
beforeAll(async () => {
  items = (await loadSnapshot(fsReader(demoSnapshotDir))).items;
});

/** The page's filter as it read before (the test's oracle): filter the whole catalog, then sort the matches stably. */
function oracle(items: readonly Title[], genres: string[], completedOnly: boolean, text: string, sort: BrowseSort, locale: string): Title[] {
  const q = normalizeText(text.trim());
  const list = items.filter((t) => genres.every((g) => t.genres.includes(g)) && (!completedOnly || t.completed === true) && (!q || normalizeText(t.title).includes(q) || (t.author !== undefined && normalizeText(t.author).includes(q))));
  const by = (v: (t: Title) => number | undefined) => list.sort((a, b) => (v(b) ?? -Infinity) - (v(a) ?? -Infinity));
  if (sort === 'popular') by((t) => t.popularity);
  else if (sort === 'rating') by((t) => t.rating);
  else if (sort === 'newest') by((t) => t.year);
  else if (sort === 'title') list.sort((a, b) => a.title.localeCompare(b.title, locale));
  return list;
}

describe('browsing the catalog', () => {
  it('lists the genre chips most frequent first, ties by name, counted once per catalog', () => {
    const genres = browseGenres(items);
    const count = (g: string) => items.filter((t) => t.genres.includes(g)).length;
    expect(new Set(genres)).toEqual(new Set(items.flatMap((t) => t.genres)));
    for (let i = 1; i < genres.length; i++) expect(count(genres[i - 1]) > count(genres[i]) || (count(genres[i - 1]) === count(genres[i]) && genres[i - 1] < genres[i])).toBe(true);
    expect(browseGenres(items)).toBe(genres);
    expect(browseGenres([...items.slice(1), { ...items[0], genres: ['새 장르'] }])).toContain('새 장르');
  });

  it('filters and orders as filtering the whole catalog and sorting the matches would', async () => {
    // A catalog of its own, with values missing and tied (the demo has no years), folded in steps first.
    const mixed = items.map((t, i) => ({ ...t, year: i % 7 === 0 ? undefined : 2000 + (i % 13), rating: i % 5 === 0 ? undefined : (i % 9) / 2, completed: i % 3 === 0 ? undefined : i % 2 === 0 }));
    let pauses = 0;
    await prepareBrowse(mixed, async () => void pauses++, 100);
    expect(pauses).toBe(Math.ceil(mixed.length / 100));
    const genres = [...new Set(items.flatMap((t) => t.genres))];
    const text = fc.oneof(
      fc.constant(''),
      fc.tuple(fc.constantFrom(...items), fc.nat(), fc.nat(4), fc.boolean()).map(([t, at, len, author]) => {
        const s = (author && t.author) || t.title;
        const from = at % Math.max(1, s.length);
        return s.slice(from, from + 1 + len);
      }),
      fc.constantFrom('  ', 'ZOMBIE', 'Ｚｏｍｂｉｅ', 'zz없는말'),
    );
    fc.assert(
      fc.property(fc.subarray(genres, { maxLength: 2 }), fc.boolean(), text, fc.constantFrom<BrowseSort>('catalog', 'popular', 'rating', 'newest', 'title'), fc.constantFrom('ko', 'en'), (g, done, q, sort, locale) => {
        const keep = done ? (t: Title) => t.completed === true : undefined;
        for (const catalog of [items, mixed]) expect(browse(catalog, { genres: g, keep, text: q, sort, locale })).toEqual(oracle(catalog, g, done, q, sort, locale));
      }),
      { seed: 3, numRuns: 200 },
    );
  });

  it('orders by a value of the page\'s own, highest first, titles without it last, ties in catalog order', () => {
    const odd = { name: 'odd rows', value: (t: Title) => (items.indexOf(t) % 2 === 1 ? items.indexOf(t) % 10 : undefined) };
    const list = browse(items, { genres: [], text: '', sort: odd, locale: 'ko' });
    expect(list).toHaveLength(items.length);
    const values = list.map((t) => odd.value(t) ?? -1);
    expect(values).toEqual([...values].sort((a, b) => b - a));
    for (let r = 1; r < list.length; r++) if (values[r] === values[r - 1]) expect(items.indexOf(list[r])).toBeGreaterThan(items.indexOf(list[r - 1]));
  });
});
