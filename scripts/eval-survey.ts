/**
 * npm run eval:survey -- --snapshot <dir> [--json out.json]
 *
 * Survey-style evaluation of a snapshot with no reading histories needed (src/core/eval/survey.ts): seeded
 * pseudo-readers who like a few titles of one taste genre, ranked by the app's own ranker at serendipity levels
 * 0, 0.25, the default, 0.75 and 1; genre precision@10, MAP@10 and genre unserendipity per level and per genre,
 * beside a random list's. The readers reported here are the half the serendipity calibration never saw.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultConfig } from '../src/core/config.ts';
import { DataError } from '../src/core/errors.ts';
import { serendipityStrength } from '../src/core/rank/calibrate.ts';
import { rankerSettings } from '../src/core/rank/signals.ts';
import { surveyEvaluation, type SurveyReport } from '../src/core/eval/survey.ts';
import { loadSnapshot } from '../src/core/snapshot/load.ts';
import { fsReader, parseArgs } from './lib/node-io.ts';

const USAGE = 'usage: npm run eval:survey -- --snapshot <dir> [--json out.json]';

export async function evalSurvey(snapshotDir: string): Promise<SurveyReport> {
  const cfg = defaultConfig.ranker;
  const snapshot = await loadSnapshot(fsReader(snapshotDir));
  const strength = rankerSettings(snapshot, cfg).strength ?? serendipityStrength(snapshot, cfg);
  const def = cfg.serendipity.level;
  const levels = [...new Set([0, 0.25, def, 0.75, 1])].sort((a, b) => a - b);
  return surveyEvaluation(snapshot, cfg, { levels, strength, snapshot: path.resolve(snapshotDir) });
}

const f = (x: number) => x.toFixed(3);

export function formatSurvey(r: SurveyReport): string {
  const def = defaultConfig.ranker.serendipity.level;
  const lines = [
    `survey: ${r.readers} pseudo-readers (${r.likes} likes in one taste genre each, seed ${r.seed}), serendipity price ${r.strength.toFixed(3)}`,
    '',
    '| level | precision@10 | MAP@10 | unserendipity (genre) |',
    '| --- | --- | --- | --- |',
    ...r.levels.map((l) => `| ${l.level}${l.level === def ? ' (default)' : ''} | ${f(l.precision)} | ${f(l.map)} | ${f(l.unserendipity)} |`),
    `| random | ${f(r.random.precision)} | ${f(r.random.map)} | ${f(r.random.unserendipity)} |`,
    '',
    `| genre (titles) | ${r.levels.map((l) => `P@10 at ${l.level}`).join(' | ')} |`,
    `| --- | ${r.levels.map(() => '---').join(' | ')} |`,
    ...r.genres.map((g) => `| ${g.genre} (${g.titles}) | ${g.levels.map((l) => f(l.precision)).join(' | ')} |`),
  ];
  return lines.join('\n');
}

async function main() {
  const args = parseArgs(process.argv.slice(2), { json: 'string', snapshot: 'string' });
  if (typeof args.snapshot !== 'string' || (args.json !== undefined && typeof args.json !== 'string')) {
    console.error(USAGE);
    process.exit(2);
  }
  const report = await evalSurvey(args.snapshot);
  console.log(formatSurvey(report));
  if (typeof args.json === 'string') await writeFile(args.json, JSON.stringify(report, null, 2) + '\n');
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? '')) {
  main().catch((e) => {
    console.error(e instanceof DataError ? `error: ${e.message}` : `error: ${(e as Error).message}`);
    process.exit(1);
  });
}
