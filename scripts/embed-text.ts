/**
 * npm run embed:text -- --snapshot <dir> --model <id or folder> [--local-model-path <dir>] [--dtype fp32|q8] [--revision main]
 *
 * Adds (or replaces) the `sts` space of a snapshot: one unit vector per title's synopsis from a sentence
 * model, computed with the same core code the browser worker runs (here on onnxruntime-node, device
 * 'cpu'). The manifest is re-signed. A previous adapter is dropped: it belonged to the old vectors
 * (run train:adapter again).
 */
import path from 'node:path';
import { DataError } from '../src/core/errors.ts';
import { loadSnapshot } from '../src/core/snapshot/load.ts';
import type { Snapshot } from '../src/core/snapshot/snapshot.ts';
import { ADAPTER_FILE, STS_SPACE, stsEncoderInfo, synopsisText } from '../src/core/text/sts-space.ts';
import { fsReader, parseArgs } from './lib/node-io.ts';
import { embedAll, loadEncoder, modelArgs, writeSnapshotInPlace, type ModelArgs } from './lib/text-model.ts';

export async function embedText(snapshotDir: string, model: ModelArgs): Promise<{ snapshot: Snapshot; seconds: number; dim: number }> {
  const started = performance.now();
  const snapshot = await loadSnapshot(fsReader(snapshotDir));
  const enc = await loadEncoder(model);
  try {
    const data = await embedAll(enc, snapshot.items.map(synopsisText));
    snapshot.manifest.spaces = snapshot.manifest.spaces.filter((s) => s.name !== STS_SPACE);
    snapshot.spaces.set(STS_SPACE, { name: STS_SPACE, dim: enc.dim, data, normalized: true, encoder: stsEncoderInfo(model) });
    snapshot.blobs.delete(ADAPTER_FILE);
    await writeSnapshotInPlace(snapshotDir, snapshot, [ADAPTER_FILE]);
    return { snapshot, seconds: (performance.now() - started) / 1000, dim: enc.dim };
  } finally {
    await enc.dispose();
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2), { model: 'string', snapshot: 'string' });
  if (typeof args.snapshot !== 'string' || typeof args.model !== 'string') {
    console.error('usage: npm run embed:text -- --snapshot <dir> --model <id or folder> [--local-model-path <dir>] [--dtype fp32|q8] [--revision main]');
    process.exit(2);
  }
  const model = modelArgs(args);
  const r = await embedText(args.snapshot, model);
  console.log(`sts space (${model.modelId}@${model.revision}, ${model.dtype}, ${r.dim}-d) for ${r.snapshot.items.length} titles written to ${args.snapshot} in ${r.seconds.toFixed(1)} s`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? '')) {
  main().catch((e) => {
    console.error(e instanceof DataError ? `error: ${e.message}` : e instanceof Error ? `error: ${e.message}` : e);
    process.exit(1);
  });
}
