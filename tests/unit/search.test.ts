import { beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, withUrlOverrides } from '../../src/core/config.ts';
import { applyAction, exportHistory, isConsumed, parseHistoryFile } from '../../src/core/history.ts';
import { signalWeight } from '../../src/core/ranker.ts';
import { TitleSearch, lexicalEncoderOf, lexicalFallback, similarTitles, splitBySpans } from '../../src/core/search.ts';
import { loadSnapshot } from '../../src/core/snapshot/load.ts';
import type { Title } from '../../src/core/snapshot/format.ts';
import type { Snapshot } from '../../src/core/snapshot/snapshot.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { demoSnapshotDir } from './helpers/paths.ts';

let snap: Snapshot;
let search: TitleSearch;
const titled = (t: string) => snap.items.find((x) => x.title === t)!;
const titlesOf = (hits: Array<{ index: number }>) => hits.map((h) => snap.items[h.index].title);

beforeAll(async () => {
  snap = await loadSnapshot(fsReader(demoSnapshotDir));
  search = new TitleSearch(snap.items, defaultConfig.search);
});

describe('BM25F keyword search on the demo catalog', () => {
  it('ranks an exact title first, for every one of 50 titles', () => {
    for (const t of snap.items.filter((_, i) => i % 19 === 0).slice(0, 50)) {
      const hits = search.keyword(t.title, 5);
      // Another title with exactly the same words may tie; the exact one must lead or share the top score.
      expect(hits.length, t.title).toBeGreaterThan(0);
      const top = hits.filter((h) => h.score === hits[0].score).map((h) => snap.items[h.index].title);
      expect(top, t.title).toContain(t.title);
    }
  });

  it('finds a title by a phrase from its synopsis, particles and all', () => {
    const t = titled('어글리후드');
    expect(titlesOf(search.keyword('외계인이 유일신으로 군림한 미친 세상', 3))[0]).toBe('어글리후드');
    // Other endings of the same stems ("외계인을", "유일신이") still match it.
    expect(titlesOf(search.keyword('외계인을 유일신이', 5))).toContain(t.title);
  });

  it('matches authors and genres, and marks where the query occurs in the original text', () => {
    const byAuthor = search.keyword('기안84');
    expect(byAuthor.length).toBeGreaterThan(0);
    for (const h of byAuthor) expect(snap.items[h.index].author).toContain('기안84');
    const [top] = search.keyword('좀비딸', 1);
    expect(snap.items[top.index].title).toBe('좀비딸');
    expect(top.spans.title).toEqual([{ start: 0, end: 3 }]);
    const [alien] = search.keyword('외계인이 유일신', 1);
    const synopsis = snap.items[alien.index].synopsis!;
    const marked = splitBySpans(synopsis, alien.spans.synopsis).filter((p) => p.mark).map((p) => p.text);
    expect(marked).toEqual(['외계인이', '유일신']);
    expect(splitBySpans(synopsis, alien.spans.synopsis).map((p) => p.text).join('')).toBe(synopsis);
  });

  it('maps highlight offsets back through normalisation (full-width letters, case)', () => {
    const t: Title = { id: 'x', title: 'ＺＯＭＢＩＥ Girl', synopsis: '', genres: [], popularity: 0 };
    const s = new TitleSearch([t], defaultConfig.search);
    const [hit] = s.keyword('zombie');
    expect(splitBySpans(t.title, hit.spans.title)).toEqual([
      { text: 'ＺＯＭＢＩＥ', mark: true },
      { text: ' Girl', mark: false },
    ]);
  });

  it('finds nothing for free text no title covers, so the caller falls back', () => {
    expect(search.keyword('복수를 꿈꾸는 회귀자')).toEqual([]);
    expect(search.keyword('zqxv')).toEqual([]);
    expect(search.keyword('   ')).toEqual([]);
  });
});

describe('the similarity fallback', () => {
  it('embeds a free-text query in the lexical space with the snapshot IDF and ranks related titles', () => {
    const enc = lexicalEncoderOf(snap);
    const q = enc.embedQuery('복수를 꿈꾸는 회귀자');
    const hits = similarTitles(snap.spaces.get('lexical')!, q, 10);
    expect(hits).toHaveLength(10);
    for (let i = 1; i < hits.length; i++) expect(hits[i].score).toBeLessThanOrEqual(hits[i - 1].score);
    // Titles about revenge or regression come up even though none has every word.
    const text = hits.map((h) => snap.items[h.index].synopsis + snap.items[h.index].title).join(' ');
    expect(/복수|회귀/.test(text)).toBe(true);
    // Embedding a title's synopsis as a query finds that title first.
    const t = titled('어글리후드');
    expect(snap.items[similarTitles(snap.spaces.get('lexical')!, enc.embedQuery(t.synopsis!), 1)[0].index].title).toBe('어글리후드');
  });

  it('has a floor: nonsense finds nothing, and titles covering a rare query word come before those sharing a common one', () => {
    const enc = lexicalEncoderOf(snap);
    const lexical = snap.spaces.get('lexical')!;
    const fallback = (q: string) => lexicalFallback(search, lexical, enc.embedQuery(q), q, 24);
    // Hashed n-grams of these collide with some titles' (top cosine 0.10–0.16), but no title shares a word.
    for (const q of ['qqqzzzxx', 'asdfghjkl', 'ㅋㅋㅋㅋㅋ', 'xyz123']) {
      expect(similarTitles(lexical, enc.embedQuery(q), 1)[0].score, q).toBeGreaterThan(0.09);
      expect(fallback(q), q).toEqual([]);
    }
    // 회귀자 is rare in the catalog, 꿈꾸는 common: 광마회귀 (a regression story) is among the first, and every hit shares a word.
    const hits = fallback('복수를 꿈꾸는 회귀자');
    expect(titlesOf(hits).slice(0, 6)).toContain('광마회귀');
    for (const h of hits) expect(/복수|꿈꾸|회귀/.test(snap.items[h.index].title + snap.items[h.index].synopsis)).toBe(true);
    expect(titlesOf(fallback('요리하는 고양이')).slice(0, 2)).toContain('애옹식당');
  });

  it('refuses a query vector of the wrong size', () => {
    expect(() => similarTitles(snap.spaces.get('lexical')!, new Float32Array(3), 5)).toThrow(/dim 1024/);
  });
});

describe('text model overrides from the page URL', () => {
  it('points the app at a self-hosted model with remote downloads off', () => {
    const c = withUrlOverrides(defaultConfig, '?textModel=toonpick/tiny-bert&textDtype=fp32');
    expect(c.models.text).toMatchObject({ modelId: 'toonpick/tiny-bert', allowRemoteModels: false, dtype: { wasm: 'fp32', webgpu: 'fp32' } });
    expect(withUrlOverrides(defaultConfig, '?snapshot=x')).toBe(defaultConfig);
    expect(() => withUrlOverrides(defaultConfig, '?textDtype=fp16')).toThrow(/textDtype/);
  });
});

describe('opening a search result', () => {
  it('records weak interest that exports, imports and weighs little in the ranker', () => {
    const e = applyAction(undefined, 'x', { kind: 'searched' }, 5)!;
    expect(e).toEqual({ id: 'x', searchedAt: 5 });
    expect(isConsumed(e)).toBe(false);
    expect(signalWeight(e, defaultConfig.ranker.signal)).toBe(defaultConfig.ranker.signal.searched);
    expect(defaultConfig.ranker.signal.searched).toBeLessThan(defaultConfig.ranker.signal.read);
    // A stronger action on the same title wins.
    expect(signalWeight(applyAction(e, 'x', { kind: 'like', on: true }, 6)!, defaultConfig.ranker.signal)).toBe(1);
    const file = parseHistoryFile(JSON.stringify(exportHistory([e])));
    expect(file.entries).toEqual([e]);
    expect(() => parseHistoryFile(JSON.stringify(exportHistory([{ id: 'y', searchedAt: -1 }])))).toThrow('item y, field "searchedAt"');
  });
});
