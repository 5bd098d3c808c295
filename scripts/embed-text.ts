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
import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DataError } from '../src/core/errors.ts';
import { loadSnapshot, synopsisPages } from '../src/core/snapshot/load.ts';
import type { Snapshot } from '../src/core/snapshot/snapshot.ts';
import { ADAPTER_FILE, STS_SPACE, stsEncoderInfo, synopsisText } from '../src/core/text/sts-space.ts';
import { fsReader, parseArgs } from './lib/node-io.ts';
import { embedAll, loadEncoder, modelArgs, writeSnapshotInPlace, type ModelArgs } from './lib/text-model.ts';

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

const SHARD_MAGIC = 'TPSHARD1';

/** What a shard file says about itself (its JSON header). */
interface ShardHeader {
  format: 'toonpick-embedding-shard';
  /** The snapshot version it was computed from. */
  snapshot: string;
  model: ModelArgs;
  dim: number;
  start: number;
  end: number;
  itemCount: number;
}

/** `--shard i/n`: which share of `count` titles shard i of n embeds. */
export function shardRange(spec: string, count: number): { index: number; of: number; start: number; end: number } {
  const m = /^(\d+)\/(\d+)$/.exec(spec);
  const [index, of] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
  if (!(of >= 1 && index >= 0 && index < of)) throw new DataError('--shard', `must be i/n with 0 ≤ i < n (e.g. 0/4), got ${JSON.stringify(spec)}`);
  return { index, of, start: Math.floor((index * count) / of), end: Math.floor(((index + 1) * count) / of) };
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
    const header: ShardHeader = { format: 'toonpick-embedding-shard', snapshot: snapshot.manifest.contentHash, model: { ...model, localModelPath: undefined } as ModelArgs, dim: enc.dim, start, end, itemCount: snapshot.items.length };
    const head = new TextEncoder().encode(JSON.stringify(header));
    const bytes = new Uint8Array(SHARD_MAGIC.length + 4 + head.byteLength + data.byteLength);
    bytes.set(new TextEncoder().encode(SHARD_MAGIC));
    new DataView(bytes.buffer).setUint32(SHARD_MAGIC.length, head.byteLength, true);
    bytes.set(head, SHARD_MAGIC.length + 4);
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), SHARD_MAGIC.length + 4 + head.byteLength);
    await writeFile(out, bytes);
    return { start, end, seconds: (performance.now() - started) / 1000 };
  } finally {
    await enc.dispose();
  }
}

function readShard(bytes: Uint8Array, file: string): { header: ShardHeader; rows: Float32Array } {
  if (new TextDecoder().decode(bytes.subarray(0, SHARD_MAGIC.length)) !== SHARD_MAGIC || bytes.byteLength < SHARD_MAGIC.length + 4) throw new DataError(file, 'is not an embedding shard (npm run embed:text -- --shard)');
  const length = new DataView(bytes.buffer, bytes.byteOffset + SHARD_MAGIC.length, 4).getUint32(0, true);
  const at = SHARD_MAGIC.length + 4 + length;
  let header: ShardHeader;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(SHARD_MAGIC.length + 4, at)));
  } catch {
    throw new DataError(file, 'has a damaged header');
  }
  const { dim, start, end } = header;
  if (header.format !== 'toonpick-embedding-shard' || !(dim > 0) || !(end >= start) || bytes.byteLength - at !== (end - start) * dim * 4) throw new DataError(file, `holds ${bytes.byteLength - at} bytes of vectors, not rows ${start}…${end - 1} of ${dim} float32 (truncated?)`);
  const rows = new Float32Array((end - start) * dim);
  new Uint8Array(rows.buffer).set(bytes.subarray(at));
  const bad = rows.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new DataError(file, `has a non-finite value in row ${start + Math.floor(bad / dim)}`);
  return { header, rows };
}

/**
 * The final step: the shards of this snapshot version, from one model, covering every title exactly once, written
 * as the sts space. Anything else is refused, naming the shard, and the snapshot is left as it was.
 */
export async function mergeTextShards(snapshotDir: string, files: string[]): Promise<{ snapshot: Snapshot; dim: number; model: ModelArgs }> {
  const snapshot = await loadSnapshot(fsReader(snapshotDir));
  const n = snapshot.items.length;
  const shards = await Promise.all(files.map(async (f) => ({ file: f, ...readShard(new Uint8Array(await readFile(f)), f) })));
  if (!shards.length) throw new DataError('--merge', 'needs the shard files');
  const first = shards[0].header;
  const covered = new Uint8Array(n);
  for (const s of shards) {
    const h = s.header;
    if (h.snapshot !== snapshot.manifest.contentHash) throw new DataError(s.file, `was computed from snapshot version ${h.snapshot.slice(0, 12)}, not this one (${snapshot.manifest.contentHash.slice(0, 12)}): embed it again`);
    if (h.model.modelId !== first.model.modelId || h.model.revision !== first.model.revision || h.model.dtype !== first.model.dtype || h.dim !== first.dim)
      throw new DataError(s.file, `is from ${h.model.modelId}@${h.model.revision} (${h.model.dtype}, ${h.dim}-d), but ${shards[0].file} is from ${first.model.modelId}@${first.model.revision} (${first.model.dtype}, ${first.dim}-d)`);
    for (let i = h.start; i < h.end; i++) {
      if (i >= n || covered[i]) throw new DataError(s.file, `covers title ${i} ${i >= n ? 'past the catalog' : 'that another shard covers too'}`);
      covered[i] = 1;
    }
  }
  const missing = covered.indexOf(0);
  if (missing >= 0) throw new DataError('--merge', `no shard covers title ${missing} (${snapshot.items[missing].id}): a shard is missing`);
  const data = new Float32Array(n * first.dim);
  for (const s of shards) data.set(s.rows, s.header.start * first.dim);
  await writeSts(snapshotDir, snapshot, data, first.dim, first.model);
  return { snapshot, dim: first.dim, model: first.model };
}

/** The shard files named: files as they are, folders by their `*.shard` files (sorted). */
async function shardFiles(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    if ((await stat(p).catch(() => undefined))?.isDirectory()) out.push(...(await readdir(p)).filter((f) => f.endsWith('.shard')).sort().map((f) => path.join(p, f)));
    else out.push(p);
  }
  return out;
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
