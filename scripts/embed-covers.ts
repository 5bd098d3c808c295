/**
 * npm run embed:covers -- --snapshot <dir>                                   (every cover, on this machine)
 * npm run embed:covers -- --snapshot <dir> --shard <i>/<n> --out <shard file> (one machine's share)
 * npm run embed:covers -- --snapshot <dir> --merge <folder or file>[,<folder or file>…]  (the final step)
 *
 * Encodes the snapshot's square covers with the snapshot's own style encoder (its stored weights, trained by
 * `npm run train:style`) into the `style` and `gram` spaces, and lays out the style map. A large catalog is
 * embedded in shards on many machines with any job runner (docs/scale.md: a Kubernetes Indexed Job), exactly as
 * `embed:text` does for synopses: shard i of n encodes titles ⌊i·N/n⌋ … ⌊(i+1)·N/n⌋ − 1 of this snapshot version,
 * and `--merge` checks that the shards come from this very version and weights and cover every title once, then
 * writes what a single run writes (byte for byte). Covers are decoded a batch at a time: memory does not grow with
 * the catalog.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { DataError } from '../src/core/errors.ts';
import { loadSnapshot } from '../src/core/snapshot/load.ts';
import type { Snapshot } from '../src/core/snapshot/snapshot.ts';
import { GRAM_SPACE, STYLE_SPACE, buildStyleMap } from '../src/core/style/style-map.ts';
import { fsReader, parseArgs } from './lib/node-io.ts';
import { mergeShards, shardFiles, shardRange, writeShard } from './lib/shards.ts';
import { decodedCovers } from './lib/spill.ts';
import { imageRows } from '../src/core/style/style-encoder.ts';
import { normaliseRows, snapshotStyleEncoder, writeStyleSpaces } from './lib/style-spaces.ts';

/** The square covers of every title (the style encoder needs one per title). */
function coverFiles(snapshot: Snapshot): string[] {
  const missing = snapshot.items.find((t) => !t.coverSquare);
  if (missing) throw new DataError('items.json', 'has no square cover; the style encoder needs one per title', { item: missing.id, field: 'coverSquare' });
  return snapshot.items.map((t) => t.coverSquare!);
}

/** Style rows (L2-normalised) and gram rows of titles [start, end). */
async function embedRange(snapshot: Snapshot, dir: string, start: number, end: number) {
  const enc = await snapshotStyleEncoder(snapshot);
  try {
    const rows = Array.from({ length: end - start }, (_, i) => start + i);
    const { style, gram } = await enc.embed(imageRows(decodedCovers(dir, coverFiles(snapshot)), rows));
    return { style: normaliseRows(style, enc.config.latent), gram, latent: enc.config.latent, gramDim: enc.gramDim, weightsHash: String(snapshot.spaces.get(STYLE_SPACE)?.encoder.params?.weightsHash ?? '') };
  } finally {
    enc.dispose();
  }
}

/** The spaces and the map written, with the encoder's description kept (its weights do not change). */
async function writeAll(dir: string, snapshot: Snapshot, v: { style: Float32Array; latent: number; gram: Float32Array; gramDim: number }) {
  const { clusters: _c, silhouette: _s, ...params } = snapshot.spaces.get(STYLE_SPACE)?.encoder.params ?? {};
  const { points: map, clusters, laidOut } = buildStyleMap(v.style, v.latent);
  await writeStyleSpaces(dir, snapshot, { ...v, map, clusters, params });
  return { laidOut, k: clusters.best.k };
}

export async function embedCovers(dir: string): Promise<{ titles: number; seconds: number }> {
  const started = performance.now();
  const snapshot = await loadSnapshot(fsReader(dir));
  const { style, latent, gram, gramDim } = await embedRange(snapshot, dir, 0, snapshot.items.length);
  await writeAll(dir, snapshot, { style, latent, gram, gramDim });
  return { titles: snapshot.items.length, seconds: (performance.now() - started) / 1000 };
}

export async function embedCoversShard(dir: string, spec: string, out: string): Promise<{ start: number; end: number; seconds: number }> {
  const started = performance.now();
  const snapshot = await loadSnapshot(fsReader(dir), { synopses: 'lazy' }); // the encoder's weights, not the synopses
  const { start, end } = shardRange(spec, snapshot.items.length);
  const v = await embedRange(snapshot, dir, start, end);
  const spaces = [{ name: STYLE_SPACE, dim: v.latent }, { name: GRAM_SPACE, dim: v.gramDim }];
  await writeShard(out, { kind: 'covers', snapshot: snapshot.manifest.contentHash, encoder: `toonpick-style-encoder ${v.weightsHash}`, params: {}, spaces, start, end, itemCount: snapshot.items.length }, [v.style, v.gram]);
  return { start, end, seconds: (performance.now() - started) / 1000 };
}

export async function mergeCoverShards(dir: string, files: string[]): Promise<{ titles: number; laidOut: number; k: number }> {
  const snapshot = await loadSnapshot(fsReader(dir));
  const { header, spaces } = mergeShards(snapshot, await Promise.all(files.map(async (file) => ({ file, bytes: new Uint8Array(await readFile(file)) }))), 'covers');
  const weights = String(snapshot.spaces.get(STYLE_SPACE)?.encoder.params?.weightsHash ?? '');
  if (header.encoder !== `toonpick-style-encoder ${weights}`) throw new DataError(files[0], `is from ${header.encoder}, but this snapshot's style weights are ${weights}: embed it again`);
  const [style, gram] = spaces;
  const r = await writeAll(dir, snapshot, { style, latent: header.spaces[0].dim, gram, gramDim: header.spaces[1].dim });
  return { titles: snapshot.items.length, ...r };
}

async function main() {
  const args = parseArgs(process.argv.slice(2), { snapshot: 'string', shard: 'string', out: 'string', merge: 'string' });
  if (typeof args.snapshot !== 'string') {
    console.error('usage: npm run embed:covers -- --snapshot <dir> [--shard i/n --out <file>]\n       npm run embed:covers -- --snapshot <dir> --merge <folder or file>[,…]');
    process.exit(2);
  }
  if (typeof args.merge === 'string') {
    const files = await shardFiles(args.merge.split(','));
    const r = await mergeCoverShards(args.snapshot, files);
    console.log(`style and gram spaces for ${r.titles} titles merged from ${files.length} shards into ${args.snapshot}; style map laid out on ${r.laidOut} titles, K=${r.k}`);
    return;
  }
  if (typeof args.shard === 'string') {
    if (typeof args.out !== 'string') throw new DataError('--shard', 'needs --out <shard file>');
    const r = await embedCoversShard(args.snapshot, args.shard, args.out);
    console.log(`shard ${args.shard}: covers ${r.start}…${r.end - 1} encoded into ${args.out} in ${r.seconds.toFixed(1)} s (${((r.end - r.start) / r.seconds).toFixed(1)} covers/s)`);
    return;
  }
  const r = await embedCovers(args.snapshot);
  console.log(`style and gram spaces for ${r.titles} covers written to ${args.snapshot} in ${r.seconds.toFixed(1)} s (${(r.titles / r.seconds).toFixed(1)} covers/s)`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? '')) {
  main().catch((e) => {
    console.error(e instanceof Error ? `error: ${e.message}` : e);
    process.exit(1);
  });
}
