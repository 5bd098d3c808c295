/**
 * npm run embed:text -- --snapshot <dir> --model <id or folder> [--local-model-path <dir>] [--dtype fp32|q8] [--revision main]
 * npm run embed:text -- --snapshot <dir> --model … --shard <i>/<n> --out <shard file>     (one machine's share)
 * npm run embed:text -- --snapshot <dir> --merge <folder or file>[,<folder or file>…]   (the final step: *.shard files)
 *
 * Adds (or replaces) the `sts` space of a snapshot: one unit vector per title's synopsis from a sentence
 * model, computed with the same core code the browser worker runs (here on onnxruntime-node, device
 * 'cpu'). The manifest is re-signed. A previous adapter is dropped: it belonged to the old vectors
 * (run train:adapter again).
 *
 * A large catalog can be embedded in shards on many machines with any job runner (docs/scale.md: a Kubernetes
 * Indexed Job): shard i of n embeds titles ⌊i·N/n⌋ … ⌊(i+1)·N/n⌋ − 1 of this snapshot version into a shard file;
 * `--merge` checks that the shards come from this very snapshot version and model and cover every title exactly
 * once, then writes the space as a single run would (byte for byte).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DataError } from '../src/core/errors.ts';
import { loadSnapshot, synopsisPages } from '../src/core/snapshot/load.ts';
import type { Snapshot } from '../src/core/snapshot/snapshot.ts';
import { ADAPTER_FILE, STS_SPACE, stsEncoderInfo, synopsisText } from '../src/core/text/sts-space.ts';
import { fsReader, parseArgs } from './lib/node-io.ts';
import { embedAll, loadEncoder, modelArgs, writeSnapshotInPlace, type ModelArgs } from './lib/text-model.ts';
import { mergeShards, shardFiles, shardRange, writeShard } from './lib/shards.ts';

/** Writes `data` (one row per title) as the snapshot's sts space. */
async function writeSts(snapshotDir: string, snapshot: Snapshot, data: Float32Array, dim: number, model: ModelArgs): Promise<void> {
  snapshot.manifest.spaces = snapshot.manifest.spaces.filter((s) => s.name !== STS_SPACE);
  snapshot.spaces.set(STS_SPACE, { name: STS_SPACE, dim, data, normalized: true, encoder: stsEncoderInfo(model) });
  snapshot.blobs.delete(ADAPTER_FILE);
  await writeSnapshotInPlace(snapshotDir, snapshot, [ADAPTER_FILE]);
}

export async function embedText(snapshotDir: string, model: ModelArgs): Promise<{ snapshot: Snapshot; seconds: number; dim: number }> {
  const started = performance.now();
  const snapshot = await loadSnapshot(fsReader(snapshotDir));
  const enc = await loadEncoder(model);
  try {
    const data = await embedAll(enc, snapshot.items.map(synopsisText));
    await writeSts(snapshotDir, snapshot, data, enc.dim, model);
    return { snapshot, seconds: (performance.now() - started) / 1000, dim: enc.dim };
  } finally {
    await enc.dispose();
  }
}

/** One machine's share: the vectors of titles [start, end) of this snapshot version, written to `out`. */
export async function embedTextShard(snapshotDir: string, model: ModelArgs, spec: string, out: string): Promise<{ start: number; end: number; seconds: number }> {
  const started = performance.now();
  const snapshot = await loadSnapshot(fsReader(snapshotDir), { profile: 'ranking' });
  const { start, end } = shardRange(spec, snapshot.items.length);
  // Only this shard's synopsis pages (a snapshot without pages has them in items.json already).
  await synopsisPages(snapshot.manifest, snapshot.items, fsReader(snapshotDir)).load(Array.from({ length: end - start }, (_, i) => start + i));
  const enc = await loadEncoder(model);
  try {
    const data = end > start ? await embedAll(enc, snapshot.items.slice(start, end).map(synopsisText)) : new Float32Array(0);
    const params = { modelId: model.modelId, revision: model.revision, dtype: model.dtype };
    const encoder = `${model.modelId}@${model.revision} (${model.dtype}, ${enc.dim}-d)`;
    await writeShard(out, { kind: 'sts', snapshot: snapshot.manifest.contentHash, encoder, params, spaces: [{ name: STS_SPACE, dim: enc.dim }], start, end, itemCount: snapshot.items.length }, [data]);
    return { start, end, seconds: (performance.now() - started) / 1000 };
  } finally {
    await enc.dispose();
  }
}

/**
 * The final step: the shards of this snapshot version, from one model, covering every title exactly once, written
 * as the sts space. Anything else is refused, naming the shard, and the snapshot is left as it was.
 */
export async function mergeTextShards(snapshotDir: string, files: string[]): Promise<{ snapshot: Snapshot; dim: number; model: ModelArgs }> {
  const snapshot = await loadSnapshot(fsReader(snapshotDir));
  const { header, spaces } = mergeShards(snapshot, await Promise.all(files.map(async (file) => ({ file, bytes: new Uint8Array(await readFile(file)) }))), 'sts');
  const model = header.params as unknown as ModelArgs;
  const dim = header.spaces[0].dim;
  await writeSts(snapshotDir, snapshot, spaces[0], dim, model);
  return { snapshot, dim, model };
}

async function main() {
  const args = parseArgs(process.argv.slice(2), { model: 'string', snapshot: 'string', 'local-model-path': 'string', dtype: 'string', revision: 'string', shard: 'string', out: 'string', merge: 'string' });
  const usage =
    'usage: npm run embed:text -- --snapshot <dir> --model <id or folder> [--local-model-path <dir>] [--dtype fp32|q8] [--revision main] [--shard i/n --out <file>]\n' +
    '       npm run embed:text -- --snapshot <dir> --merge <folder or file>[,…]';
  if (typeof args.snapshot !== 'string') {
    console.error(usage);
    process.exit(2);
  }
  if (typeof args.merge === 'string') {
    const files = await shardFiles(args.merge.split(','));
    const r = await mergeTextShards(args.snapshot, files);
    console.log(`sts space (${r.model.modelId}@${r.model.revision}, ${r.dim}-d) for ${r.snapshot.items.length} titles merged from ${files.length} shards into ${args.snapshot}`);
    return;
  }
  if (typeof args.model !== 'string') {
    console.error(usage);
    process.exit(2);
  }
  const model = modelArgs(args);
  if (typeof args.shard === 'string') {
    if (typeof args.out !== 'string') throw new DataError('--shard', 'needs --out <shard file>');
    const r = await embedTextShard(args.snapshot, model, args.shard, args.out);
    console.log(`shard ${args.shard}: titles ${r.start}…${r.end - 1} embedded into ${args.out} in ${r.seconds.toFixed(1)} s`);
    return;
  }
  const r = await embedText(args.snapshot, model);
  console.log(`sts space (${model.modelId}@${model.revision}, ${model.dtype}, ${r.dim}-d) for ${r.snapshot.items.length} titles written to ${args.snapshot} in ${r.seconds.toFixed(1)} s`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? '')) {
  main().catch((e) => {
    console.error(e instanceof DataError ? `error: ${e.message}` : e instanceof Error ? `error: ${e.message}` : e);
    process.exit(1);
  });
}
