/**
 * npm run train:seq -- --data <catalog source dir> --out <snapshot dir> [--epochs N] [--fine-tune-epochs N] [--seed N]
 *                      [--checkpoint <dir>] [--work <dir>]
 *
 * Trains the sequential next-title model (seed 003) on the community's reading orders and adds it to a snapshot
 * built from the same source (`npm run snapshot`). It re-runs the community fit of the snapshot builder with the
 * sequence model in it (rank/train.ts): a validation split is carved from the interactions, the models are trained
 * on the carve, the fusion weights are learned on the validation readers, and the models are refit on everything.
 * The snapshot is rewritten in place (community model, learned weights, sequence weights, manifest last).
 *
 * At scale: each stage's sequences are written to a scratch file (`--work`, default the system's temp folder) one
 * reader at a time and read back a batch at a time. `--checkpoint <dir>` saves each stage after every epoch
 * (`sequence-validation.ckpt`, `sequence-final.ckpt`); run again with the same folder, settings and data, a stage
 * resumes after its last whole epoch and ends with the same weights as an uninterrupted run. They are removed once
 * the snapshot is written. Throughput (titles
 * read per second) is printed after every epoch.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultConfig, type RankerConfig } from '../src/core/config.ts';
import { DataError } from '../src/core/errors.ts';
import { temporalSplit } from '../src/core/split.ts';
import { SEQUENCE_MODEL, SEQUENCE_VERSION } from '../src/core/rank/sequence.ts';
import { fitRanker, type SequenceHooks } from '../src/core/rank/train.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../src/core/train/checkpoint.ts';
import { bytesOf, communityEntry } from '../src/core/snapshot/build.ts';
import { loadSnapshot } from '../src/core/snapshot/load.ts';
import { fsReader, parseArgs } from './lib/node-io.ts';
import { writeSnapshotInPlace } from './lib/text-model.ts';
import { readSource } from './lib/snapshot-files.ts';
import { scratch, spillSequences, type SequenceFile } from './lib/spill.ts';

const USAGE = 'usage: npm run train:seq -- --data <catalog source dir> --out <snapshot dir> [--epochs N] [--fine-tune-epochs N] [--seed N] [--checkpoint <dir>] [--work <dir>]';
export const SEQUENCE_FILE = 'community/sequence.f32';

function intArg(args: Record<string, string | true | undefined>, key: string, fallback: number): number {
  const raw = args[key];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw === true || !Number.isInteger(v) || v < 0) throw new Error(`--${key} needs a non-negative integer`);
  return v;
}

/** Sequences in files under `work`, and (with `checkpoints`) a checkpoint per stage there, resumed when present. */
function fileHooks(work: string, dataKey: string, checkpoints: string | undefined, log: (m: string) => void, opened: SequenceFile[]): SequenceHooks {
  return {
    store: async (stage, sequences) => {
      const file = spillSequences(sequences, path.join(work, `sequences-${stage}.i32`));
      opened.push(file);
      return file;
    },
    run: async (stage) => {
      if (!checkpoints) return { dataKey };
      await mkdir(checkpoints, { recursive: true });
      const file = path.join(checkpoints, `sequence-${stage}.ckpt`);
      const resume = existsSync(file) ? decodeCheckpoint(new Uint8Array(await readFile(file)), file) : undefined;
      if (resume) log(`${stage}: resuming from ${file} after epoch ${resume.epoch}`);
      return {
        dataKey,
        resume,
        onCheckpoint: async (c) => {
          // Written beside the old one and renamed over it: a crash mid-write keeps the previous epoch's.
          await writeFile(`${file}.part`, encodeCheckpoint(c));
          await rename(`${file}.part`, file);
        },
      };
    },
    onEpoch: (p) => log(`${p.stage} epoch ${p.epoch}/${p.epochs}: loss ${p.loss.toFixed(3)}, ${Math.round(p.tokensPerSecond).toLocaleString('en')} titles/s`),
  };
}

export async function trainSeq(opts: { data: string; out: string; cfg?: RankerConfig; log?: (m: string) => void; checkpoint?: string; work?: string }) {
  const cfg = opts.cfg ?? defaultConfig.ranker;
  const log = opts.log ?? (() => {});
  const catalogFile = path.join(opts.data, 'catalog.jsonl');
  const interactionsFile = path.join(opts.data, 'interactions.csv');
  if (!existsSync(interactionsFile) && !existsSync(path.join(opts.data, 'interactions.parquet')))
    throw new DataError(interactionsFile, 'could not be read: the sequence model learns from community interactions, and this source has none');
  // The builder's own reader: interactions.csv line by line (or interactions.parquet in chunks), every bad line refused.
  const source = await readSource(opts.data, true);
  const items = source.items;
  const interactions = source.interactions ?? [];
  if (interactions.length === 0) throw new DataError(interactionsFile, 'has no interactions');

  const snapshot = await loadSnapshot(fsReader(opts.out));
  if (snapshot.items.length !== items.length || snapshot.items.some((t, i) => t.id !== items[i].id))
    throw new DataError(path.join(opts.out, 'items.json'), `does not list the titles of ${catalogFile} in the same order: build the snapshot from this source first (npm run snapshot)`);

  // Every interaction trains; fitRanker carves its own validation split from them.
  const train = temporalSplit(items, interactions, { minPositives: Number.POSITIVE_INFINITY }).train;
  const content = { items: snapshot.items, spaces: snapshot.spaces, indexOf: snapshot.indexOf };
  const work = await scratch('toonpick-sequences', opts.work);
  const opened: SequenceFile[] = [];
  let fitted: Awaited<ReturnType<typeof fitRanker>>;
  try {
    const sequenceHooks = fileHooks(work.dir, snapshot.manifest.contentHash, opts.checkpoint, log, opened);
    fitted = await fitRanker(train, content, cfg, { sequence: true, seed: cfg.sequence.seed, onProgress: (p) => log(`${p.step} (${p.seconds.toFixed(1)} s)`), sequenceHooks });
  } finally {
    for (const f of opened) f.close();
    await work.dispose();
  }
  const sequence = fitted.sequence!;

  snapshot.community = fitted.community;
  snapshot.manifest.community = communityEntry(fitted.community, { users: train.users.length, interactions: interactions.length }, cfg, snapshot.blobs);
  snapshot.sequence = sequence;
  snapshot.blobs.set(SEQUENCE_FILE, bytesOf(sequence.weights));
  const { fineTuneEpochs: _f, ...settings } = cfg.sequence;
  snapshot.manifest.sequence = {
    name: SEQUENCE_MODEL,
    version: SEQUENCE_VERSION,
    spec: sequence.spec,
    file: SEQUENCE_FILE,
    training: { ...settings, ...fitted.sequenceTraining, trainedAt: new Date().toISOString() },
  };
  await writeSnapshotInPlace(opts.out, snapshot);
  // The run is done and the snapshot changed: its checkpoints could resume nothing any more.
  if (opts.checkpoint) for (const stage of ['validation', 'final']) await rm(path.join(opts.checkpoint, `sequence-${stage}.ckpt`), { force: true });
  return { snapshot, fitted };
}

async function main() {
  const args = parseArgs(process.argv.slice(2), { data: 'string', help: 'boolean', out: 'string', epochs: 'string', 'fine-tune-epochs': 'string', seed: 'string', checkpoint: 'string', work: 'string' });
  if (args.help || typeof args.data !== 'string' || typeof args.out !== 'string') {
    console.error(USAGE);
    process.exit(args.help ? 0 : 2);
  }
  const base = defaultConfig.ranker;
  const cfg: RankerConfig = {
    ...base,
    sequence: {
      ...base.sequence,
      epochs: intArg(args, 'epochs', base.sequence.epochs),
      fineTuneEpochs: intArg(args, 'fine-tune-epochs', base.sequence.fineTuneEpochs),
      seed: intArg(args, 'seed', base.sequence.seed),
    },
  };
  const t0 = performance.now();
  const { snapshot, fitted } = await trainSeq({ data: args.data, out: args.out, cfg, log: (m) => console.log(m), checkpoint: args.checkpoint, work: args.work });
  const l = fitted.learned;
  console.log(`sequence model: ${snapshot.sequence!.weights.length.toLocaleString('en')} weights, ${snapshot.items.length} titles, max length ${cfg.sequence.maxLength}`);
  if (l) console.log(`fusion learned on ${l.validation.users} validation readers: ${Object.entries(l.weights).map(([s, w]) => `${s} ${w.toFixed(2)}`).join(', ')}, τ ${l.temperature}`);
  console.log(`wrote ${args.out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? '')) {
  main().catch((e) => {
    console.error(e instanceof DataError ? `error: ${e.message}` : e);
    process.exit(1);
  });
}
