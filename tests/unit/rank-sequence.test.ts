import { describe, it, expect, beforeAll } from 'vitest';
import { defaultConfig } from '../../src/core/config.ts';
import { DataError } from '../../src/core/errors.ts';
import { readingsFromEvents } from '../../src/core/rank/reader.ts';
import { SequenceModel } from '../../src/core/rank/sequence.ts';
import { chooseSequenceBackend, packSequences, tfjsScores, trainSequenceModel, type SequenceTrainOptions } from '../../src/core/rank/sequence-train.ts';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/core/train/checkpoint.ts';
import { preferredSequence } from '../../src/core/rank/signals.ts';
import { genreSpace } from '../../src/core/snapshot/build.ts';
import { temporalSplit } from '../../src/core/split.ts';
import { TITLES, worldInteractions, worldItems } from './helpers/rank-world.ts';

const items = worldItems();
const genre = genreSpace(items.map((it) => ({ genres: it.genres })));
const categories = genre.encoder.params!.vocabulary as string[];
const train = temporalSplit(items, worldInteractions(), { minPositives: Number.POSITIVE_INFINITY }).train;
const sequences = train.users.map((u) => preferredSequence(readingsFromEvents(u.history, false, defaultConfig.ranker)));
const input = { itemCount: TITLES, categories, itemCategories: genre.data, sequences };
// Small and quick, but the same network and training task as the default.
const opts: SequenceTrainOptions = { ...defaultConfig.ranker.sequence, maxLength: 12, window: 12, epochs: 25, seed: 5 };

let model: SequenceModel;
let weights: Float32Array;
let losses: number[];

beforeAll(async () => {
  await chooseSequenceBackend();
  const run = await trainSequenceModel(input, opts);
  weights = run.weights;
  losses = run.losses;
  model = new SequenceModel(run.spec, run.weights, genre.data, TITLES);
}, 120_000);

describe('sequence model', () => {
  it('learns the reading order: after titles 10–17 it expects one of the next few', () => {
    expect(losses.at(-1)!).toBeLessThan(losses[0] - 0.5);
    const history = [10, 11, 12, 13, 14, 15, 16, 17];
    const scores = model.scores(history);
    const best = [...scores.keys()].filter((i) => !history.includes(i)).sort((a, b) => scores[b] - scores[a])[0];
    expect([18, 19, 20]).toContain(best);
  });

  it('runs the trained network: the pure-TypeScript scores equal the tfjs forward pass', async () => {
    // The last history is longer than maxLength − 1: both paths must read only its latest titles.
    const histories = [[3], [7, 8, 9], [20, 21, 23, 24, 25], Array.from({ length: 30 }, (_, i) => (i * 7) % TITLES)];
    const reference = await tfjsScores(model.spec, weights, genre.data, histories);
    histories.forEach((h, b) => {
      const ours = model.scores(h);
      let worst = 0;
      for (let i = 0; i < TITLES; i++) worst = Math.max(worst, Math.abs(ours[i] - reference[b][i]));
      expect(worst).toBeLessThan(1e-3);
    });
  });

  it('is deterministic for a fixed seed', async () => {
    const again = await trainSequenceModel(input, { ...opts, epochs: 3 });
    const same = await trainSequenceModel(input, { ...opts, epochs: 3 });
    const other = await trainSequenceModel(input, { ...opts, epochs: 3, seed: 6 });
    expect(Array.from(same.weights)).toEqual(Array.from(again.weights));
    expect(Array.from(other.weights)).not.toEqual(Array.from(again.weights));
  }, 60_000);

  it('reads its sequences from a source a batch at a time, and resumes from a checkpoint to the same weights', async () => {
    const short = { ...opts, epochs: 4, dropout: 0.1 };
    const straight = await trainSequenceModel(input, short);
    const reads: number[] = [];
    const packed = packSequences(sequences);
    const source = { lengths: packed.lengths, read: (rows: readonly number[]) => (reads.push(rows.length), packed.read(rows)) };
    const files: Uint8Array[] = [];
    const firstTwo = await trainSequenceModel({ ...input, sequences: source }, short, {
      dataKey: 'world',
      onCheckpoint: (c) => {
        if (c.epoch <= 2) files.push(encodeCheckpoint(c)); // the job is killed during epoch 3
      },
    });
    expect(Array.from(firstTwo.weights)).toEqual(Array.from(straight.weights)); // a source trains as the array does
    expect(Math.max(...reads)).toBeLessThanOrEqual(short.batchSize);
    const resumed = await trainSequenceModel({ ...input, sequences: source }, short, { dataKey: 'world', resume: decodeCheckpoint(files[1], 'seq.ckpt') });
    expect(Array.from(resumed.weights)).toEqual(Array.from(straight.weights));
    expect(resumed.losses).toEqual(straight.losses);
    await expect(trainSequenceModel({ ...input, sequences: source }, { ...short, learningRate: 0.01 }, { dataKey: 'world', resume: decodeCheckpoint(files[1], 'seq.ckpt') })).rejects.toThrow(
      /seq\.ckpt, field "learningRate": belongs to another run: learningRate is 0\.005 there and 0\.01 here/,
    );
  }, 120_000);

  it('refuses to run on a catalog with another number of titles', () => {
    expect(() => new SequenceModel(model.spec, weights, new Float32Array((TITLES + 1) * categories.length), TITLES + 1)).toThrow(DataError);
    expect(() => new SequenceModel(model.spec, weights, new Float32Array((TITLES + 1) * categories.length), TITLES + 1)).toThrow(/trained for 40 titles but this catalog has 41/);
    expect(() => new SequenceModel(model.spec, weights.subarray(1), genre.data, TITLES)).toThrow(/weights/);
    expect(() => model.scores([TITLES + 3])).toThrow(RangeError);
  });
});
