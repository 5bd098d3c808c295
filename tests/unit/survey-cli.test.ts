/** `npm run eval:survey` end to end on the demo snapshot: the contract other tools read (table and --json). */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { defaultConfig } from '../../src/core/config.ts';
import type { SurveyReport } from '../../src/core/eval/survey.ts';
import { demoSnapshotDir, repoRoot } from './helpers/paths.ts';

const run = promisify(execFile);
const tsx = path.join(repoRoot, 'node_modules/.bin/tsx');
const script = path.join(repoRoot, 'scripts/eval-survey.ts');

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(tsx, [script, ...args], { cwd: repoRoot });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, stdout: err.stdout, stderr: err.stderr };
  }
}

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'toonpick-survey-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('npm run eval:survey', () => {
  it('prints the level and genre tables and writes the JSON report', async () => {
    const out = path.join(work, 'survey.json');
    const r = await cli(['--snapshot', demoSnapshotDir, '--json', out]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\| 0\.5 \(default\) \|/);
    expect(r.stdout).toMatch(/\| random \|/);
    expect(r.stdout).toMatch(/\| 로맨스 \(\d+\) \|/);
    const report = JSON.parse(await readFile(out, 'utf8')) as SurveyReport;
    expect(report.levels.map((l) => l.level)).toEqual([0, 0.25, defaultConfig.ranker.serendipity.level, 0.75, 1]);
    expect(report.readers).toBeGreaterThan(100);
    for (const l of [...report.levels, report.random]) {
      for (const k of ['precision', 'map', 'unserendipity'] as const) expect(l[k]).toBeGreaterThanOrEqual(0);
      expect(l.precision).toBeLessThanOrEqual(1);
    }
    for (const f of defaultConfig.ranker.survey.formatGenres) expect(report.genres.map((g) => g.genre)).not.toContain(f);
    // Precision falls as the level rises; the random base rate is far below every level up to the default.
    const p = report.levels.map((l) => l.precision);
    for (let i = 1; i < p.length; i++) expect(p[i]).toBeLessThanOrEqual(p[i - 1] + 1e-9);
    expect(report.levels[2].precision).toBeGreaterThan(3 * report.random.precision);
  });

  it('refuses a missing snapshot with a message naming the file, and bad arguments with the usage', async () => {
    const missing = await cli(['--snapshot', path.join(work, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/manifest\.json/);
    const usage = await cli([]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/usage: npm run eval:survey/);
  });
});
