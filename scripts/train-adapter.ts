/**
 * npm run train:adapter -- --snapshot <dir> --model <id or folder> [--local-model-path <dir>] [--data ../shared/data/korsts] [--epochs N]
 *
 * Domain adaptation of the synopsis space (seed paper 000): trains the residual linear adapter on top of
 * the frozen model with KorSTS train pairs (cosine regression) plus two augmented views of each catalog
 * synopsis (contrastive, in-batch negatives), picks the epoch by KorSTS dev Spearman, and ships it in the
 * snapshot: `spaces/sts.adapter.f32` (listed in the manifest and in the sts space's `encoder.files`) and the
 * sts space rewritten as adapted vectors. The browser worker applies the same adapter to queries.
 */
import path from 'node:path';
import { defaultConfig } from '../src/core/config.ts';
import { DataError } from '../src/core/errors.ts';
import { loadSnapshot } from '../src/core/snapshot/load.ts';
import { ADAPTER_KIND } from '../src/core/text/adapter.ts';
import { trainAdapter, type AdapterTrainingResult } from '../src/core/text/adapter-train.ts';
import { ADAPTER_FILE, STS_SPACE, stsEncoderInfo, synopsisText } from '../src/core/text/sts-space.ts';
import { fsReader, parseArgs } from './lib/node-io.ts';
import { adapterData, embedAll, loadEncoder, loadKorSts, modelArgs, trainingBackend, writeSnapshotInPlace, type ModelArgs } from './lib/text-model.ts';

export const DEFAULT_KORSTS = path.resolve(import.meta.dirname, '../../shared/data/korsts');

export async function trainSnapshotAdapter(opts: { snapshot: string; model: ModelArgs; data: string; epochs?: number; log?: (line: string) => void }): Promise<AdapterTrainingResult & { backend: string }> {
  const cfg = { ...defaultConfig.models.text.adapter, ...(opts.epochs !== undefined ? { epochs: opts.epochs } : {}) };
  const log = opts.log ?? (() => {});
  const snapshot = await loadSnapshot(fsReader(opts.snapshot));
  const korsts = await loadKorSts(opts.data);
  const backend = await trainingBackend();
  const enc = await loadEncoder(opts.model);
  try {
    log(`embedding KorSTS and ${snapshot.items.length} synopses (with augmented views) with ${opts.model.modelId}…`);
    const data = await adapterData((t) => embedAll(enc, t), enc.dim, korsts, snapshot, cfg);
    const base = await embedAll(enc, snapshot.items.map(synopsisText));
    log(`training on ${korsts.train.length} KorSTS pairs + ${data.views!.a.length / enc.dim} synopsis view pairs (tfjs ${backend})…`);
    const result = await trainAdapter(data, cfg);
    for (const h of result.history) log(`epoch ${h.epoch}: loss ${h.loss.toFixed(4)}, KorSTS dev Spearman ${h.devSpearman.toFixed(4)}`);
    const adapter = {
      kind: ADAPTER_KIND,
      trainedOn: [`KorSTS sts-train (${korsts.train.length} pairs)`, `${data.views!.a.length / enc.dim} augmented synopsis pairs of "${snapshot.manifest.name}"`],
      devSpearman: { base: result.history[0].devSpearman, adapted: result.history[result.epoch].devSpearman },
      epoch: result.epoch,
      seed: cfg.seed,
    };
    snapshot.manifest.spaces = snapshot.manifest.spaces.filter((s) => s.name !== STS_SPACE);
    snapshot.spaces.set(STS_SPACE, { name: STS_SPACE, dim: enc.dim, data: result.adapter.apply(base), normalized: true, encoder: stsEncoderInfo(opts.model, adapter) });
    snapshot.blobs.set(ADAPTER_FILE, result.adapter.toBytes());
    await writeSnapshotInPlace(opts.snapshot, snapshot);
    return { ...result, backend };
  } finally {
    await enc.dispose();
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2), { data: 'string', epochs: 'string', model: 'string', snapshot: 'string' });
  if (typeof args.snapshot !== 'string' || typeof args.model !== 'string') {
    console.error('usage: npm run train:adapter -- --snapshot <dir> --model <id or folder> [--local-model-path <dir>] [--data ../shared/data/korsts] [--epochs N]');
    process.exit(2);
  }
  const r = await trainSnapshotAdapter({
    snapshot: args.snapshot,
    model: modelArgs(args),
    data: typeof args.data === 'string' ? args.data : DEFAULT_KORSTS,
    epochs: typeof args.epochs === 'string' ? Number(args.epochs) : undefined,
    log: (l) => console.log(l),
  });
  console.log(
    r.epoch === 0
      ? `no epoch beat the base model on KorSTS dev: the adapter shipped is the identity (${r.seconds.toFixed(1)} s)`
      : `adapter from epoch ${r.epoch} written to ${args.snapshot}/${ADAPTER_FILE}: dev Spearman ${r.history[0].devSpearman.toFixed(4)} → ${r.history[r.epoch].devSpearman.toFixed(4)} (${r.seconds.toFixed(1)} s)`,
  );
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? '')) {
  main().catch((e) => {
    console.error(e instanceof DataError || e instanceof Error ? `error: ${e.message}` : e);
    process.exit(1);
  });
}
