import { describe, it, expect, beforeAll } from 'vitest';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { loadSnapshot } from '../../src/core/snapshot/load.ts';
import type { Snapshot } from '../../src/core/snapshot/snapshot.ts';
import type { Space } from '../../src/core/snapshot/format.ts';
import { recommend, moreLikeThis, moreLikeThisInSteps, popular, explainTitle, readerRanking, readerRankingInSteps } from '../../src/core/ranker.ts';
import { signalsOf } from '../../src/core/rank/signal/index.ts';
import { readingsFromHistory } from '../../src/core/rank/reader.ts';
import { contentRows, rankerSettings } from '../../src/core/rank/signals.ts';
import { defaultConfig } from '../../src/core/config.ts';
import type { HistoryEntry } from '../../src/core/history.ts';
import { demoSnapshotDir } from './helpers/paths.ts';
import { lexicalEncoderOf, similarTitles } from '../../src/core/search.ts';
import { denseRows } from '../../src/core/vectors.ts';

let snap: Snapshot;
const cfg = defaultConfig.ranker;
const idOf = (title: string) => snap.items.find((t) => t.title === title)!.id;
const liked = (id: string, at: number): HistoryEntry => ({ id, readAt: at, likedAt: at });

beforeAll(async () => {
  snap = await loadSnapshot(fsReader(demoSnapshotDir));
});

/** The catalog with copies of its spaces: what the ranker makes once per space (the category table) is made again. */
const fresh = (c: Snapshot): Snapshot => ({ ...c, spaces: new Map([...c.spaces].map(([n, s]) => [n, { ...s }])) });

/** The steps the category table (serendipity.ts itemCategoriesSteps) is made in: 64 values' worth a title. */
const categorySteps = (stepValues: number) => Math.ceil(snap.items.length / Math.floor(stepValues / 64));

/** The steps a scan of `space` is cut into (vectors.ts scanSpaceSteps): about `stepValues` values each. */
function scanSteps(space: Space, stepValues: number): number {
  const n = space.csr ? space.csr.offsets.length - 1 : space.data.length / space.dim;
  const perRow = space.csr ? (space.csr.offsets[n] - space.csr.offsets[0]) / n : space.dim;
  return Math.ceil(n / Math.max(1, Math.floor(stepValues / Math.max(1, perRow))));
}

describe('Ranker', () => {
  it('gives no personal list to a reader without a positive signal (cold start → popular)', () => {
    expect(recommend(snap, [], cfg, 10)).toBeNull();
    expect(recommend(snap, [{ id: snap.items[0].id, readAt: 1, dislikedAt: 1 }], cfg, 10)).toBeNull();
    const top = popular(snap, [], 5);
    const pops = top.map((i) => snap.items[i].popularity);
    expect(pops).toEqual([...pops].sort((a, b) => b - a));
    expect(popular(snap, [{ id: snap.items[top[0]].id, readAt: 1 }], 5)).not.toContain(top[0]);
  });

  it('excludes liked and read titles and explains with real history items', () => {
    const zombies = ['좀비딸', '데드라이프', '위아더좀비'].map(idOf);
    const history = [...zombies.map((id, i) => liked(id, 100 + i)), { id: snap.items[10].id, readAt: 50 }];
    const recs = recommend(snap, history, cfg, 20)!;
    expect(recs).toHaveLength(20);
    const seen = new Set(history.map((h) => snap.indexOf.get(h.id)));
    for (const r of recs) {
      expect(seen.has(r.index)).toBe(false);
      expect([...snap.spaces.keys()]).toContain(r.why.space); // content spaces only: the demo has no community data
      expect([...seen]).toContain(r.why.closest);
      expect(r.why.contributions[r.why.space]).toBe(Math.max(...Object.values(r.why.contributions)));
    }
    // The remaining zombie stories come near the top.
    const top = recs.slice(0, 10).map((r) => snap.items[r.index].synopsis + snap.items[r.index].title);
    expect(top.filter((s) => /좀비/.test(s)).length).toBeGreaterThanOrEqual(2);
  });

  it('pushes down the near neighbours of a disliked title', () => {
    const base = [liked(idOf('좀비딸'), 1), liked(idOf('애옹식당'), 2)];
    const disliked = idOf('데드라이프');
    const neighbours = moreLikeThis(snap, snap.indexOf.get(disliked)!, cfg, 5).map((r) => r.index);
    const before = recommend(snap, base, cfg, snap.items.length)!;
    const after = recommend(snap, [...base, { id: disliked, readAt: 3, dislikedAt: 3 }], cfg, snap.items.length)!;
    const rank = (recs: typeof before, i: number) => recs.findIndex((r) => r.index === i);
    let dropped = 0;
    for (const n of neighbours) if (rank(after, n) > rank(before, n)) dropped++;
    expect(dropped).toBeGreaterThanOrEqual(4);
    expect(after.some((r) => r.index === snap.indexOf.get(disliked))).toBe(false);
  });

  it('weighs recent history more than old history', () => {
    const h = [liked('a', 1), liked('b', 2)];
    const rows = contentRows(readingsFromHistory(h, new Map([['a', 0], ['b', 1]]), cfg), cfg.recencyHalfLife);
    expect(rows[1]).toEqual({ index: 1, weight: 1 });
    expect(rows[0].weight).toBeCloseTo(Math.pow(0.5, 1 / cfg.recencyHalfLife), 6);
  });

  it('uses only spaces with weight', () => {
    const h = [liked(idOf('좀비딸'), 1)];
    const settings = { ...rankerSettings(snap, cfg), weights: { genre: 1 } };
    const genreOnly = recommend(snap, h, cfg, 5, { settings })!;
    for (const r of genreOnly) expect(Object.keys(r.why.contributions)).toEqual(['genre']);
  });

  it('explains one title as For you ranks it, at the same level (the title page)', () => {
    const h = ['좀비딸', '데드라이프', '위아더좀비'].map((t, i) => liked(idOf(t), 10 + i));
    for (const level of [0, 0.5, 1]) {
      const list = recommend(snap, h, cfg, 24, { serendipity: level })!;
      for (const r of list) expect(explainTitle(snap, h, cfg, r.index, 24, { serendipity: level })).toEqual(r);
    }
    expect(explainTitle(snap, h, cfg, snap.indexOf.get(idOf('좀비딸'))!, 24)).toBeUndefined(); // read already
    expect(explainTitle(snap, [], cfg, 0, 24)).toBeUndefined(); // a new reader
  });

  it('re-ranks one ranking at any Surprise level, in any order, exactly as a fresh ranking would (the slider)', () => {
    const h = ['좀비딸', '데드라이프', '위아더좀비', '나 혼자만 레벨업'].filter((t) => snap.items.some((x) => x.title === t)).map((t, i) => liked(idOf(t), 10 + i));
    const ranking = readerRanking(snap, h, cfg)!;
    const levels = [0.3, 1, 0, 0.7, 0.3, 1];
    const lists = levels.map((level) => ranking.list(level, 24));
    levels.forEach((level, n) => expect(lists[n]).toEqual(recommend(snap, h, cfg, 24, { serendipity: level })));
    expect(lists[1].some((r) => r.why.serendipity || r.why.departure)).toBe(true);
    expect(lists[2].some((r) => r.why.serendipity || r.why.departure)).toBe(false);
    expect(ranking.list(5, 24)).toEqual(lists[1]); // clamped into [0, 1]
    expect(readerRanking(snap, [], cfg)).toBeNull();
  });

  it('ranks in steps (the page\'s thread given back between spaces and within long scans) to exactly the ranking of one go', async () => {
    const h = ['좀비딸', '데드라이프', '위아더좀비'].map((t, i) => liked(idOf(t), 10 + i));
    let pauses = 0;
    const pause = async () => void pauses++;
    // Small steps, so that every scan of the demo is cut into several (at 100k titles the default does that).
    const small = { ...cfg, stepValues: 20_000 };
    const catalog = fresh(snap);
    const stepped = (await readerRankingInSteps(catalog, h, small, {}, pause, { level: 0.4, k: 24 }))!;
    const weighted = [...snap.spaces.values()].filter((s) => (rankerSettings(snap, cfg).weights[s.name] ?? 0) > 0);
    expect(weighted.some((s) => scanSteps(s, small.stepValues) > 2)).toBe(true);
    // The scans' steps; one pause before the fusion, one before the serendipity input, the category table's steps
    // and one after them (made once per genre space); the ranking's last step; four for the first list (the
    // accuracy list, serendipity's pool, its shortlist's relevance, its similarity) and one before it is drawn.
    expect(pauses).toBe(weighted.reduce((n, s) => n + scanSteps(s, small.stepValues), 0) + 2 + categorySteps(small.stepValues) + 1 + 4 + 1);
    const whole = readerRanking(snap, h, cfg)!;
    for (const level of [0, 0.4, 1]) expect(stepped.list(level, 24)).toEqual(whole.list(level, 24));
    const i = whole.list(0.4, 24)[3].index;
    expect(stepped.explain(i, 0.4, 24)).toEqual(whole.explain(i, 0.4, 24));
    expect(await readerRankingInSteps(snap, [], cfg, {}, pause)).toBeNull();
  });

  it('"more like this" in steps gives the one-go list exactly, pausing before each content space\'s scan and within it', async () => {
    let pauses = 0;
    const pause = async () => void pauses++;
    const small = { ...cfg, stepValues: 20_000 };
    const scanned = signalsOf(snap).filter((s) => s.kind === 'content' && (cfg.spaceWeights[s.name] ?? 0) > 0).map((s) => snap.spaces.get(s.name)!);
    expect(scanned.length).toBeGreaterThan(1);
    for (const title of ['좀비딸', '데드라이프']) {
      pauses = 0;
      const i = snap.indexOf.get(idOf(title))!;
      const stepped = await moreLikeThisInSteps(fresh(snap), i, small, 12, pause);
      expect(stepped).toEqual(moreLikeThis(snap, i, cfg, 12));
      expect(stepped).toHaveLength(12);
      // The scans' steps, one pause before the fusion, one before the serendipity input, the category table's,
      // the ranking's last step and the list.
      expect(pauses).toBe(scanned.reduce((n, s) => n + scanSteps(s, small.stepValues), 0) + 2 + categorySteps(small.stepValues) + 1 + 1);
    }
  });

  it('ranks, explains and searches the same with a sparse space kept sparse in memory (platform-scale catalogs)', async () => {
    const sparse = await loadSnapshot(fsReader(demoSnapshotDir), { denseLimitBytes: 0 });
    const lex = sparse.spaces.get('lexical')!;
    expect(lex.csr).toBeDefined();
    expect(lex.csr!.kernel).toBeDefined(); // scanned in WebAssembly (math/sparse-scan.ts)
    const inJs = await loadSnapshot(fsReader(demoSnapshotDir), { denseLimitBytes: 0, wasmRows: false });
    expect(inJs.spaces.get('lexical')!.csr!.kernel).toBeUndefined();
    expect(lex.data.length).toBe(0);
    expect(sparse.spaces.get('genre')!.csr).toBeUndefined(); // read row by row by serendipity: always dense
    expect(denseRows(lex)).toEqual(snap.spaces.get('lexical')!.data);
    const h = ['좀비딸', '데드라이프', '위아더좀비'].map((t, i) => liked(idOf(t), 10 + i));
    for (const level of [0, 1]) expect(recommend(sparse, h, cfg, 24, { serendipity: level })).toEqual(recommend(snap, h, cfg, 24, { serendipity: level }));
    for (const level of [0, 1]) expect(recommend(inJs, h, cfg, 24, { serendipity: level })).toEqual(recommend(sparse, h, cfg, 24, { serendipity: level }));
    const i = snap.indexOf.get(idOf('좀비딸'))!;
    expect(moreLikeThis(sparse, i, cfg, 12)).toEqual(moreLikeThis(snap, i, cfg, 12));
    const q = lexicalEncoderOf(snap).embedQuery('좀비 아포칼립스 생존');
    expect(similarTitles(lex, q, 10)).toEqual(similarTitles(snap.spaces.get('lexical')!, q, 10));
  });

  it('"more like this" never returns the title itself', () => {
    const i = snap.indexOf.get(idOf('좀비딸'))!;
    const recs = moreLikeThis(snap, i, cfg, 10);
    expect(recs.map((r) => r.index)).not.toContain(i);
    expect(recs.every((r) => r.why.closest === i)).toBe(true);
  });
});
