import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadSnapshot } from '../../src/core/snapshot/load.ts';
import { StyleEncoder } from '../../src/core/style/style-encoder.ts';
import { decodeStyleMap, STYLE_DATA_FILE, STYLE_MAP_FILE, STYLE_WEIGHTS_FILE } from '../../src/core/style/style-map.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { defaultConfig } from '../../src/core/config.ts';
import { trainStyle, type TrainStyleOptions } from '../../scripts/train-style.ts';
import { demoSnapshotDir, repoRoot } from './helpers/paths.ts';
import { expectStoredRows } from './helpers/stored.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'toonpick-style-'));
  await cp(demoSnapshotDir, path.join(dir, 'snap'), { recursive: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('npm run train:style on a copy of the demo snapshot', () => {
  it('writes weights, the style and gram spaces and the style map, re-signed; ends with backend= and validation_mse=', async () => {
    const snapDir = path.join(dir, 'snap');
    // A tiny model and one epoch: this checks the plumbing, not the quality.
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', 'scripts/train-style.ts', '--snapshot', snapDir, '--epochs', '1', '--filters', '4,4,4,4', '--gram-size', '4', '--k', '2..3'],
      { cwd: repoRoot, maxBuffer: 1 << 24 },
    );
    const lines = stdout.trim().split('\n');
    expect(lines.at(-2)).toBe('backend=wasm');
    expect(lines.at(-1)).toMatch(/^validation_mse=0\.\d+/);
    expect(stdout).toMatch(/silhouette by K: 2:-?[\d.]+ 3:-?[\d.]+/);

    const snap = await loadSnapshot(fsReader(snapDir)); // checks sizes, hashes and the content hash
    const style = snap.spaces.get('style')!;
    const gram = snap.spaces.get('gram')!;
    const dim = defaultConfig.models.style.latent;
    expect(style.dim).toBe(dim);
    expect(style.normalized).toBe(true);
    expect(style.encoder.files).toEqual({ weights: STYLE_WEIGHTS_FILE, data: STYLE_DATA_FILE, map: STYLE_MAP_FILE });
    for (let i = 0; i < 5; i++) expect(Math.hypot(...style.data.subarray(i * dim, (i + 1) * dim))).toBeCloseTo(1, 2); // int8 rows
    // The weights are stored as the config says (float16 by default: 2 bytes a value), with the storage recorded in
    // the space; the file's bytes rebuild the encoder, which gives the shipped vectors.
    const manifest = JSON.parse(new TextDecoder().decode(snap.blobs.get(STYLE_WEIGHTS_FILE)!));
    const bytes = snap.blobs.get(STYLE_DATA_FILE)!;
    const dtype = defaultConfig.models.style.dtype;
    expect(manifest.dtype ?? 'float32').toBe(dtype);
    expect(style.encoder.params).toMatchObject({ dtype, filters: '4,4,4,4', epochs: 1, schedule: defaultConfig.models.style.schedule });
    const enc = StyleEncoder.load({ manifest, data: bytes });
    const values = (await enc.save()).data.length;
    expect(bytes.byteLength).toBe(values * { float32: 4, float16: 2, int8: 1 }[dtype]);
    expect(enc.gramDim).toBe(gram.dim);
    const per = 64 * 64 * 3;
    const images = new Float32Array(3 * per);
    for (let i = 0; i < 3; i++) {
      const { data } = await sharp(path.join(snapDir, snap.items[i].coverSquare!)).resize(64, 64, { fit: 'cover' }).toColourspace('srgb').removeAlpha().raw().toBuffer({ resolveWithObject: true });
      for (let k = 0; k < per; k++) images[i * per + k] = data[k] / 255;
    }
    const out = await enc.embed(images);
    for (let i = 0; i < 3; i++) {
      const row = out.style.subarray(i * dim, (i + 1) * dim);
      const norm = Math.hypot(...row);
      // The snapshot stores int8 rows: the encoder's vectors within half a step of each row's grid.
      expectStoredRows(style.data.subarray(i * dim, (i + 1) * dim), row.map((v) => v / norm), dim);
      expectStoredRows(gram.data.subarray(i * gram.dim, (i + 1) * gram.dim), out.gram.subarray(i * gram.dim, (i + 1) * gram.dim), gram.dim);
    }
    enc.dispose();
    const map = decodeStyleMap(snap.blobs.get(STYLE_MAP_FILE)!, snap.items.length);
    expect(map).toHaveLength(snap.items.length);
    expect(new Set(map.map((p) => p.cluster)).size).toBeGreaterThanOrEqual(2);
    expect(snap.spaces.get('genre')).toBeDefined(); // the other spaces are kept
  });
});

describe('npm run train:style --checkpoint', () => {
  it('stopped during its last epoch, resumes after the last whole one and writes the same weights as one run', async () => {
    const [straight, stopped] = ['straight', 'stopped'].map((d) => path.join(dir, d));
    await Promise.all([straight, stopped].map((d) => cp(demoSnapshotDir, d, { recursive: true })));
    const d = defaultConfig.models.style;
    const options: TrainStyleOptions = {
      ...d, epochs: 2, filters: [4, 4, 4, 4], gramSize: 4, latent: 8, minK: 2, maxK: 3, variant: 'ae', valFraction: 0.1, write: true, log: () => {},
    };
    await trainStyle(straight, options);
    const checkpoint = path.join(dir, 'style.ckpt');
    const progress: string[] = [];
    const kill = (line: string) => {
      progress.push(line);
      if (line.startsWith('epoch 2/2 trained')) throw new Error('killed'); // before epoch 2's checkpoint
    };
    await expect(trainStyle(stopped, { ...options, checkpoint, progress: kill })).rejects.toThrow('killed');
    expect(progress.some((l) => /^epoch 1\/2 trained, \d+ s, [\d.]+ images\/s$/.test(l))).toBe(true);
    expect(existsSync(checkpoint)).toBe(true);
    const log: string[] = [];
    await trainStyle(stopped, { ...options, checkpoint, log: (l) => log.push(l) });
    expect(log).toContain(`resuming from ${checkpoint} after epoch 1`);
    expect(log.some((l) => /^training: \d+ s for 1 epochs, [\d.]+ images\/s$/.test(l))).toBe(true);
    for (const file of [STYLE_DATA_FILE, 'spaces/style.i8', 'style/map.f32'])
      expect(Buffer.compare(await readFile(path.join(stopped, file)), await readFile(path.join(straight, file)))).toBe(0);
    expect(existsSync(checkpoint)).toBe(false);
  }, 300_000);
});
