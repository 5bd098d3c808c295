import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { defaultConfig, withUrlOverrides } from '../../src/core/config.ts';
import { applyAction, exportHistory, isConsumed, parseHistoryFile } from '../../src/core/history.ts';
import { signalWeight } from '../../src/core/ranker.ts';
import { TitleSearch, lexicalEncoderOf, lexicalFallback, similarTitles, splitBySpans } from '../../src/core/search.ts';
import { loadSnapshot } from '../../src/core/snapshot/load.ts';
import type { Title } from '../../src/core/snapshot/format.ts';
import type { Snapshot } from '../../src/core/snapshot/snapshot.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { charNgrams, normalizeText, words } from '../../src/core/text/tokenize.ts';
import { synopsisOf } from '../../src/core/snapshot/format.ts';
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

/**
 * BM25F as its formula reads, with nothing kept between queries (the test's oracle for the compact index): per title
 * and term, Σ_f w_f · tf_f / (1 − b + b · len_f / avglen_f), scored idf · tf · (k1 + 1) / (k1 + tf); a match must
 * hold each query word or a long enough prefix of it in its folded text.
 */
function oracleKeyword(items: readonly Title[], query: string, k: number): number[] {
  const cfg = defaultConfig.search;
  const fields = ['title', 'author', 'genres', 'synopsis'] as const;
  const text = (t: Title, f: (typeof fields)[number]) => (f === 'genres' ? t.genres.join(' · ') : f === 'author' ? (t.author ?? '') : f === 'synopsis' ? synopsisOf(t) : t.title);
  const termsOf = (x: string) => words(x).flatMap((w) => [`w:${w}`, ...charNgrams(w, 2)]);
  const perField = fields.map((f) => items.map((t) => termsOf(text(t, f))));
  const avg = perField.map((docs) => docs.reduce((a, d) => a + d.length, 0) / Math.max(1, docs.length) || 1);
  const tfs = items.map((_, d) => {
    const tf = new Map<string, number>();
    fields.forEach((f, fi) => {
      const w = cfg.fieldWeights[f] / (1 - cfg.b + (cfg.b * perField[fi][d].length) / avg[fi]);
      for (const t of perField[fi][d]) tf.set(t, (tf.get(t) ?? 0) + w);
    });
    return tf;
  });
  const folded = items.map((t) => fields.map((f) => Array.from(text(t, f), (ch) => normalizeText(ch)).join('')).join('\n'));
  const covers = (d: number, w: string) => {
    const chars = Array.from(w);
    const min = chars.length <= 2 ? chars.length : Math.max(2, Math.ceil(cfg.prefixShare * chars.length));
    for (let n = chars.length; n >= min; n--) if (folded[d].includes(chars.slice(0, n).join(''))) return true;
    return false;
  };
  const qwords = [...new Set(words(query))];
  const score = new Map<number, number>();
  for (const t of termsOf(query)) {
    const holders = tfs.flatMap((tf, d) => (tf.has(t) ? [d] : []));
    const idf = Math.log(1 + (items.length - holders.length + 0.5) / (holders.length + 0.5));
    for (const d of holders) score.set(d, (score.get(d) ?? 0) + (idf * tfs[d].get(t)! * (cfg.k1 + 1)) / (cfg.k1 + tfs[d].get(t)!));
  }
  if (!qwords.length) return [];
  return [...score].filter(([d]) => qwords.every((w) => covers(d, w))).sort((a, b) => b[1] - a[1] || a[0] - b[0]).slice(0, k).map(([d]) => d);
}

describe('the keyword index', () => {
  it('ranks as the formula does, for queries made of the catalog\'s own words and their prefixes', () => {
    // The oracle reads every title per query: 300 of the catalog's, and titles whose folding is not their own text
    // (capitals, full-width letters, a combining accent, decomposed Hangul).
    const odd = ['Tower of GOD', 'ＺＯＭＢＩＥ Girl', 'Cafe\u0301 NOIR', '\u1112\u1161\u11ab 여름 Night'].map((title, i): Title => ({ id: `odd${i}`, title, author: 'KIM Ahn', synopsis: `${title} STORY`, genres: ['Drama'], popularity: 0 }));
    const items = [...snap.items.slice(0, 300), ...odd];
    const vocabulary = [...new Set(items.flatMap((t) => words(`${t.title} ${t.author ?? ''} ${synopsisOf(t)}`)))];
    const index = new TitleSearch(items, defaultConfig.search);
    const word = fc.tuple(fc.constantFrom(...vocabulary), fc.nat(3)).map(([w, cut]) => Array.from(w).slice(0, Math.max(1, Array.from(w).length - cut)).join(''));
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 3 }), (ws) => {
        const q = ws.join(' ');
        expect(index.keyword(q, 24).map((h) => h.index), q).toEqual(oracleKeyword(items, q, 24));
      }),
      { seed: 12, numRuns: 150 },
    );
  });

  it('made in steps, gives the index made at once, and says how far it is', async () => {
    let pauses = 0;
    const progress: number[] = [];
    const stepped = await TitleSearch.build(snap.items, defaultConfig.search, async () => void pauses++, (done, total) => {
      expect(total).toBe(2 * snap.items.length);
      progress.push(done);
    });
    expect(pauses).toBeGreaterThan(10);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress.length).toBeGreaterThan(10);
    expect(progress.length).toBeLessThanOrEqual(200); // every 0.5 % at most: each report redraws the page's bar
    expect(progress.at(-1)).toBeLessThanOrEqual(2 * snap.items.length);
    for (const q of ['좀비', '외계인이 유일신', '기안84', '회귀 복수', '사랑', 'zqxv']) {
      expect(stepped.keyword(q, 24), q).toEqual(search.keyword(q, 24));
      expect([...stepped.coverage(q)], q).toEqual([...search.coverage(q)]);
    }
  });

  it('cuts words into the same character bigrams with or without characters outside the BMP', () => {
    const slow = (w: string) => Array.from(`<${w}>`).flatMap((_, i, cs) => (i + 2 <= cs.length ? [cs.slice(i, i + 2).join('')] : []));
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('가', '힣', 'a', 'Z', '1', '😀', '𝒳', '\u0301') , maxLength: 8 }), (w) => {
        expect(charNgrams(w, 2)).toEqual(slow(w));
      }),
      { seed: 5, numRuns: 300 },
    );
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
