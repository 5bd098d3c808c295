import { describe, expect, it } from 'vitest';
import { DataError } from '../../src/core/errors.ts';
import { rng } from '../../src/core/random.ts';
import { chooseClusters, kmeans, meanSilhouette } from '../../src/core/style/cluster.ts';
import { buildStyleMap, decodeStyleMap, encodeStyleMap, nearestRows, neighbourGenreAgreement, placeAmong } from '../../src/core/style/style-map.ts';
import { tsne } from '../../src/core/style/tsne.ts';
import { serializeSnapshot } from '../../src/core/snapshot/build.ts';
import { loadSnapshot } from '../../src/core/snapshot/load.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { demoSnapshotDir } from './helpers/paths.ts';

/** `perCluster` points around each centre with Gaussian-ish noise of the given spread (seeded). */
function blobs(centres: number[][], perCluster: number, spread: number, seed = 1): { points: Float32Array; truth: number[] } {
  const random = rng(seed);
  const dim = centres[0].length;
  const points = new Float32Array(centres.length * perCluster * dim);
  const truth: number[] = [];
  let row = 0;
  centres.forEach((c, ci) => {
    for (let p = 0; p < perCluster; p++, row++) {
      for (let d = 0; d < dim; d++) points[row * dim + d] = c[d] + spread * (random() + random() + random() - 1.5);
      truth.push(ci);
    }
  });
  return { points, truth };
}

/** Same partition up to renaming the labels. */
function samePartition(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const map = new Map<number, number>();
  for (let i = 0; i < a.length; i++) {
    if (!map.has(a[i])) map.set(a[i], b[i]);
    if (map.get(a[i]) !== b[i]) return false;
  }
  return new Set(map.values()).size === map.size;
}

const CENTRES = [
  [0, 0, 0],
  [10, 0, 0],
  [0, 10, 0],
  [0, 0, 10],
];

describe('kmeans++', () => {
  it('recovers well-separated clusters', () => {
    const { points, truth } = blobs(CENTRES, 15, 1);
    const r = kmeans(points, 3, 4, { seed: 3 });
    expect(samePartition(truth, r.labels)).toBe(true);
    expect(r.centroids.length).toBe(12);
  });

  it('is deterministic by seed', () => {
    const { points } = blobs(CENTRES, 10, 4);
    expect(kmeans(points, 3, 5, { seed: 7 }).labels).toEqual(kmeans(points, 3, 5, { seed: 7 }).labels);
  });

  it('rejects a bad k or shape', () => {
    expect(() => kmeans(new Float32Array(6), 3, 3)).toThrow(/k must be/);
    expect(() => kmeans(new Float32Array(5), 3, 1)).toThrow(/multiple of dim/);
  });
});

describe('silhouette', () => {
  it('is near 1 for tight, far clusters and lower for a wrong split', () => {
    const { points, truth } = blobs(CENTRES, 10, 0.5);
    const good = meanSilhouette(points, 3, Int32Array.from(truth), 4);
    expect(good).toBeGreaterThan(0.9);
    const wrong = Int32Array.from(truth, (_, i) => i % 4);
    expect(meanSilhouette(points, 3, wrong, 4)).toBeLessThan(0.1);
  });

  it('two points in two clusters: hand-computed', () => {
    // Points 0,1 at x=0,1 (cluster 0); point 2 at x=10 (alone → 0). s0 = (10−1)/10, s1 = (9−1)/9.
    const s = meanSilhouette(Float32Array.from([0, 1, 10]), 1, Int32Array.from([0, 0, 1]), 2);
    expect(s).toBeCloseTo((0.9 + 8 / 9) / 3, 6);
  });

  it('chooseClusters picks the true K', () => {
    const { points } = blobs(CENTRES, 12, 1);
    const c = chooseClusters(points, 3, 2, 7, { seed: 1 });
    expect(c.best.k).toBe(4);
    expect(c.curve.map((p) => p.k)).toEqual([2, 3, 4, 5, 6, 7]);
  });
});

describe('t-SNE', () => {
  it('keeps clusters apart in 2-D and is deterministic by seed', () => {
    const { points, truth } = blobs(CENTRES, 12, 1);
    const y = tsne(points, 3, { seed: 5, iterations: 300, perplexity: 5 });
    expect(y.length).toBe(truth.length * 2);
    expect(Array.from(y).every(Number.isFinite)).toBe(true);
    // Every point's nearest map neighbour comes from its own cluster.
    for (let i = 0; i < truth.length; i++) {
      let best = -1;
      let bestD = Infinity;
      for (let j = 0; j < truth.length; j++) {
        if (j === i) continue;
        const d = (y[2 * i] - y[2 * j]) ** 2 + (y[2 * i + 1] - y[2 * j + 1]) ** 2;
        if (d < bestD) [best, bestD] = [j, d];
      }
      expect(truth[best]).toBe(truth[i]);
    }
    expect(tsne(points, 3, { seed: 5, iterations: 300, perplexity: 5 })).toEqual(y);
    expect(tsne(points, 3, { seed: 6, iterations: 300, perplexity: 5 })).not.toEqual(y);
  });
});

describe('style map file', () => {
  it('round-trips and refuses damage', () => {
    const pts = [
      { x: 1.5, y: -2, cluster: 0 },
      { x: 0, y: 3, cluster: -1 },
    ];
    const bytes = encodeStyleMap(pts);
    expect(decodeStyleMap(bytes, 2)).toEqual(pts);
    expect(() => decodeStyleMap(bytes, 3)).toThrow(DataError);
    const bad = new Float32Array(bytes.slice().buffer);
    bad[2] = 0.5;
    expect(() => decodeStyleMap(new Uint8Array(bad.buffer), 2)).toThrow(/cluster/);
    bad[2] = 0;
    bad[0] = Number.NaN;
    expect(() => decodeStyleMap(new Uint8Array(bad.buffer), 2)).toThrow(/non-finite/);
  });

  it('genre agreement of neighbours, by hand', () => {
    const genres = [['a'], ['a'], ['b'], ['a', 'c']];
    const v = Float32Array.from([1, 0, 1, 0, 0, 1, 0.8, 0.6]);
    expect(nearestRows(v, 2, 0, 2)).toEqual([1, 3]);
    // k=1: 0→1 (a∩a ✓), 1→0 ✓, 2→3 (b vs a,c ✗), 3→0 or 1 ✓ → 3/4.
    expect(neighbourGenreAgreement(genres, 1, (i) => nearestRows(v, 2, i, 1))).toBeCloseTo(0.75);
    // Ignoring 'a': only titles 2 (b) and 3 (c) count; neither neighbour shares → 0.
    expect(neighbourGenreAgreement(genres, 1, (i) => nearestRows(v, 2, i, 1), new Set(['a']))).toBe(0);
  });
});

describe('the snapshot loader and the style map', () => {
  it('refuses a snapshot whose style map has the wrong size, naming the file', async () => {
    const snap = await loadSnapshot(fsReader(demoSnapshotDir));
    expect(snap.blobs.get('style/map.f32')!.byteLength).toBe(snap.items.length * 12);
    snap.blobs.set('style/map.f32', new Uint8Array(12)); // one row for the whole catalog, re-signed
    const files = await serializeSnapshot(snap);
    await expect(loadSnapshot(async (p) => files.get(p)!)).rejects.toThrow(/style\/map\.f32.*expected 969 rows/);
  });
});

describe('the style map of a large catalog', () => {
  it('is laid out on a seeded sample, and every other title is placed among its nearest sampled titles', () => {
    // Four directions (the map is of unit vectors): 240 titles.
    const { points, truth } = blobs([[10, 0, 0], [0, 10, 0], [0, 0, 10], [-10, 0, 0]], 60, 1, 4);
    const unit = new Float32Array(points.length);
    for (let i = 0; i < 240; i++) {
      const n = Math.hypot(...points.subarray(i * 3, i * 3 + 3));
      for (let d = 0; d < 3; d++) unit[i * 3 + d] = points[i * 3 + d] / n;
    }
    const options = { minK: 3, maxK: 5, seed: 2, sample: 80 };
    const a = buildStyleMap(unit, 3, options);
    expect(a.laidOut).toBe(80);
    expect(a.points).toHaveLength(240);
    expect(buildStyleMap(unit, 3, options).points).toEqual(a.points); // seeded
    // The placed titles land in their own blob's cluster: the map keeps the partition.
    expect(samePartition(truth, a.points.map((p) => p.cluster))).toBe(true);
    const anchors = [...new Set(a.points.map((p) => `${p.x},${p.y}`))];
    expect(anchors.length).toBeGreaterThan(80); // the placed ones are between the sampled ones, not on them
    // Small catalogs are laid out whole, as before.
    expect(buildStyleMap(unit.subarray(0, 60 * 3), 3, { ...options, sample: 80 }).laidOut).toBe(60);
  });

  it('places a title among anchors: weighted by similarity, in the cluster most of its 5 nearest are in', () => {
    const v = Float32Array.from([1, 0, 0.8, 0.6, 0.6, 0.8, 0, 1, -1, 0, 0.96, 0.28]);
    const place = [
      { x: 0, y: 0, cluster: 1 },
      { x: 10, y: 0, cluster: 1 },
      { x: 0, y: 10, cluster: 2 },
      { x: 10, y: 10, cluster: 2 },
      { x: 5, y: 5, cluster: 3 },
    ];
    const p = placeAmong(v, 2, 5, [0, 1, 2, 3, 4], (j) => place[j]);
    const w = [0.96, 0.768 + 0.168, 0.576 + 0.224, 0.28, 0].map((s) => Math.max(s, 0) + 1e-3);
    const sum = w.reduce((s, x) => s + x, 0);
    expect(p.x).toBeCloseTo((w[1] * 10 + w[3] * 10 + w[4] * 5) / sum, 5);
    expect(p.y).toBeCloseTo((w[2] * 10 + w[3] * 10 + w[4] * 5) / sum, 5);
    expect(p.cluster).toBe(1);
    expect(placeAmong(v, 2, 5, [], () => place[0])).toEqual({ x: 0, y: 0, cluster: -1 });
  });
});
