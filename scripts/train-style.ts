/**
 * npm run train:style -- --snapshot <dir> [--epochs N] [--filters a,b,c,d] [--latent 64] [--schedule constant|cosine] [--lr 0.001]
 *                        [--min-lr 1e-5] [--batch 16] [--flip true|false] [--dtype float32|float16|int8]
 *                        [--variant ae|vae] [--seed 0] [--gram-size 8] [--k 4..16] [--val 0.1] [--tune] [--dry-run]
 *
 * Trains the art-style encoder on the snapshot's 64×64 covers (10 % held out by a fixed seed) on the WASM
 * backend, then writes into the snapshot: the weights (`style/weights.json` + `style/weights.bin`, stored as
 * `--dtype`), the spaces `style` (latent means, L2-normalised) and `gram` (texture statistics), and the style map
 * (`style/map.f32`: t-SNE x, y and the K-means++ cluster, K by best mean silhouette). The manifest is re-signed.
 * Every flag defaults to the shipped model (config.models.style), which Settings' in-browser retrain also uses.
 * `--dry-run` measures without writing; `--tune` (never writes) leaves the held-out covers out entirely and
 * validates on a carve of the training covers, for choosing settings without looking at the reported split.
 * The last two stdout lines are `backend=<name>` and `validation_mse=<number>` (of the weights as stored).
 *
 * At scale: the covers are decoded once into a scratch file (`--work <dir>`, default the system's temp folder;
 * 12 KiB a title) and read back a batch at a time, so memory does not grow with the catalog. `--checkpoint <file>`
 * saves the run after every epoch; started again with the same file and settings, it resumes after the last
 * whole epoch and ends with the same weights as an uninterrupted run (it is removed once the snapshot is written).
 * Throughput (images/s) is reported per epoch.
 */
import { existsSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DataError } from '../src/core/errors.ts';
import { rng, shuffle } from '../src/core/random.ts';
import { loadSnapshot } from '../src/core/snapshot/load.ts';
import type { Snapshot } from '../src/core/snapshot/snapshot.ts';
import { chooseTfjsBackend } from '../src/core/tfjs-backend.ts';
import { defaultConfig } from '../src/core/config.ts';
import { StyleEncoder, imageRows, type ImageSource, type StyleSchedule, type StyleVariant, type WeightsDtype } from '../src/core/style/style-encoder.ts';
import { buildStyleMap, defaultStyleMapOptions, nearestRows, neighbourGenreAgreement } from '../src/core/style/style-map.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../src/core/train/checkpoint.ts';
import { fsReader, parseArgs } from './lib/node-io.ts';
import { normaliseRows, writeStyleSpaces } from './lib/style-spaces.ts';
import { scratch, spillCovers } from './lib/spill.ts';

const SIZE = 64;

export interface TrainStyleOptions {
  epochs: number;
  batchSize: number;
  learningRate: number;
  schedule: StyleSchedule;
  minLearningRate?: number;
  flip: boolean;
  /** How the weights are stored in the snapshot; the reported validation MSE is that of the stored weights. */
  dtype: WeightsDtype;
  /**
   * Tuning mode: the held-out covers are left out entirely, and the validation MSE is measured on a carve
   * (valFraction, by another seed) of the training covers instead. Never writes.
   */
  tune?: boolean;
  variant: StyleVariant;
  seed: number;
  filters: [number, number, number, number];
  /** Style vector (latent) dimension. */
  latent: number;
  gramSize: number;
  minK: number;
  maxK: number;
  valFraction: number;
  write: boolean;
  log: (line: string) => void;
  /** Progress lines (to stderr from the CLI). */
  progress?: (line: string) => void;
  /** Saves the run after every epoch, and resumes from it when it exists (same settings and snapshot). */
  checkpoint?: string;
  /** Where the decoded covers are kept while training (a scratch folder is made inside, and removed). */
  work?: string;
}

/** Genre agreement is measured for at most this many titles (each scans the whole catalog). */
const AGREEMENT_SAMPLE = 1000;

export async function trainStyle(dir: string, o: TrainStyleOptions) {
  const snapshot = await loadSnapshot(fsReader(dir));
  const missing = snapshot.items.find((t) => !t.coverSquare);
  if (missing) throw new DataError('items.json', 'has no square cover; the style encoder needs one per title', { item: missing.id, field: 'coverSquare' });
  const work = await scratch('toonpick-covers', o.work);
  const decodeStarted = performance.now();
  try {
    const images = await spillCovers(dir, snapshot.items.map((t) => t.coverSquare!), path.join(work.dir, 'covers.rgb'), SIZE);
    o.progress?.(`${images.count} covers decoded into ${work.dir} in ${((performance.now() - decodeStarted) / 1000).toFixed(1)} s`);
    try {
      return await trainOn(snapshot, images, dir, o);
    } finally {
      images.close();
    }
  } finally {
    await work.dispose();
  }
}

async function trainOn(snapshot: Snapshot, images: ImageSource, dir: string, o: TrainStyleOptions) {
  const n = snapshot.items.length;
  const order = shuffle(Array.from({ length: n }, (_, i) => i), rng(o.seed + 1));
  const nVal = Math.round(n * o.valFraction);
  let valIdx = order.slice(0, nVal);
  let trainIdx = order.slice(nVal);
  if (o.tune) {
    const pool = shuffle(trainIdx.slice(), rng(o.seed + 3));
    const nCarve = Math.round(pool.length * o.valFraction);
    valIdx = pool.slice(0, nCarve);
    trainIdx = pool.slice(nCarve);
    o.log(`tuning: the ${nVal} held-out covers are not used; validating on a carve of ${nCarve} training covers`);
  }
  const val = imageRows(images, valIdx);
  const train = imageRows(images, trainIdx);
  const resume = o.checkpoint && existsSync(o.checkpoint) ? decodeCheckpoint(new Uint8Array(await readFile(o.checkpoint)), o.checkpoint) : undefined;

  const backend = await chooseTfjsBackend('wasm');
  const enc = StyleEncoder.create({ variant: o.variant, seed: o.seed, filters: o.filters, latent: o.latent, gramSize: o.gramSize });
  let shipped: StyleEncoder = enc;
  try {
    o.log(
      `training ${o.variant} (filters ${o.filters.join(',')}) on ${trainIdx.length} covers, validating on ${valIdx.length}, ${o.epochs} epochs, batch ${o.batchSize}, ` +
        `learning rate ${o.learningRate} ${o.schedule}${o.schedule === 'cosine' ? ` to ${o.minLearningRate}` : ''}${o.flip ? ', mirrored at random' : ''}, backend ${backend}`,
    );
    if (resume) o.log(`resuming from ${o.checkpoint} after epoch ${resume.epoch}`);
    const started = performance.now();
    const { epochs, seed, batchSize, learningRate, schedule, minLearningRate, flip } = o;
    let epochStarted = started;
    const history = await enc.train(
      train,
      val,
      {
        epochs, seed, batchSize, learningRate, schedule, minLearningRate, flip, resume,
        dataKey: `${snapshot.manifest.contentHash}${o.tune ? ':tune' : ''}`,
        onCheckpoint: o.checkpoint
          ? async (c) => {
              // Written next to the old one and renamed over it: a crash mid-write keeps the previous epoch's.
              await writeFile(`${o.checkpoint}.part`, encodeCheckpoint(c));
              await rename(`${o.checkpoint}.part`, o.checkpoint!);
            }
          : undefined,
      },
      (p) => {
        if (p.batch !== p.batches) return;
        const now = performance.now();
        o.progress?.(`epoch ${p.epoch}/${o.epochs} trained, ${((now - started) / 1000).toFixed(0)} s, ${(trainIdx.length / ((now - epochStarted) / 1000)).toFixed(1)} images/s`);
        epochStarted = now;
      },
    );
    const seconds = (performance.now() - started) / 1000;
    const ran = o.epochs - (resume?.epoch ?? 0);
    for (const h of history)
      o.log(`epoch ${h.epoch}: train_mse=${h.trainMse.toFixed(5)} val_mse=${h.valMse.toFixed(5)} loss=${h.trainLoss.toFixed(5)} lr=${h.learningRate.toPrecision(3)}`);
    o.log(`training: ${seconds.toFixed(0)} s for ${ran} epochs, ${ran ? ((trainIdx.length * ran) / seconds).toFixed(1) : '–'} images/s`);
    const trainedMse = history.at(-1)?.valMse ?? Number.NaN;

    // What the snapshot ships is the stored weights: for float16/int8 the rounded ones, so the validation MSE,
    // the vectors and the map below all come from the weights as a reader's browser will load them.
    const stored = await enc.store(o.dtype);
    if (o.dtype !== 'float32') shipped = StyleEncoder.load(stored);
    const valMse = shipped !== enc ? await shipped.meanSquaredError(val) : trainedMse;
    o.log(`weights: ${o.dtype}, ${stored.data.byteLength} bytes; validation MSE ${trainedMse.toFixed(5)} trained, ${valMse.toFixed(5)} as stored`);

    const { style: rawStyle, gram } = await shipped.embed(images);
    const latent = enc.config.latent;
    const style = normaliseRows(rawStyle, latent);

    const { points: map, clusters, laidOut } = buildStyleMap(style, latent, { minK: o.minK, maxK: o.maxK, seed: o.seed });
    if (laidOut < n) o.log(`style map: laid out on ${laidOut} titles, the other ${n - laidOut} placed among them`);
    o.log(`silhouette by K: ${clusters.curve.map((c) => `${c.k}:${c.silhouette.toFixed(3)}`).join(' ')}`);
    o.log(`chosen K=${clusters.best.k}`);

    // Genre agreement of the 10 nearest style neighbours against 10 random titles. The catch-all genres every
    // title carries (in more than half the catalog, e.g. "스토리") would make any neighbour agree, so they are left out.
    // On a large catalog, measured for a seeded sample of titles (their neighbours still come from all of them).
    const sampled = n <= AGREEMENT_SAMPLE ? undefined : new Set(shuffle(Array.from({ length: n }, (_, i) => i), rng(o.seed + 5)).slice(0, AGREEMENT_SAMPLE));
    const genres = snapshot.items.map((t) => t.genres);
    const counts = new Map<string, number>();
    for (const g of genres.flat()) counts.set(g, (counts.get(g) ?? 0) + 1);
    const ubiquitous = new Set([...counts].filter(([, c]) => c > n / 2).map(([g]) => g));
    const random = rng(o.seed + 2);
    const randomNeighbours = (i: number) => {
      const out: number[] = [];
      while (out.length < 10) {
        const j = Math.floor(random() * n);
        if (j !== i && !out.includes(j)) out.push(j);
      }
      return out;
    };
    const agreement = {
      ignored: [...ubiquitous],
      style: neighbourGenreAgreement(genres, 10, (i) => nearestRows(style, latent, i, 10), ubiquitous, sampled),
      gram: neighbourGenreAgreement(genres, 10, (i) => nearestRows(gram, enc.gramDim, i, 10), ubiquitous, sampled),
      random: neighbourGenreAgreement(genres, 10, randomNeighbours, ubiquitous, sampled),
    };
    o.log(
      `genre agreement of 10 nearest (ignoring ${agreement.ignored.join(', ') || 'none'}): style=${agreement.style.toFixed(3)} gram=${agreement.gram.toFixed(3)} random=${agreement.random.toFixed(3)}`,
    );

    if (o.write && !o.tune) {
      const params = { variant: o.variant, weightsHash: stored.hash, filters: o.filters.join(','), epochs: o.epochs, schedule: o.schedule, dtype: o.dtype, validationMse: valMse };
      await writeStyleSpaces(dir, snapshot, { style, latent, gram, gramDim: enc.gramDim, map, clusters, params, weights: stored });
      // The snapshot changed: the checkpoint could resume nothing any more.
      if (o.checkpoint) await rm(o.checkpoint, { force: true });
      o.log(`wrote style (${latent}-d), gram (${enc.gramDim}-d), weights ${stored.hash} (${o.dtype}, ${stored.data.byteLength} bytes) and the style map to ${dir}`);
    }
    return { backend, valMse, trainedMse, bytes: stored.data.byteLength, history, seconds, clusters, agreement };
  } finally {
    if (shipped !== enc) shipped.dispose();
    enc.dispose();
  }
}

function intArg(v: string | true | undefined, fallback: number, name: string): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number, got ${String(v)}`);
  return n;
}

const USAGE =
  'usage: npm run train:style -- --snapshot <dir> [--epochs N] [--filters a,b,c,d] [--latent 64] [--schedule constant|cosine] [--lr 0.001] [--min-lr 1e-5] ' +
  '[--batch 16] [--flip true|false] [--dtype float32|float16|int8] [--variant ae|vae] [--seed 0] [--gram-size 8] [--k 4..16] [--val 0.1] [--tune] [--dry-run]\n' +
  '(defaults: config.models.style)';

async function main() {
  const args = parseArgs(process.argv.slice(2), { snapshot: 'string', epochs: 'string', batch: 'string', dtype: 'string', filters: 'string', flip: 'string', k: 'string', latent: 'string', lr: 'string', 'min-lr': 'string', schedule: 'string', seed: 'string', tune: 'boolean', val: 'string', variant: 'string', 'dry-run': 'boolean', 'gram-size': 'string' });
  if (typeof args.snapshot !== 'string') {
    console.error(USAGE);
    process.exit(2);
  }
  const d = defaultConfig.models.style;
  const variant = (args.variant ?? 'ae') as StyleVariant;
  if (variant !== 'ae' && variant !== 'vae') throw new Error(`--variant must be ae or vae, got ${String(variant)}`);
  const filters = String(args.filters ?? d.filters.join(',')).split(',').map(Number) as TrainStyleOptions['filters'];
  const kRange = /^(\d+)\.\.(\d+)$/.exec(String(args.k ?? `${defaultStyleMapOptions.minK}..${defaultStyleMapOptions.maxK}`));
  if (!kRange) throw new Error(`--k must look like 4..16, got ${String(args.k)}`);
  const valFraction = args.val === undefined ? 0.1 : Number(args.val);
  if (!(valFraction > 0 && valFraction < 1)) throw new Error(`--val must be in (0, 1), got ${String(args.val)}`);
  const schedule = String(args.schedule ?? d.schedule) as StyleSchedule;
  if (schedule !== 'constant' && schedule !== 'cosine') throw new Error(`--schedule must be constant or cosine, got ${schedule}`);
  const dtype = String(args.dtype ?? d.dtype) as WeightsDtype;
  if (dtype !== 'float32' && dtype !== 'float16' && dtype !== 'int8') throw new Error(`--dtype must be float32, float16 or int8, got ${dtype}`);
  const numArg = (v: string | true | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!(x >= 0) || !Number.isFinite(x)) throw new Error(`--${name} must be a number ≥ 0, got ${String(v)}`);
    return x;
  };
  const learningRate = numArg(args.lr, 'lr') ?? d.learningRate;
  const r = await trainStyle(args.snapshot, {
    epochs: intArg(args.epochs, d.epochs, 'epochs'),
    batchSize: intArg(args.batch, d.batchSize, 'batch'),
    learningRate,
    schedule,
    minLearningRate: numArg(args['min-lr'], 'min-lr') ?? Math.min(d.minLearningRate, learningRate),
    dtype,
    flip: args.flip === undefined ? d.flip : args.flip === 'true',
    tune: args.tune === true,
    variant,
    seed: intArg(args.seed, d.seed, 'seed'),
    filters,
    latent: intArg(args.latent, d.latent, 'latent'),
    gramSize: intArg(args['gram-size'], d.gramSize, 'gram-size'),
    minK: Number(kRange[1]),
    maxK: Number(kRange[2]),
    valFraction,
    write: args['dry-run'] !== true,
    log: (line) => console.log(line),
    progress: (line) => console.error(line),
  });
  console.log(`backend=${r.backend}`);
  console.log(`validation_mse=${r.valMse}`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? '')) {
  main().catch((e) => {
    console.error(e instanceof Error ? `error: ${e.message}` : e);
    process.exit(1);
  });
}
