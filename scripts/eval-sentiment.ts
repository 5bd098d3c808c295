/**
 * `npm run eval:sentiment -- --data <tsv with document and label columns> [--json out.json] [--model <dir>]
 *   [--train <tsv the baseline lexicon is built from>]`
 * Scores the shipped sentiment model (public/models/sentiment) on a labelled file and prints, and writes with
 * --json, exactly `{"n": …, "accuracy": …, "baseline": …}` — baseline: the word lexicon built from NSMC's
 * training file (src/core/text/sentiment.ts).
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DataError } from '../src/core/errors.ts';
import { accuracy, parseSentimentTsv, SentimentLexicon, SentimentModel } from '../src/core/text/sentiment.ts';
import { parseArgs } from './lib/node-io.ts';
import { DEFAULT_DATA, DEFAULT_MODEL } from './train-sentiment.ts';

const USAGE = 'usage: npm run eval:sentiment -- --data <tsv with document and label columns> [--json out.json] [--model <dir>] [--train <tsv>]';

async function read(file: string): Promise<string> {
  return readFile(file, 'utf8').catch(() => {
    throw new DataError(file, 'could not be read');
  });
}

export async function evalSentiment(opts: { data: string; model?: string; train?: string }): Promise<{ n: number; accuracy: number; baseline: number }> {
  const model = opts.model ?? DEFAULT_MODEL;
  const specFile = path.join(model, 'sentiment.json');
  let spec: unknown;
  try {
    spec = JSON.parse(await read(specFile));
  } catch (e) {
    throw e instanceof DataError ? e : new DataError(specFile, `is not valid JSON (${(e as Error).message})`);
  }
  const weights = await readFile(path.join(model, 'sentiment.i8')).catch(() => {
    throw new DataError(path.join(model, 'sentiment.i8'), 'could not be read');
  });
  const sentiment = SentimentModel.load(spec, new Uint8Array(weights), specFile);
  const test = parseSentimentTsv(await read(opts.data), opts.data);
  const trainFile = opts.train ?? path.join(DEFAULT_DATA, 'nsmc-train.tsv');
  const train = parseSentimentTsv(await read(trainFile), trainFile);
  return {
    n: test.texts.length,
    accuracy: accuracy(sentiment.score(test.texts), test.labels),
    baseline: accuracy(SentimentLexicon.build(train.texts, train.labels).classify(test.texts), test.labels),
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2), { data: 'string', json: 'string', model: 'string', train: 'string' });
  if (!args.data) {
    console.error(USAGE);
    process.exit(2);
  }
  const report = await evalSentiment({ data: args.data, model: args.model, train: args.train });
  console.log(JSON.stringify(report));
  if (args.json) await writeFile(args.json, JSON.stringify(report, null, 2) + '\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? '')) {
  main().catch((e) => {
    console.error(e instanceof DataError ? `error: ${e.message}` : e);
    process.exit(1);
  });
}
