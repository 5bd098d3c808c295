import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defaultConfig } from '../../src/core/config.ts';
import { calibrateCatalog, calibratedSpaces, clampLevel, pseudoReaders, serendipityStrength, tasteGenres } from '../../src/core/rank/calibrate.ts';
import { surveyEvaluation } from '../../src/core/eval/survey.ts';
import { recommend } from '../../src/core/ranker.ts';
import { loadSnapshot } from '../../src/core/snapshot/load.ts';
import type { Snapshot } from '../../src/core/snapshot/snapshot.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { demoSnapshotDir } from './helpers/paths.ts';

const cfg = defaultConfig.ranker;
let demo: Snapshot;
let work: string;

beforeAll(async () => {
  demo = await loadSnapshot(fsReader(demoSnapshotDir));
  work = await mkdtemp(path.join(tmpdir(), 'toonpick-calibrate-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('serendipity level', () => {
  it('is clamped into [0, 1] and never NaN', () => {
    expect(clampLevel(-1)).toBe(0);
    expect(clampLevel(7)).toBe(1);
    expect(clampLevel('0.3')).toBeCloseTo(0.3);
    expect(clampLevel('abc')).toBe(0);
    expect(clampLevel(Number.NaN)).toBe(0);
    expect(clampLevel(undefined)).toBe(0);
    expect(clampLevel(Infinity)).toBe(0);
  });

  it('ranks at a level outside [0, 1] as at the nearest bound', () => {
    const history = demo.items.slice(0, 6).map((t, k) => ({ id: t.id, likedAt: 1000 + k, readAt: 1000 + k }));
    const ids = (level: number) => recommend(demo, history, cfg, 10, { serendipity: level })!.map((r) => r.index);
    expect(ids(-3)).toEqual(ids(0));
    expect(ids(4)).toEqual(ids(1));
    expect(ids(Number.NaN)).toEqual(ids(0));
  });
});

describe('pseudo-readers', () => {
  it('are drawn from taste genres only, halves disjoint, seeded', () => {
    const genres = tasteGenres(demo, cfg).map((g) => g.name);
    for (const f of cfg.survey.formatGenres) expect(genres).not.toContain(f);
    expect(genres).toContain('로맨스');
    const cal = pseudoReaders(demo, cfg, 'calibration');
    const rep = pseudoReaders(demo, cfg, 'report');
    const all = pseudoReaders(demo, cfg, 'all');
    expect(cal.length + rep.length).toBe(all.length);
    expect(new Set([...cal, ...rep].map((r) => r.liked.join()))).toEqual(new Set(all.map((r) => r.liked.join())));
    expect(pseudoReaders(demo, cfg, 'report').map((r) => r.liked)).toEqual(rep.map((r) => r.liked));
    for (const r of all) {
      expect(r.liked).toHaveLength(cfg.survey.likes);
      for (const i of r.liked) expect(demo.items[i].genres).toContain(r.genre);
      for (const i of r.relevant) expect(demo.items[i].genres).toContain(r.genre);
      for (const i of r.liked) expect(r.relevant.has(i)).toBe(false);
    }
  });
});

describe('calibration on a catalog without histories (the webtoon demo)', () => {
  it('ships with the demo snapshot, made for the spaces it has', () => {
    expect(demo.calibration).toBeDefined();
    expect(demo.calibration!.readers).toBe('pseudo');
    expect(demo.calibration!.spaces).toEqual(calibratedSpaces(demo));
    expect(serendipityStrength(demo, cfg)).toBe(demo.calibration!.strength);
    // The config's last resort is not what the demo runs on.
    expect(demo.calibration!.strength).not.toBe(cfg.serendipity.strength);
  });

  it('keeps the accuracy floor and makes the lists less similar to the history', () => {
    const c = calibrateCatalog(demo, cfg)!;
    expect(c.strength).toBeGreaterThan(0);
    expect(c.accuracy[1]).toBeGreaterThanOrEqual(cfg.serendipity.accuracyFloor * c.accuracy[0] - 1e-9);
    expect(c.similarity[1]).toBeLessThan(c.similarity[0]);
    expect(c.strength).toBeCloseTo(demo.calibration!.strength, 6); // deterministic: the shipped value is reproduced
  });

  it('is calibrated again when the catalog ranks with other spaces (e.g. sts added on the device)', () => {
    const fewer: Snapshot = { ...demo, spaces: new Map([...demo.spaces].filter(([n]) => n === 'genre' || n === 'lexical')) };
    const again = serendipityStrength(fewer, cfg);
    expect(again).toBe(calibrateCatalog(fewer, cfg)!.strength);
    expect(again).not.toBe(demo.calibration!.strength);
  });

  it('meets the survey goals on the readers it was not calibrated on', () => {
    const def = cfg.serendipity.level;
    const r = surveyEvaluation(demo, cfg, { levels: [0, def, 1], strength: serendipityStrength(demo, cfg), snapshot: 'demo' });
    const [zero, atDefault, one] = r.levels;
    expect(zero.precision).toBeGreaterThanOrEqual(0.794);
    expect(atDefault.precision).toBeGreaterThanOrEqual(0.6);
    expect(atDefault.precision).toBeGreaterThanOrEqual(0.75 * zero.precision);
    expect(atDefault.unserendipity).toBeLessThan(zero.unserendipity - 0.02);
    expect(one.unserendipity).toBeLessThan(atDefault.unserendipity);
    expect(zero.precision).toBeGreaterThan(3 * r.random.precision);
  });

  it('keeps 6 romance likes on romance at the default level, and labels its surprises', () => {
    const romance = demo.items.filter((t) => t.genres.includes('로맨스')).slice(0, 6);
    const history = romance.map((t, k) => ({ id: t.id, likedAt: 1000 + k, readAt: 1000 + k }));
    const recs = recommend(demo, history, cfg, 24)!;
    expect(recs.slice(0, 10).filter((r) => demo.items[r.index].genres.includes('로맨스')).length).toBeGreaterThan(5);
    for (const r of recs.filter((x) => x.why.serendipity)) {
      expect(r.why.serendipity!.basis).toBe('catalog'); // no community data: the catalog's own genre co-labelling
      expect(demo.items[r.index].genres).toContain(r.why.serendipity!.category);
    }
  });
});

describe('a snapshot whose calibration is missing or invalid', () => {
  const broken: Array<[string, (m: Record<string, any>) => void, RegExp]> = [
    ['missing', (m) => delete m.calibration, /is missing/],
    ['not an object', (m) => (m.calibration = { serendipity: 'x' }), /is not a JSON object/],
    ['NaN strength', (m) => (m.calibration.serendipity.strength = 'NaN'), /strength/],
    ['negative strength', (m) => (m.calibration.serendipity.strength = -1), /strength/],
    ['no spaces', (m) => (m.calibration.serendipity.spaces = 'genre'), /spaces/],
    ['bad accuracy', (m) => (m.calibration.serendipity.accuracy = [1]), /accuracy/],
  ];
  for (const [name, edit, message] of broken) {
    it(`${name}: loads, falls back to the config's price, and says so in the console`, async () => {
      const dir = path.join(work, name.replace(/\W/g, '-'));
      await cp(demoSnapshotDir, dir, { recursive: true, filter: (p) => !p.includes('covers') });
      const m = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
      edit(m);
      await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(m));
      const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
      try {
        const s = await loadSnapshot(fsReader(dir));
        expect(s.calibration).toBeUndefined();
        expect(serendipityStrength(s, cfg)).toBe(cfg.serendipity.strength);
        expect(warn).toHaveBeenCalledWith(expect.stringMatching(message));
        expect(recommend(s, [{ id: s.items[0].id, likedAt: 1 }], cfg, 10, { serendipity: 0.5 })).toHaveLength(10);
      } finally {
        warn.mockRestore();
      }
    });
  }
});
