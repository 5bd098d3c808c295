/**
 * `npm run embed:text -- --shard i/n` on several machines, then `--merge`: the same sts space as one run, and
 * shards that do not fit together refused with the snapshot left as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { embedText, embedTextShard, mergeTextShards } from '../../scripts/embed-text.ts';
import { shardRange } from '../../scripts/lib/shards.ts';
import { makeSnapshot } from '../../scripts/snapshot.ts';
import { FIXTURE_MODEL } from '../../scripts/lib/text-model.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { loadSnapshot } from '../../src/core/snapshot/load.ts';
import { webtoonsDir } from './helpers/paths.ts';

let work: string;
let base: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'toonpick-shards-'));
  const src = path.join(work, 'src');
  await mkdir(src);
  const lines = (await readFile(path.join(webtoonsDir, 'catalog.jsonl'), 'utf8')).split('\n').filter(Boolean).slice(0, 25).map((l) => ({ ...JSON.parse(l), cover: undefined }));
  await writeFile(path.join(src, 'catalog.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  base = path.join(work, 'base');
  await makeSnapshot({ source: src, out: base });
}, 60_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('embedding in shards', () => {
  it('splits the titles into n near-equal ranges that cover each title once', () => {
    expect([0, 1, 2].map((i) => shardRange(`${i}/3`, 25))).toEqual([
      { index: 0, of: 3, start: 0, end: 8 },
      { index: 1, of: 3, start: 8, end: 16 },
      { index: 2, of: 3, start: 16, end: 25 },
    ]);
    expect(() => shardRange('3/3', 25)).toThrow(/--shard: must be i\/n with 0 ≤ i < n/);
  });

  it('merges to the space one run writes, byte for byte', async () => {
    const single = path.join(work, 'single');
    const sharded = path.join(work, 'sharded');
    await cp(base, single, { recursive: true });
    await cp(base, sharded, { recursive: true });
    await embedText(single, FIXTURE_MODEL);
    const shards = path.join(work, 'shards');
    await mkdir(shards);
    for (const i of [2, 0, 1]) await embedTextShard(sharded, FIXTURE_MODEL, `${i}/3`, path.join(shards, `${i}.shard`));
    await mergeTextShards(sharded, [0, 1, 2].map((i) => path.join(shards, `${i}.shard`)));
    const [a, b] = await Promise.all([single, sharded].map((d) => loadSnapshot(fsReader(d))));
    expect(b.manifest.files['spaces/sts.i8']).toEqual(a.manifest.files['spaces/sts.i8']);
    expect(b.manifest.spaces.find((s) => s.name === 'sts')).toEqual(a.manifest.spaces.find((s) => s.name === 'sts'));
  }, 120_000);

  it('refuses a missing, overlapping, damaged or stale shard, and changes nothing', async () => {
    const dir = path.join(work, 'refuse');
    await cp(base, dir, { recursive: true });
    const shards = path.join(work, 'refuse-shards');
    await mkdir(shards);
    const file = (i: number, n = 2) => path.join(shards, `${i}-of-${n}.shard`);
    await embedTextShard(dir, FIXTURE_MODEL, '0/2', file(0));
    await embedTextShard(dir, FIXTURE_MODEL, '1/2', file(1));
    await embedTextShard(dir, FIXTURE_MODEL, '0/3', file(0, 3));
    const before = (await loadSnapshot(fsReader(dir))).manifest.contentHash;
    await expect(mergeTextShards(dir, [file(0)])).rejects.toThrow(/--merge: no shard covers title 12 .*a shard is missing/);
    await expect(mergeTextShards(dir, [file(0), file(1), file(0, 3)])).rejects.toThrow(/0-of-3\.shard: covers title 0 that another shard covers too/);
    const bytes = new Uint8Array(await readFile(file(1)));
    await writeFile(path.join(shards, 'cut.shard'), bytes.subarray(0, bytes.length - 10));
    await expect(mergeTextShards(dir, [file(0), path.join(shards, 'cut.shard')])).rejects.toThrow(/cut\.shard: holds \d+ bytes of vectors, not rows 12…24 of 32 float32/);
    expect((await loadSnapshot(fsReader(dir))).manifest.contentHash).toBe(before);
    // Once the snapshot changed (here: merged), shards of the old version no longer fit.
    await mergeTextShards(dir, [file(0), file(1)]);
    await expect(mergeTextShards(dir, [file(0), file(1)])).rejects.toThrow(/0-of-2\.shard: was computed from snapshot version [0-9a-f]{12}, not this one/);
  }, 120_000);
});
