/**
 * The whole fit of rank/tune.ts with the sequence model (tfjs): the evaluation's `toonpick` and
 * `npm run train:seq` run this. Kept apart from tune.ts so that code importing the snapshot builder never loads
 * TensorFlow.js.
 */
import type { RankerConfig } from '../config.ts';
import type { TrainData } from '../split.ts';
import { SequenceModel } from './sequence.ts';
import { chooseSequenceBackend, trainSequenceModel } from './sequence-train.ts';
import { preferredSequence, type Catalog, type Community, type LearnedRanker } from './signals.ts';
import { availableSpaces } from './signal/index.ts';
import { carveValidation, communityOf, finish, readersOf, validationSet, type ValidationSet } from './tune.ts';

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
export async function sequenceOf(train: TrainData, content: Catalog, cfg: RankerConfig, epochs: number, seed: number, from?: SequenceModel) {
  const genre = content.spaces.get('genre');
  const categories = genre ? ((genre.encoder.params?.vocabulary as string[] | undefined) ?? []) : [];
  const itemCats = genre ? genre.data : new Float32Array(train.items.length);
  const sequences = readersOf(train, cfg).map(preferredSequence);
  const run = await trainSequenceModel(
    { itemCount: train.items.length, categories, itemCategories: itemCats, sequences },
    { ...cfg.sequence, epochs, seed },
    undefined,
    from?.weights,
  );
  return { model: new SequenceModel(run.spec, run.weights, itemCats, train.items.length), loss: run.losses.at(-1) ?? NaN, seconds: run.seconds };
}

/**
 * Steps 1–4 above. `content` holds the catalog's titles and content spaces (built with the snapshot builder's
 * code); `sequence: false` skips the sequence model (a catalog without enough ordered histories).
 */
export async function fitRanker(train: TrainData, content: Catalog, cfg: RankerConfig, opts: { sequence: boolean; seed: number; onProgress?: (p: FitProgress) => void }): Promise<FittedRanker> {
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
    innerRun = await sequenceOf(carve.train, content, cfg, cfg.sequence.epochs, opts.seed);
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
    const finalRun = await sequenceOf(train, content, cfg, cfg.sequence.fineTuneEpochs, opts.seed + 1, innerRun.model);
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
