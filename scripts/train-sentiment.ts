/**
 * `npm run train:sentiment [-- --data <dir with nsmc-train.tsv and nsmc-dev.tsv>] [--out public/models/sentiment]`
 * Trains the review-note sentiment model (src/core/text/sentiment.ts) on NSMC's training file, reports its
 * accuracy on the dev file beside the word-lexicon baseline, and writes `sentiment.json` + `sentiment.i8`, which
 * the app serves from its own origin (runtime-cached, never precached: loaded only when a reader writes a note).
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DataError } from '../src/core/errors.ts';
import { accuracy, parseSentimentTsv, SentimentLexicon, SentimentModel } from '../src/core/text/sentiment.ts';
import { parseArgs } from './lib/node-io.ts';

export const DEFAULT_DATA = path.resolve(import.meta.dirname, '../../shared/data/nsmc');
export const DEFAULT_MODEL = path.resolve(import.meta.dirname, '../public/models/sentiment');

async function readTsv(file: string) {
  const text = await readFile(file, 'utf8').catch(() => {
    throw new DataError(file, 'could not be read');
  });
  return parseSentimentTsv(text, file);
}

async function main() {
  const args = parseArgs(process.argv.slice(2), { data: 'string', out: 'string', seed: 'string' });
  const data = args.data ?? DEFAULT_DATA;
  const out = args.out ?? DEFAULT_MODEL;
  const seed = args.seed === undefined ? 7 : Number(args.seed);
  const train = await readTsv(path.join(data, 'nsmc-train.tsv'));
  const dev = await readTsv(path.join(data, 'nsmc-dev.tsv'));
  const t0 = performance.now();
  const model = SentimentModel.train(train.texts, train.labels, { seed });
  const seconds = (performance.now() - t0) / 1000;
  const { spec, bytes } = model.store();
  // Accuracy of the shipped (int8) weights, not of the float ones.
  const shipped = SentimentModel.load(spec, bytes);
  const acc = accuracy(shipped.score(dev.texts), dev.labels);
  const baseline = accuracy(SentimentLexicon.build(train.texts, train.labels).classify(dev.texts), dev.labels);
  const stored = model.store({ data: 'NSMC (CC0), nsmc-train.tsv', examples: train.texts.length, seed, seconds: Number(seconds.toFixed(1)), devAccuracy: Number(acc.toFixed(4)), devLexiconBaseline: Number(baseline.toFixed(4)) });
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'sentiment.json'), JSON.stringify(stored.spec, null, 2) + '\n');
  await writeFile(path.join(out, 'sentiment.i8'), stored.bytes);
  console.log(`trained on ${train.texts.length} reviews in ${seconds.toFixed(1)} s; dev accuracy ${acc.toFixed(4)} (word-lexicon baseline ${baseline.toFixed(4)}); wrote ${out} (${stored.bytes.byteLength} bytes of weights)`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? '')) {
  main().catch((e) => {
    console.error(e instanceof DataError ? `error: ${e.message}` : e);
    process.exit(1);
  });
}
