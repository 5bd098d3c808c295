/**
 * The whole fit of rank/tune.ts with the sequence model (tfjs): the evaluation's `toonpick` and
 * `npm run train:seq` run this. Kept apart from tune.ts so that code importing the snapshot builder never loads
 * TensorFlow.js.
 */
import type { RankerConfig } from '../config.ts';
import type { TrainData } from '../split.ts';
import { SequenceModel } from './sequence.ts';
import { chooseSequenceBackend, packSequences, trainSequenceModel, type SequenceSource, type SequenceTrainRun } from './sequence-train.ts';
import { preferredSequence, type Catalog, type Community, type LearnedRanker } from './signals.ts';
import { availableSpaces } from './signal/index.ts';
import { carveValidation, communityOf, finish, validationSet, type ValidationSet } from './tune.ts';
import { readingsFromEvents } from './reader.ts';

/** The two sequence-model runs of a fit: on the validation carve, then continued on all the data. */
export type SequenceStage = 'validation' | 'final';

/** How a fit keeps its sequences and checkpoints (train:seq: in a file, with a checkpoint per epoch). */
export interface SequenceHooks {
  /** Where the readers' sequences are kept while training (default: packed in memory). */
  store?: (stage: SequenceStage, sequences: Iterable<number[]>) => Promise<SequenceSource>;
  /** Checkpoint callbacks and a checkpoint to resume from, per stage. */
  run?: (stage: SequenceStage) => Promise<Pick<SequenceTrainRun, 'onCheckpoint' | 'resume' | 'dataKey'>>;
  /** After each epoch: the stage, epoch (1-based), its loss and the titles per second read so far. */
  onEpoch?: (p: { stage: SequenceStage; epoch: number; epochs: number; loss: number; tokensPerSecond: number }) => void;
}

export interface FitProgress {
  step: string;
  seconds: number;
}

export interface FittedRanker {
  community: Community;
  sequence?: SequenceModel;
  validation: ValidationSet;
  /** What step 3 chose over every space (the catalog's `community.learned`). */
  learned?: LearnedRanker;
  /** The sequence model's training run: epochs and the last epoch's loss, per stage. */
  sequenceTraining?: { backend: string; validation: { epochs: number; loss: number; seconds: number }; final: { epochs: number; loss: number; seconds: number } };
}

/** Trains (or, with `from`, continues) the sequence model on the readers' preferred sequences. */
export async function sequenceOf(train: TrainData, content: Catalog, cfg: RankerConfig, epochs: number, seed: number, from?: SequenceModel, stage: SequenceStage = 'validation', hooks: SequenceHooks = {}) {
  const genre = content.spaces.get('genre');
  const categories = genre ? ((genre.encoder.params?.vocabulary as string[] | undefined) ?? []) : [];
  const itemCats = genre ? genre.data : new Float32Array(train.items.length);
  // One reader's sequence at a time, into the store: never a JS array per reader for the whole community.
  const readers = function* () {
    for (const u of train.users) yield preferredSequence(readingsFromEvents(u.history, train.implicit, cfg));
  };
  const sequences = await (hooks.store ?? (async (_s, seqs) => packSequences(seqs)))(stage, readers());
  const started = performance.now();
  let tokens = 0;
  let done = 0; // epochs run in this process (a resumed run skips the others)
  for (const l of sequences.lengths) if (l >= 2) tokens += l;
  const run = await trainSequenceModel({ itemCount: train.items.length, categories, itemCategories: itemCats, sequences }, { ...cfg.sequence, epochs, seed }, {
    ...(await hooks.run?.(stage)),
    from: from?.weights,
    onEpoch: (epoch, loss) => {
      hooks.onEpoch?.({ stage, epoch: epoch + 1, epochs, loss, tokensPerSecond: (++done * tokens) / ((performance.now() - started) / 1000) });
    },
  });
  return { model: new SequenceModel(run.spec, run.weights, itemCats, train.items.length), loss: run.losses.at(-1) ?? NaN, seconds: run.seconds };
}

/**
 * Steps 1–4 above. `content` holds the catalog's titles and content spaces (built with the snapshot builder's
 * code); `sequence: false` skips the sequence model (a catalog without enough ordered histories).
 */
export async function fitRanker(train: TrainData, content: Catalog, cfg: RankerConfig, opts: { sequence: boolean; seed: number; onProgress?: (p: FitProgress) => void; sequenceHooks?: SequenceHooks }): Promise<FittedRanker> {
  const started = performance.now();
  const step = (s: string) => opts.onProgress?.({ step: s, seconds: (performance.now() - started) / 1000 });

  const carve = carveValidation(train);
  step(`carved ${carve.evaluated.length} validation readers`);
  const inner: Catalog = { ...content, community: communityOf(carve.train, content, cfg) };
  step('community model on the carved data');
  let backend = '';
  let innerRun: Awaited<ReturnType<typeof sequenceOf>> | undefined;
  if (opts.sequence) {
    backend = await chooseSequenceBackend();
    innerRun = await sequenceOf(carve.train, content, cfg, cfg.sequence.epochs, opts.seed, undefined, 'validation', opts.sequenceHooks);
    inner.sequence = innerRun.model;
    step(`sequence model on the carved data (${backend}, ${cfg.sequence.epochs} epochs, loss ${innerRun.loss.toFixed(3)})`);
  }
  const validation = validationSet(inner, carve, cfg);
  step(`community settings: half-life ${validation.halfLifeShare} of the history, taste weight ${validation.ratingWeight} (validation NDCG@10 of cf alone ${validation.cfNdcg.toFixed(4)})`);
  const { community, learned } = finish(train, content, cfg, validation, availableSpaces(inner));
  if (learned) step(`fusion: ${Object.entries(learned.weights).map(([s, w]) => `${s} ${w.toFixed(2)}`).join(', ')}, τ ${learned.temperature} (validation NDCG@10 ${learned.validation.ndcg.toFixed(4)})`);
  else step('fusion: nobody has enough positives to validate on; the config weights stay');
  step('community model on all the data');
  let sequence: SequenceModel | undefined;
  let sequenceTraining: FittedRanker['sequenceTraining'];
  if (opts.sequence && innerRun) {
    const finalRun = await sequenceOf(train, content, cfg, cfg.sequence.fineTuneEpochs, opts.seed + 1, innerRun.model, 'final', opts.sequenceHooks);
    sequence = finalRun.model;
    sequenceTraining = {
      backend,
      validation: { epochs: cfg.sequence.epochs, loss: innerRun.loss, seconds: innerRun.seconds },
      final: { epochs: cfg.sequence.fineTuneEpochs, loss: finalRun.loss, seconds: finalRun.seconds },
    };
    step(`sequence model continued on all the data (${cfg.sequence.fineTuneEpochs} epochs, loss ${finalRun.loss.toFixed(3)})`);
  }
  return { community, sequence, validation, learned, sequenceTraining };
}
