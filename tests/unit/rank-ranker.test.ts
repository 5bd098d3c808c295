import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeSnapshot } from '../../scripts/snapshot.ts';
import { trainSeq } from '../../scripts/train-seq.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { defaultConfig, type RankerConfig } from '../../src/core/config.ts';
import { DataError } from '../../src/core/errors.ts';
import type { HistoryEntry } from '../../src/core/history.ts';
import { rng } from '../../src/core/random.ts';
import { rankReadings, recommend, sequenceKey, sequenceQueries } from '../../src/core/ranker.ts';
import { readingsFromHistory } from '../../src/core/rank/reader.ts';
import { rankerSettings } from '../../src/core/rank/signals.ts';
import { buildSnapshot, serializeSnapshot } from '../../src/core/snapshot/build.ts';
import { encodeCommunityModel } from '../../src/core/rank/community-file.ts';
import { contentHashOf, sha256Hex } from '../../src/core/snapshot/format.ts';
import type { Snapshot } from '../../src/core/snapshot/snapshot.ts';
import { loadSnapshot, type ReadFile } from '../../src/core/snapshot/load.ts';
import { unserendipity } from '../../src/core/math/metrics.ts';
import { demoSnapshotDir } from './helpers/paths.ts';
import { TITLES, worldInteractions, worldItems, writeWorldSource } from './helpers/rank-world.ts';

/** Quick training settings for the synthetic world (the network and task are the default ones). */
const cfg: RankerConfig = { ...defaultConfig.ranker, sequence: { ...defaultConfig.ranker.sequence, maxLength: 20, window: 20, epochs: 15, fineTuneEpochs: 5 } };

function memoryReader(files: Map<string, Uint8Array>): ReadFile {
  return async (p) => {
    const b = files.get(p);
    if (!b) throw new DataError(p, 'is missing');
    return b;
  };
}

/** A copy of serialised files with one manifest edit, re-signed so that only the intended fault remains. */
async function withManifest(files: Map<string, Uint8Array>, edit: (m: Record<string, any>) => void, replace: Record<string, Uint8Array> = {}): Promise<Map<string, Uint8Array>> {
  const out = new Map(files);
  const m = JSON.parse(new TextDecoder().decode(files.get('manifest.json')));
  for (const [p, b] of Object.entries(replace)) {
    out.set(p, b);
    m.files[p] = { bytes: b.byteLength, sha256: await sha256Hex(b) };
  }
  edit(m);
  m.contentHash = await contentHashOf(m.files);
  out.set('manifest.json', new TextEncoder().encode(JSON.stringify(m)));
  return out;
}

const liked = (id: string, at: number): HistoryEntry => ({ id, readAt: at, likedAt: at });

/** Mean genre unserendipity of the top `k` over a fixed set of readers, at each serendipity level. */
function unserendipityByLevel(snap: Snapshot, readers: HistoryEntry[][], levels: number[], k: number): number[] {
  const genre = snap.spaces.get('genre')!;
  return levels.map((level) => {
    let sum = 0;
    for (const h of readers) {
      const readings = readingsFromHistory(h, snap.indexOf, defaultConfig.ranker);
      const recs = rankReadings(snap, readings, defaultConfig.ranker, k, { serendipity: level });
      sum += unserendipity(recs.map((r) => r.index), readings.map((r) => r.index), genre.data, genre.dim);
    }
    return sum / readers.length;
  });
}

describe('community model in the snapshot', () => {
  let built: Snapshot;
  let files: Map<string, Uint8Array>;
  let loaded: Snapshot;

  beforeAll(async () => {
    built = buildSnapshot({ name: 'world', items: worldItems(), interactions: worldInteractions(), builtAt: new Date(0), ranker: cfg });
    files = await serializeSnapshot(built);
    loaded = await loadSnapshot(memoryReader(files));
  });

  it('round-trips through a snapshot: the same neighbours, weights, category similarity and learned fusion', () => {
    const m = loaded.manifest.community!;
    expect(m.model!.neighbours).toBe(Math.min(cfg.community.neighbours, TITLES - 1));
    for (const f of [...Object.values(m.model!.files), m.categories!.file]) expect(loaded.manifest.files[f]).toBeDefined();
    expect(Array.from(loaded.community!.model.index)).toEqual(Array.from(built.community!.model.index));
    expect(Array.from(loaded.community!.model.weight)).toEqual(Array.from(built.community!.model.weight));
    expect(Array.from(loaded.community!.categorySimilarity)).toEqual(Array.from(built.community!.categorySimilarity));
    expect(loaded.community!.learned).toEqual(built.community!.learned);
    expect(Object.keys(loaded.community!.learned!.weights).sort()).toEqual(['cf', 'genre', 'lexical']);
    // The serendipity price learned on the validation readers (rank/tune.ts).
    expect(loaded.community!.learned!.strength).toBeGreaterThan(0);
    // The reader gets the same list from the loaded snapshot as from the one just built.
    const history = [liked('t5', 1), liked('t6', 2), liked('t7', 3)];
    expect(recommend(loaded, history, cfg, 10)).toEqual(recommend(built, history, cfg, 10));
  });

  it('stores ~4× smaller than float32 rows and still reads version-1 snapshots (uint32 rows, float32 weights)', async () => {
    const m = loaded.manifest.community!.model!;
    const model = loaded.community!.model;
    expect(m.version).toBe(2);
    expect(loaded.manifest.files[m.files.model!].bytes).toBeLessThan((TITLES * m.neighbours * 8) / 3);
    // Written again, the stored model gives the same bytes.
    expect(encodeCommunityModel(model)).toEqual(files.get(m.files.model!));
    const v1 = await withManifest(
      files,
      (x) => {
        x.community.model.version = 1;
        x.community.model.files = { index: 'community/ease.index.u32', weight: 'community/ease.weight.f32' };
      },
      { 'community/ease.index.u32': new Uint8Array(model.index.buffer.slice(0)), 'community/ease.weight.f32': new Uint8Array(model.weight.buffer.slice(0)) },
    );
    const old = await loadSnapshot(memoryReader(v1));
    expect(Array.from(old.community!.model.weight)).toEqual(Array.from(model.weight));
    const history = [liked('t5', 1), liked('t6', 2), liked('t7', 3)];
    expect(recommend(old, history, cfg, 10)).toEqual(recommend(loaded, history, cfg, 10));
    const noWeight = await withManifest(v1, (x) => delete x.community.model.files.weight);
    await expect(loadSnapshot(memoryReader(noWeight))).rejects.toThrow(/version 1, which needs files.weight/);
  });

  it('links neighbours of the reading cycle', () => {
    const { index, weight, neighbours } = loaded.community!.model;
    // Row 10's strongest neighbours (rows are stored in column order): 11, the next title of the cycle, among them.
    const strongest = (i: number) => Array.from(index.subarray(i * neighbours, (i + 1) * neighbours)).map((j, k) => [j, weight[i * neighbours + k]]).sort((a, b) => b[1] - a[1]).map(([j]) => j);
    expect(strongest(10).slice(0, 4)).toEqual(expect.arrayContaining([11]));
  });

  it('refuses a community model of the wrong shape or for another catalog with a DataError', async () => {
    const m = loaded.manifest.community!.model!;
    const file = m.files.model!;
    const wrongN = await withManifest(files, (x) => (x.community.model.neighbours += 1));
    await expect(loadSnapshot(memoryReader(wrongN))).rejects.toThrow(DataError);
    await expect(loadSnapshot(memoryReader(wrongN))).rejects.toThrow(new RegExp(`${file}.*holds ${m.neighbours} neighbours per title but the manifest says ${m.neighbours + 1}`));
    // Row 0's last neighbour (columns ascend) moved past the catalog.
    const model = loaded.community!.model;
    const index = new Uint32Array(model.index);
    index[model.neighbours - 1] = TITLES + 2;
    const badRow = await withManifest(files, () => {}, { [file]: encodeCommunityModel({ ...model, index }) });
    await expect(loadSnapshot(memoryReader(badRow))).rejects.toThrow(/names row 42, but the catalog has 40 titles/);
    // Byte faults: a truncated file, a NaN scale, a row whose columns run past its bytes, bytes after the last row.
    const good = files.get(file)!;
    const faults: Array<[Uint8Array, RegExp]> = [];
    faults.push([good.slice(0, 4 + 8 * TITLES), /less than the .* of its header, offsets and weights/]);
    const nan = good.slice();
    new DataView(nan.buffer).setFloat32(4 + 4 * 3, NaN, true);
    faults.push([nan, /invalid row scale \(NaN\)/]);
    const short = good.slice();
    const at = 4 + 4 * TITLES + 4 * 1; // row 0's end = row 1's start
    new DataView(short.buffer).setUint32(at, new DataView(short.buffer).getUint32(at, true) - 1, true);
    faults.push([short, /runs past its row's bytes|left over in its row/]);
    const extra = new Uint8Array(good.byteLength + 1);
    extra.set(good);
    faults.push([extra, /bytes after its last row/]);
    for (const [bytes, message] of faults) {
      const bad = await withManifest(files, () => {}, { [file]: bytes });
      await expect(loadSnapshot(memoryReader(bad))).rejects.toThrow(message);
    }
    const badDim = await withManifest(files, (x) => (x.community.categories.dim = 4));
    await expect(loadSnapshot(memoryReader(badDim))).rejects.toThrow(/4 categories but the genre space has 5/);
    const badLearned = await withManifest(files, (x) => (x.community.learned.weights.cf = -1));
    await expect(loadSnapshot(memoryReader(badLearned))).rejects.toThrow(DataError);
    const badStrength = await withManifest(files, (x) => (x.community.learned.strength = 'high'));
    await expect(loadSnapshot(memoryReader(badStrength))).rejects.toThrow(/community\.learned\.strength/);
  });

  it('the demo catalog (no interactions) ranks from content and the history alone, and says so', async () => {
    const demo = await loadSnapshot(fsReader(demoSnapshotDir));
    expect(demo.community).toBeUndefined();
    expect(demo.sequence).toBeUndefined();
    const history = demo.items.slice(0, 40).filter((t) => t.genres.includes(demo.items[0].genres[0])).slice(0, 5).map((t, i) => liked(t.id, i + 1));
    const recs = recommend(demo, history, defaultConfig.ranker, 20)!;
    for (const r of recs) {
      expect(Object.keys(r.why.contributions).every((s) => demo.spaces.has(s))).toBe(true);
      expect(r.why.contributions.cf).toBeUndefined();
      expect(r.why.contributions.sequence).toBeUndefined();
    }
  });

  it('serendipity lowers unserendipity monotonically on a fixed set of demo readers, and says why', async () => {
    const demo = await loadSnapshot(fsReader(demoSnapshotDir));
    const random = rng(11);
    // 24 readers, each liking 6 titles of one or two genres (a clear taste that serendipity can step away from).
    const genres = [...new Set(demo.items.flatMap((t) => t.genres))];
    const readers = Array.from({ length: 24 }, (_, u) => {
      const taste = [genres[u % genres.length], genres[(u * 5 + 1) % genres.length]];
      const pool = demo.items.filter((t) => t.genres.some((g) => taste.includes(g)));
      return Array.from({ length: 6 }, (_, i) => liked(pool[Math.floor(random() * pool.length)].id, i + 1));
    });
    const levels = [0, 0.25, 0.5, 0.75, 1];
    const u = unserendipityByLevel(demo, readers, levels, 10);
    for (let i = 1; i < u.length; i++) expect(u[i]).toBeLessThan(u[i - 1]);
    const marked = readers.flatMap((h) => recommend(demo, h, { ...defaultConfig.ranker, serendipity: { ...defaultConfig.ranker.serendipity, level: 1 } }, 10)!).filter((r) => r.why.serendipity);
    expect(marked.length).toBeGreaterThan(0);
    for (const r of marked) {
      const s = r.why.serendipity!;
      expect(demo.items[r.index].genres).toContain(s.category);
      expect(s.category).not.toBe(s.similarTo);
      expect(s.similarity).toBeGreaterThan(0);
    }
  });
});

describe('Ranker with the community and sequence models (npm run train:seq)', () => {
  let work: string;
  let snap: Snapshot;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'toonpick-rank-'));
    await writeWorldSource(path.join(work, 'source'));
    await makeSnapshot({ source: path.join(work, 'source'), out: path.join(work, 'snapshot'), name: 'world' });
    await trainSeq({ data: path.join(work, 'source'), out: path.join(work, 'snapshot'), cfg });
    snap = await loadSnapshot(fsReader(path.join(work, 'snapshot')));
  }, 180_000);

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('train:seq stopped in its last stage resumes from its checkpoints to the same snapshot', async () => {
    const again = path.join(work, 'again');
    await makeSnapshot({ source: path.join(work, 'source'), out: again, name: 'world' });
    const checkpoints = path.join(work, 'checkpoints');
    const lines: string[] = [];
    const stopAt = 'final epoch 3/5';
    const log = (m: string) => {
      lines.push(m);
      if (m.startsWith(stopAt)) throw new Error('killed'); // before epoch 3's checkpoint is written
    };
    await expect(trainSeq({ data: path.join(work, 'source'), out: again, cfg, log, checkpoint: checkpoints })).rejects.toThrow('killed');
    expect(lines.some((l) => /^validation epoch 15\/15: loss [\d.]+, [\d,]+ titles\/s$/.test(l))).toBe(true);
    lines.length = 0;
    await trainSeq({ data: path.join(work, 'source'), out: again, cfg, log: (m) => lines.push(m), checkpoint: checkpoints });
    expect(lines).toContain(`validation: resuming from ${path.join(checkpoints, 'sequence-validation.ckpt')} after epoch 15`);
    expect(lines).toContain(`final: resuming from ${path.join(checkpoints, 'sequence-final.ckpt')} after epoch 2`);
    expect(lines.filter((l) => /^(validation|final) epoch/.test(l))).toEqual([expect.stringMatching(/^final epoch 3\/5/), expect.stringMatching(/^final epoch 4\/5/), expect.stringMatching(/^final epoch 5\/5/)]);
    const resumed = await loadSnapshot(fsReader(again));
    expect(Array.from(resumed.sequence!.weights)).toEqual(Array.from(snap.sequence!.weights));
    expect(resumed.community!.learned).toEqual(snap.community!.learned);
    expect(await readdir(checkpoints)).toEqual([]); // removed once the snapshot is written
  }, 180_000);

  it('ships the sequence model and a fusion learned with it', () => {
    expect(snap.sequence!.spec.itemCount).toBe(TITLES);
    expect(snap.manifest.files[snap.manifest.sequence!.file]).toBeDefined();
    expect(Object.keys(snap.community!.learned!.weights).sort()).toEqual(['cf', 'genre', 'lexical', 'sequence']);
  });

  it('excludes the history, is deterministic and explains with real history titles', () => {
    const history = [liked('t20', 1), liked('t21', 2), { id: 't22', readAt: 3 }, { id: 't23', readAt: 4, ratedAt: 4, rating: 5 }];
    const recs = recommend(snap, history, cfg, 15)!;
    expect(recs).toHaveLength(15);
    expect(recommend(snap, history, cfg, 15)).toEqual(recs);
    const rows = new Set(history.map((h) => snap.indexOf.get(h.id)!));
    for (const r of recs) {
      expect(rows.has(r.index)).toBe(false);
      expect(r.why.because.length).toBeGreaterThan(0);
      for (const b of r.why.because) expect(rows.has(b)).toBe(true);
      expect(r.why.contributions[r.why.space]).toBe(Math.max(...Object.values(r.why.contributions)));
    }
    // The community and the sequence model both carry the next titles of the cycle.
    const atZero = rankReadings(snap, readingsFromHistory(history, snap.indexOf, cfg), cfg, 5, { serendipity: 0 });
    expect(atZero.map((r) => snap.items[r.index].id)).toContain('t24');
    expect(atZero.some((r) => r.why.space === 'cf' || r.why.space === 'sequence')).toBe(true);
  });

  it('takes sequence scores computed elsewhere (the page\'s worker) for exactly the sequences it asks about', () => {
    const history = [liked('t20', 1), liked('t21', 2), liked('t22', 3), liked('t23', 4)];
    const queries = sequenceQueries(snap, history, cfg);
    expect(queries[0]).toEqual([20, 21, 22, 23].map((i) => snap.indexOf.get(`t${i}`)!));
    const computed = new Map(queries.map((q) => [sequenceKey(q), snap.sequence!.scores(q)]));
    const inline = recommend(snap, history, cfg, 10, { serendipity: 0 });
    expect(recommend(snap, history, cfg, 10, { serendipity: 0, sequenceScores: computed })).toEqual(inline);
    // Scores that say otherwise change the list: they are used, not recomputed.
    const reversed = new Map([...computed].map(([k, v]) => [k, v.map((x) => -x)]));
    const onlySequence = { ...rankerSettings(snap, cfg), weights: { sequence: 1 } };
    const bySequence = (sequenceScores?: Map<string, Float32Array>) => recommend(snap, history, cfg, 10, { serendipity: 0, settings: onlySequence, sequenceScores })!.map((r) => r.index);
    expect(bySequence(computed)).toEqual(bySequence());
    expect(bySequence(reversed)).not.toEqual(bySequence());
    expect(sequenceQueries({ ...snap, sequence: undefined }, history, cfg)).toEqual([]);
  });

  it('refuses a sequence model of another catalog with a clear error', async () => {
    const dir = path.join(work, 'snapshot');
    const manifest = await readFile(path.join(dir, 'manifest.json'), 'utf8');
    try {
      const m = JSON.parse(manifest);
      m.sequence.spec.itemCount = TITLES + 1;
      await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(m));
      await expect(loadSnapshot(fsReader(dir))).rejects.toThrow(DataError);
      await expect(loadSnapshot(fsReader(dir))).rejects.toThrow(/sequence model for 41 titles but this catalog has 40/);
    } finally {
      await writeFile(path.join(dir, 'manifest.json'), manifest);
    }
    await expect(trainSeq({ data: path.join(work, 'source'), out: demoSnapshotDir, cfg })).rejects.toThrow(/does not list the titles/);
  });
});
