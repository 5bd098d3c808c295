/**
 * Embedding in shards: shard i of n computes the vectors of titles ⌊i·N/n⌋ … ⌊(i+1)·N/n⌋ − 1 of one snapshot version
 * on any machine (docs/scale.md: a Kubernetes Indexed Job), and a final step merges the shard files. Used by
 * `embed:text` (the sts space) and `embed:covers` (the style and gram spaces).
 *
 * File layout (src/core/framed.ts): "TPSHARD2", the JSON header, then for each space in the header's order its
 * rows start … end − 1 as float32.
 */
import { readdir, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DataError } from '../../src/core/errors.ts';
import { decodeFramed, encodeFramed, floatsOf } from '../../src/core/framed.ts';
import type { Snapshot } from '../../src/core/snapshot/snapshot.ts';

const MAGIC = 'TPSHARD2';

/** What a shard file says about itself. */
export interface ShardHeader {
  format: 'toonpick-embedding-shard';
  /** 'sts' or 'covers': which step wrote it. */
  kind: string;
  /** The snapshot version it was computed from. */
  snapshot: string;
  /** The encoder, in words (model and revision, or weights hash): shards merge only with shards of the same one. */
  encoder: string;
  /** Whatever the merge step needs to describe the encoder in the manifest. */
  params: Record<string, unknown>;
  spaces: Array<{ name: string; dim: number }>;
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

export async function writeShard(out: string, header: Omit<ShardHeader, 'format'>, rows: Float32Array[]): Promise<void> {
  await writeFile(out, encodeFramed(MAGIC, { format: 'toonpick-embedding-shard', ...header }, rows));
}

function readShard(bytes: Uint8Array, file: string, kind: string): { header: ShardHeader; rows: Float32Array[] } {
  const what = `an embedding shard (npm run embed:${kind === 'sts' ? 'text' : kind} -- --shard)`;
  const { header: raw, body } = decodeFramed(bytes, MAGIC, file, what);
  const header = raw as ShardHeader;
  if (header?.format !== 'toonpick-embedding-shard' || !Array.isArray(header.spaces) || !header.spaces.every((s) => s?.dim > 0)) throw new DataError(file, 'has a damaged header');
  if (header.kind !== kind) throw new DataError(file, `holds ${header.kind} vectors, not ${kind}: it is not ${what}`);
  const { start, end } = header;
  const dims = header.spaces.map((s) => s.dim);
  const per = dims.reduce((a, b) => a + b, 0);
  if (!(end >= start) || body.byteLength !== (end - start) * per * 4)
    throw new DataError(file, `holds ${body.byteLength} bytes of vectors, not rows ${start}…${end - 1} of ${dims.join(' + ')} float32 (truncated?)`);
  const all = floatsOf(body);
  const rows: Float32Array[] = [];
  let o = 0;
  for (const s of header.spaces) {
    const r = all.subarray(o, o + (end - start) * s.dim);
    const bad = r.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new DataError(file, `has a non-finite value in ${s.name} row ${start + Math.floor(bad / s.dim)}`);
    rows.push(r);
    o += r.length;
  }
  return { header, rows };
}

/**
 * The shards of this snapshot version, from one encoder, covering every title exactly once, joined into one
 * Float32Array per space. Anything else is refused, naming the shard.
 */
export function mergeShards(snapshot: Snapshot, files: Array<{ file: string; bytes: Uint8Array }>, kind: string): { header: ShardHeader; spaces: Float32Array[] } {
  const n = snapshot.items.length;
  const shards = files.map(({ file, bytes }) => ({ file, ...readShard(bytes, file, kind) }));
  if (!shards.length) throw new DataError('--merge', 'needs the shard files');
  const first = shards[0];
  const layout = JSON.stringify(first.header.spaces);
  const covered = new Uint8Array(n);
  for (const s of shards) {
    const h = s.header;
    if (h.snapshot !== snapshot.manifest.contentHash) throw new DataError(s.file, `was computed from snapshot version ${String(h.snapshot).slice(0, 12)}, not this one (${snapshot.manifest.contentHash.slice(0, 12)}): embed it again`);
    if (h.encoder !== first.header.encoder || JSON.stringify(h.spaces) !== layout) throw new DataError(s.file, `is from ${h.encoder}, but ${first.file} is from ${first.header.encoder}`);
    for (let i = h.start; i < h.end; i++) {
      if (i >= n || covered[i]) throw new DataError(s.file, `covers title ${i} ${i >= n ? 'past the catalog' : 'that another shard covers too'}`);
      covered[i] = 1;
    }
  }
  const missing = covered.indexOf(0);
  if (missing >= 0) throw new DataError('--merge', `no shard covers title ${missing} (${snapshot.items[missing].id}): a shard is missing`);
  const spaces = first.header.spaces.map((sp, k) => {
    const data = new Float32Array(n * sp.dim);
    for (const s of shards) data.set(s.rows[k], s.header.start * sp.dim);
    return data;
  });
  return { header: first.header, spaces };
}

/** The shard files named: files as they are, folders by their `*.shard` files (sorted). */
export async function shardFiles(paths: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    if ((await stat(p).catch(() => undefined))?.isDirectory()) out.push(...(await readdir(p)).filter((f) => f.endsWith('.shard')).sort().map((f) => path.join(p, f)));
    else out.push(p);
  }
  return out;
}
