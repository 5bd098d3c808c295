/**
 * `npm run bench -- --only build [--cases 1000x10,10000x10,1000x100,10000x100]`: the snapshot builder at platform
 * scale. Each case is a synthetic catalog (bench/synthetic-catalog.ts: power-law popularity, real genre mixes,
 * readers with a favourite genre) of `titles` titles and `perTitle` reading events per title, built by the real
 * builder in a child process (so its peak memory is its own). Ratios: build wall time against the floor — reading
 * and parsing interactions.csv once, in the same run. The last rows are log-log growth exponents of build time in
 * titles (same events per title) and in events (same titles): ≤ 1 is linear or better.
 * `--cases 100000x10` is the 100k-title, 1M-event case (a few minutes); sources are kept in the OS's
 * temporary folder, keyed by size and seed.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseInteractionsCsv } from '../src/core/source.ts';
import type { BenchRow } from './lib.ts';
import { writeSyntheticSource } from './synthetic-catalog.ts';

const SEED = 7;
const run = promisify(execFile);

async function source(titles: number, perTitle: number): Promise<string> {
  const dir = path.join(tmpdir(), `toonpick-build-${titles}x${perTitle}-${SEED}`);
  if (!existsSync(path.join(dir, 'interactions.csv'))) await writeSyntheticSource(titles, dir, SEED, perTitle);
  return dir;
}

/** The floor: interactions.csv read and parsed once (what any builder must at least do). */
async function readOnce(dir: string): Promise<number> {
  const t0 = performance.now();
  parseInteractionsCsv(await readFile(path.join(dir, 'interactions.csv'), 'utf8'));
  return (performance.now() - t0) / 1000;
}

/** Builds in a child process; its own wall time and peak resident memory. */
async function build(dir: string): Promise<{ seconds: number; peakMiB: number }> {
  const child = path.join(import.meta.dirname, 'build-child.ts');
  const { stdout } = await run(process.execPath, ['--import', 'tsx', child, dir, path.join(dir, 'snapshot')], { maxBuffer: 1 << 24 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

export async function buildBench(args: Record<string, string | true | undefined> = {}): Promise<BenchRow[]> {
  const cases = (typeof args.cases === 'string' ? args.cases : '1000x10,10000x10,1000x100,10000x100').split(',').map((c) => {
    const [titles, per] = c.split('x').map(Number);
    if (!(titles > 0 && per > 0)) throw new Error(`--cases: "${c}" is not <titles>x<events per title>`);
    return { titles, per };
  });
  const rows: BenchRow[] = [];
  const measured: Array<{ titles: number; per: number; seconds: number }> = [];
  for (const { titles, per } of cases) {
    const dir = await source(titles, per);
    const floor = await readOnce(dir);
    console.error(`building ${titles.toLocaleString('en')} titles × ${per} events…`);
    const b = await build(dir);
    const label = `${titles.toLocaleString('en')} titles, ${(titles * per).toLocaleString('en')} events`;
    rows.push({ bench: 'build', case: `${label}: read once (floor)`, value: floor, unit: 's' });
    rows.push({ bench: 'build', case: `${label}: build`, value: b.seconds, unit: 's', ratio: b.seconds / floor, baseline: 'of the floor' });
    rows.push({ bench: 'build', case: `${label}: peak memory`, value: b.peakMiB, unit: 'MiB', info: true });
    // What a reader's device downloads per title at most (every file the manifest lists; synopsis pages included).
    const manifest = JSON.parse(await readFile(path.join(dir, 'snapshot', 'manifest.json'), 'utf8')) as { files: Record<string, { bytes: number }> };
    const files = Object.entries(manifest.files);
    const perTitle = (match: (p: string) => boolean) => files.filter(([p]) => match(p)).reduce((s, [, f]) => s + f.bytes, 0) / titles;
    rows.push({ bench: 'build', case: `${label}: bytes per title, all files`, value: perTitle(() => true), unit: 'B', info: true });
    rows.push({ bench: 'build', case: `${label}: bytes per title, community model`, value: perTitle((p) => p.startsWith('community/')), unit: 'B', info: true });
    measured.push({ titles, per, seconds: b.seconds });
  }
  // Growth exponents on the log-log table: d log(time) / d log(size) between neighbouring cases.
  for (const a of measured) {
    for (const b of measured) {
      if (b.titles > a.titles && b.per === a.per)
        rows.push({ bench: 'build', case: `growth in titles ${a.titles}→${b.titles} (×${a.per})`, value: Math.log(b.seconds / a.seconds) / Math.log(b.titles / a.titles), unit: 'exp', info: true });
      if (b.per > a.per && b.titles === a.titles)
        rows.push({ bench: 'build', case: `growth in events ${a.per}→${b.per}/title (${a.titles})`, value: Math.log(b.seconds / a.seconds) / Math.log(b.per / a.per), unit: 'exp', info: true });
    }
  }
  return rows;
}
