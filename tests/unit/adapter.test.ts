import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { defaultConfig } from '../../src/core/config.ts';
import { SynopsisAdapter } from '../../src/core/text/adapter.ts';
import { trainAdapter, type AdapterTrainingData } from '../../src/core/text/adapter-train.ts';
import { rowCosines, spearman } from '../../src/core/text/sts.ts';
import { loadSnapshot } from '../../src/core/snapshot/load.ts';
import type { SynopsisEncoder } from '../../src/core/text/synopsis-encoder.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { FIXTURE_MODEL, adapterData, embedAll, loadEncoder, loadKorSts, trainingBackend } from '../../scripts/lib/text-model.ts';
import { demoSnapshotDir, sharedData } from './helpers/paths.ts';

describe('SynopsisAdapter', () => {
  it('starts as the identity on unit vectors and round-trips through its file format', () => {
    const x = new Float32Array([0.6, 0.8, 0, 1]);
    expect(Array.from(SynopsisAdapter.identity(2).apply(x))).toEqual(Array.from(x));
    const a = new SynopsisAdapter(2, new Float32Array([1, 2, 3, 4]), new Float32Array([0.5, -0.5]));
    const b = SynopsisAdapter.fromBytes(a.toBytes(), 2);
    expect(Array.from(b.apply(x))).toEqual(Array.from(a.apply(x)));
    // y = x + Wx + b = (0.6 + 2.2 + 0.5, 0.8 + 5.0 − 0.5) = (3.3, 5.3), then unit length.
    const y = a.apply(x.subarray(0, 2));
    expect(y[0]).toBeCloseTo(3.3 / Math.hypot(3.3, 5.3), 6);
    expect(y[1]).toBeCloseTo(5.3 / Math.hypot(3.3, 5.3), 6);
  });

  it('refuses a weights file of the wrong size or with NaN', () => {
    expect(() => SynopsisAdapter.fromBytes(new Uint8Array(10), 2, 'a.f32')).toThrow('a.f32 is 10 bytes, a 2-d adapter is 24');
    const bad = new Float32Array(6).fill(NaN);
    expect(() => SynopsisAdapter.fromBytes(new Uint8Array(bad.buffer), 2)).toThrow(/non-finite/);
  });
});

describe('adapter training on the tiny fixture model (KorSTS + augmented catalog synopses)', () => {
  let enc: SynopsisEncoder;
  let data: AdapterTrainingData;
  beforeAll(async () => {
    await trainingBackend();
    enc = await loadEncoder(FIXTURE_MODEL);
    const korsts = await loadKorSts(path.join(sharedData, 'korsts'));
    const snapshot = await loadSnapshot(fsReader(demoSnapshotDir));
    // A quarter of the training pairs keeps the test quick; dev is whole, as train:adapter uses it.
    data = await adapterData((t) => embedAll(enc, t), enc.dim, { ...korsts, train: korsts.train.filter((_, i) => i % 4 === 0) }, snapshot, defaultConfig.models.text.adapter);
  });
  afterAll(async () => {
    await enc?.dispose();
  });

  it('lowers its loss and does not lower KorSTS dev Spearman; reproducible by seed', async () => {
    const cfg = { ...defaultConfig.models.text.adapter, epochs: 4 };
    const r = await trainAdapter(data, cfg);
    expect(r.history).toHaveLength(5);
    expect(r.history.at(-1)!.loss).toBeLessThan(r.history[0].loss);
    const base = spearman(rowCosines(data.dev.a, data.dev.b, enc.dim), data.dev.scores);
    const adapted = spearman(rowCosines(r.adapter.apply(data.dev.a), r.adapter.apply(data.dev.b), enc.dim), data.dev.scores);
    expect(r.history[0].devSpearman).toBeCloseTo(base, 10);
    expect(adapted).toBeGreaterThanOrEqual(base);
    // On this random-weight model the adapter has plenty to learn: it really moves dev Spearman.
    expect(r.epoch).toBeGreaterThan(0);
    expect(adapted).toBeGreaterThan(base + 0.02);
    const again = await trainAdapter(data, cfg);
    expect(again.history.map((h) => h.devSpearman)).toEqual(r.history.map((h) => h.devSpearman));
  });
});
