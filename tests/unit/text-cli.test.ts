import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { loadSnapshot } from '../../src/core/snapshot/load.ts';
import { SynopsisAdapter } from '../../src/core/text/adapter.ts';
import { ADAPTER_FILE, synopsisText } from '../../src/core/text/sts-space.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { FIXTURE_MODEL, loadEncoder } from '../../scripts/lib/text-model.ts';
import { embedText } from '../../scripts/embed-text.ts';
import { trainSnapshotAdapter } from '../../scripts/train-adapter.ts';
import { demoSnapshotDir, repoRoot, sharedData } from './helpers/paths.ts';
import { expectStoredRows } from './helpers/stored.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'toonpick-text-'));
  await cp(demoSnapshotDir, path.join(dir, 'snap'), { recursive: true });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('text CLIs on a copy of the demo snapshot', () => {
  it('embed:text adds a signed sts space equal to the encoder run directly', async () => {
    const snapDir = path.join(dir, 'snap');
    await embedText(snapDir, FIXTURE_MODEL);
    const snap = await loadSnapshot(fsReader(snapDir)); // checks sizes, hashes and the content hash
    const sts = snap.spaces.get('sts')!;
    expect(sts.dim).toBe(32);
    expect(sts.normalized).toBe(true);
    expect(sts.encoder).toMatchObject({ name: 'toonpick/tiny-bert', params: { revision: 'main', dtype: 'fp32' } });
    expect(snap.manifest.files['spaces/sts.i8'].bytes).toBe(snap.items.length * (32 + 4)); // int8 rows and a scale each
    const enc = await loadEncoder(FIXTURE_MODEL);
    try {
      const direct = await enc.embed(snap.items.slice(0, 5).map(synopsisText));
      expectStoredRows(sts.data.subarray(0, 5 * 32), direct, 32);
    } finally {
      await enc.dispose();
    }
    expect(snap.spaces.get('lexical')!.data).toEqual((await loadSnapshot(fsReader(demoSnapshotDir))).spaces.get('lexical')!.data);
  });

  it('train:adapter ships the adapter in the snapshot, listed and applied to the sts space', async () => {
    const snapDir = path.join(dir, 'snap');
    const before = (await loadSnapshot(fsReader(snapDir))).spaces.get('sts')!.data;
    const r = await trainSnapshotAdapter({ snapshot: snapDir, model: FIXTURE_MODEL, data: path.join(sharedData, 'korsts'), epochs: 2 });
    const snap = await loadSnapshot(fsReader(snapDir));
    const sts = snap.spaces.get('sts')!;
    expect(sts.encoder.files).toEqual({ adapter: ADAPTER_FILE });
    expect(snap.manifest.files[ADAPTER_FILE].bytes).toBe((32 * 32 + 32) * 4);
    expect(sts.encoder.params?.adapter).toMatchObject({ kind: 'residual-linear', epoch: r.epoch });
    const adapter = SynopsisAdapter.fromBytes(snap.blobs.get(ADAPTER_FILE)!, 32);
    const expected = adapter.apply(before);
    // `before` was read back from int8 rows and the stored result is int8 again: each row keeps its direction.
    for (let i = 0; i < snap.items.length; i++) {
      const [a, b] = [expected.subarray(i * 32, (i + 1) * 32), sts.data.subarray(i * 32, (i + 1) * 32)];
      const dot = a.reduce((t, v, d) => t + v * b[d], 0);
      expect(dot / (Math.hypot(...a) * Math.hypot(...b))).toBeGreaterThan(0.999);
    }

    // Embedding again replaces the vectors and drops the adapter that belonged to the old ones.
    await embedText(snapDir, FIXTURE_MODEL);
    const again = await loadSnapshot(fsReader(snapDir));
    expect(again.spaces.get('sts')!.encoder.files).toBeUndefined();
    expect(again.manifest.files[ADAPTER_FILE]).toBeUndefined();
    expect(existsSync(path.join(snapDir, ADAPTER_FILE))).toBe(false);
  });

  it('eval:sts prints a table and writes the JSON report', async () => {
    const out = path.join(dir, 'sts.json');
    const { stdout } = await promisify(execFile)('npx', ['tsx', 'scripts/eval-sts.ts', '--data', path.join(sharedData, 'korsts'), '--json', out], { cwd: repoRoot });
    expect(stdout).toMatch(/lexical\s+0\.\d{4}\s+0\.\d{4}\s+1379/);
    const report = JSON.parse(await readFile(out, 'utf8'));
    expect(Object.keys(report.spaces)).toEqual(['lexical', 'toonpick/tiny-bert', 'toonpick/tiny-bert+adapter']);
    for (const s of Object.values(report.spaces) as Array<{ pearson: number; spearman: number; pairs: number }>) {
      expect(s.pairs).toBe(1379);
      expect(s.pearson).toBeGreaterThan(0.2);
      expect(s.spearman).toBeGreaterThan(0.2);
    }
    // The lexical figures the README quotes.
    expect(report.spaces.lexical.spearman).toBeCloseTo(0.5873, 4);
  });
});
