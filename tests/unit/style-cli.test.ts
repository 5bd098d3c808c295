import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadSnapshot } from '../../src/core/snapshot/load.ts';
import { StyleEncoder } from '../../src/core/style/style-encoder.ts';
import { decodeStyleMap, STYLE_DATA_FILE, STYLE_MAP_FILE, STYLE_WEIGHTS_FILE } from '../../src/core/style/style-map.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { demoSnapshotDir, repoRoot } from './helpers/paths.ts';

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
    expect(style.dim).toBe(64);
    expect(style.normalized).toBe(true);
    expect(style.encoder.files).toEqual({ weights: STYLE_WEIGHTS_FILE, data: STYLE_DATA_FILE, map: STYLE_MAP_FILE });
    for (let i = 0; i < 5; i++) expect(Math.hypot(...style.data.subarray(i * 64, (i + 1) * 64))).toBeCloseTo(1, 4);
    // The shipped weights rebuild the encoder and give the shipped Gram vectors.
    const enc = StyleEncoder.load({
      manifest: JSON.parse(new TextDecoder().decode(snap.blobs.get(STYLE_WEIGHTS_FILE)!)),
      data: new Float32Array(snap.blobs.get(STYLE_DATA_FILE)!.slice().buffer),
    });
    expect(enc.gramDim).toBe(gram.dim);
    enc.dispose();
    const map = decodeStyleMap(snap.blobs.get(STYLE_MAP_FILE)!, snap.items.length);
    expect(map).toHaveLength(snap.items.length);
    expect(new Set(map.map((p) => p.cluster)).size).toBeGreaterThanOrEqual(2);
    expect(snap.spaces.get('genre')).toBeDefined(); // the other spaces are kept
  });
});
