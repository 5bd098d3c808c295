import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { DataError } from '../../src/core/errors.ts';
import { parseSentimentTsv, SentimentModel } from '../../src/core/text/sentiment.ts';
import { DEFAULT_DATA, DEFAULT_MODEL } from '../../scripts/train-sentiment.ts';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

async function shipped(): Promise<SentimentModel> {
  const spec = JSON.parse(await readFile(path.join(DEFAULT_MODEL, 'sentiment.json'), 'utf8'));
  return SentimentModel.load(spec, new Uint8Array(await readFile(path.join(DEFAULT_MODEL, 'sentiment.i8'))));
}

describe('review-note sentiment', () => {
  it('eval:sentiment keeps its contract and the shipped model beats the lexicon baseline on NSMC dev (≥ 0.82)', async () => {
    const out = path.join(await mkdtemp(path.join(tmpdir(), 'toonpick-sent-')), 'report.json');
    await run('npx', ['tsx', 'scripts/eval-sentiment.ts', '--data', path.join(DEFAULT_DATA, 'nsmc-dev.tsv'), '--json', out], { cwd: root });
    const report = JSON.parse(await readFile(out, 'utf8'));
    expect(Object.keys(report)).toEqual(['n', 'accuracy', 'baseline']);
    expect(report.n).toBe(3000);
    expect(report.accuracy).toBeGreaterThanOrEqual(0.82);
    expect(report.baseline).toBeLessThan(0.8);
    expect(report.accuracy - report.baseline).toBeGreaterThan(0.05);
  }, 120_000);

  it('the shipped weights are what train:sentiment makes from NSMC train (deterministic), at ≤ 1.5 MB', async () => {
    const train = parseSentimentTsv(await readFile(path.join(DEFAULT_DATA, 'nsmc-train.tsv'), 'utf8'), 'train');
    const again = SentimentModel.train(train.texts, train.labels, { seed: 7 }).store();
    const bytes = new Uint8Array(await readFile(path.join(DEFAULT_MODEL, 'sentiment.i8')));
    expect(Buffer.from(again.bytes).equals(Buffer.from(bytes))).toBe(true);
    expect(bytes.byteLength).toBeLessThanOrEqual(1.5e6);
  }, 60_000);

  it('reads reader notes in the register it was trained on', async () => {
    const m = await shipped();
    const [good, bad, mixed] = m.score(['그림체 최고! 매주 기다려져요', '스토리 늘어지고 시간 낭비였음 최악', '중반이 늘어지지만 그림은 최고']);
    expect(good).toBeGreaterThan(0.7);
    expect(bad).toBeLessThan(0.3);
    expect(mixed).toBeGreaterThan(bad);
    expect(mixed).toBeLessThan(good);
  });

  it('refuses a damaged model or data file, naming it', async () => {
    const spec = JSON.parse(await readFile(path.join(DEFAULT_MODEL, 'sentiment.json'), 'utf8'));
    const bytes = new Uint8Array(await readFile(path.join(DEFAULT_MODEL, 'sentiment.i8')));
    expect(() => SentimentModel.load(spec, bytes.subarray(0, 100))).toThrow(/sentiment\.i8: holds 100 bytes/);
    expect(() => SentimentModel.load({ ...spec, scale: 'x' }, bytes)).toThrow(DataError);
    expect(() => SentimentModel.load({ ...spec, dim: 1000 }, bytes)).toThrow(/field "dim"/);
    expect(() => parseSentimentTsv('text\tscore\nfoo\t1\n', 'x.tsv')).toThrow(/x\.tsv: needs a header with "document" and "label"/);
    expect(() => parseSentimentTsv('document\tlabel\nfoo\t5\n', 'x.tsv')).toThrow(/line 2: label must be 0 or 1/);
    const bad = path.join(await mkdtemp(path.join(tmpdir(), 'toonpick-sent-')), 'bad.tsv');
    await writeFile(bad, 'document\tlabel\nok\t1\n');
    await expect(run('npx', ['tsx', 'scripts/eval-sentiment.ts', '--data', bad, '--model', '/nonexistent'], { cwd: root })).rejects.toThrow(/sentiment\.json: could not be read/);
  }, 60_000);
});
