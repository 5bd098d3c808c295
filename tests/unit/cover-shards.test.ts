/**
 * `npm run embed:covers -- --shard i/n` on several machines, then `--merge`: the style and gram spaces and the style
 * map a single run writes (here: exactly the demo snapshot's own files, which train:style wrote), and shards that do
 * not fit together refused with the snapshot left as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { embedCoversShard, mergeCoverShards } from '../../scripts/embed-covers.ts';
import { embedTextShard } from '../../scripts/embed-text.ts';
import { FIXTURE_MODEL, writeSnapshotInPlace } from '../../scripts/lib/text-model.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { loadSnapshot } from '../../src/core/snapshot/load.ts';
import { demoSnapshotDir } from './helpers/paths.ts';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'toonpick-cover-shards-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('encoding covers in shards', () => {
  it('merges three shards, computed in any order, into the very files of one run', async () => {
    const dir = path.join(work, 'snap');
    await cp(demoSnapshotDir, dir, { recursive: true });
    const shards = path.join(work, 'shards');
    await mkdir(shards);
    for (const i of [2, 0, 1]) await embedCoversShard(dir, `${i}/3`, path.join(shards, `${i}.shard`));
    const r = await mergeCoverShards(dir, [0, 1, 2].map((i) => path.join(shards, `${i}.shard`)));
    expect(r).toMatchObject({ titles: 969, laidOut: 969 });
    const snap = await loadSnapshot(fsReader(dir));
    const shipped = await loadSnapshot(fsReader(demoSnapshotDir));
    for (const name of ['style', 'gram']) expect(snap.manifest.spaces.find((s) => s.name === name)).toEqual(shipped.manifest.spaces.find((s) => s.name === name));
    for (const file of ['spaces/style.i8', 'spaces/gram.i8', 'style/map.f32', 'style/weights.bin'])
      expect(Buffer.compare(await readFile(path.join(dir, file)), await readFile(path.join(demoSnapshotDir, file)))).toBe(0);
  }, 180_000);

  it('refuses a missing shard, a shard of synopses, and shards of an older version, and changes nothing', async () => {
    const dir = path.join(work, 'refuse');
    await cp(demoSnapshotDir, dir, { recursive: true });
    const shards = path.join(work, 'refuse-shards');
    await mkdir(shards);
    const file = (name: string) => path.join(shards, `${name}.shard`);
    await embedCoversShard(dir, '0/2', file('0'));
    await embedCoversShard(dir, '1/2', file('1'));
    await embedTextShard(dir, FIXTURE_MODEL, '1/2', file('text'));
    const before = (await loadSnapshot(fsReader(dir))).manifest.contentHash;
    await expect(mergeCoverShards(dir, [file('0')])).rejects.toThrow(/--merge: no shard covers title 484 .*a shard is missing/);
    await expect(mergeCoverShards(dir, [file('0'), file('text')])).rejects.toThrow(/text\.shard: holds sts vectors, not covers: it is not an embedding shard \(npm run embed:covers -- --shard\)/);
    expect((await loadSnapshot(fsReader(dir))).manifest.contentHash).toBe(before);
    // The operator publishes a new version (here: a title renamed) before merging: the shards are stale.
    const snap = await loadSnapshot(fsReader(dir));
    snap.items[0].title = 'renamed';
    await writeSnapshotInPlace(dir, snap);
    await expect(mergeCoverShards(dir, [file('0'), file('1')])).rejects.toThrow(/0\.shard: was computed from snapshot version [0-9a-f]{12}, not this one/);
  }, 180_000);
});
