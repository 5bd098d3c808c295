/**
 * Platform scale: synthetic catalogs (bench/synthetic-catalog.ts) built with the real snapshot builder, then
 * loaded and ranked as the page would. Each figure is a ratio against a baseline measured in the same run:
 * - load: `loadSnapshot` (hash, decode, validate) vs a plain read of the same files;
 * - recommend(), 20 likes: vs a plain sequential read of the bytes of the spaces it ranks with (the least any
 *   ranker that looks at every title must do);
 * - the Surprise slider: re-ranking the reader's ranking at another level vs a whole recommend().
 * `npm run bench -- --only scale --titles 10000,100000` (default 10000). Built snapshots are kept under the OS's
 * temporary folder, keyed by size and seed, so a second run skips the build.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fsReader } from '../scripts/lib/node-io.ts';
import { makeSnapshot } from '../scripts/snapshot.ts';
import { defaultConfig } from '../src/core/config.ts';
import type { HistoryEntry } from '../src/core/history.ts';
import { rng } from '../src/core/random.ts';
import { readerRanking, recommend } from '../src/core/ranker.ts';
import { rankerSettings } from '../src/core/rank/signals.ts';
import { loadSnapshot } from '../src/core/snapshot/load.ts';
import { median, type BenchRow } from './lib.ts';
import { writeSyntheticSource } from './synthetic-catalog.ts';

const SEED = 7;

export async function syntheticSnapshot(titles: number): Promise<string> {
  const dir = path.join(tmpdir(), `toonpick-bench-${titles}-${SEED}`);
  const out = path.join(dir, 'snapshot');
  if (!existsSync(path.join(out, 'manifest.json'))) {
    console.error(`building a ${titles.toLocaleString('en')}-title synthetic snapshot in ${out}…`);
    await writeSyntheticSource(titles, dir, SEED);
    await makeSnapshot({ source: dir, out, name: `synthetic ${titles}` });
  }
  return out;
}

export async function scaleBench(args: Record<string, string | true | undefined> = {}): Promise<BenchRow[]> {
  const sizes = typeof args.titles === 'string' ? args.titles.split(',').map(Number) : [10_000];
  const rows: BenchRow[] = [];
  const cfg = defaultConfig.ranker;
  for (const n of sizes) {
    const dir = await syntheticSnapshot(n);
    const label = `${n.toLocaleString('en')} titles`;
    const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
    const files = Object.entries(manifest.files as Record<string, { bytes: number }>);
    const total = files.reduce((s, [, f]) => s + f.bytes, 0);
    const spaces = files.filter(([p]) => p.startsWith('spaces/')).reduce((s, [, f]) => s + f.bytes, 0);
    rows.push({ bench: 'scale', case: `${label}: bytes per title, all files`, value: total / n, unit: 'B' });
    rows.push({ bench: 'scale', case: `${label}: bytes per title, spaces`, value: spaces / n, unit: 'B', ratio: spaces / total, baseline: 'of all files' });

    const plainRead = await median(() => Promise.all(files.map(([p]) => readFile(path.join(dir, p)))), { warmup: 1, runs: 5 });
    const snap = await loadSnapshot(fsReader(dir));
    const load = await median(() => loadSnapshot(fsReader(dir)), { warmup: 1, runs: 5 });
    rows.push({ bench: 'scale', case: `${label}: plain read of the snapshot's files`, value: plainRead, unit: 'ms' });
    rows.push({ bench: 'scale', case: `${label}: loadSnapshot (hash, decode, validate)`, value: load, unit: 'ms', ratio: load / plainRead, baseline: 'vs plain read' });
    const decoded = [...snap.spaces.values()].reduce((s, sp) => s + sp.data.byteLength + (sp.csr ? sp.csr.offsets.byteLength + sp.csr.cols.byteLength + sp.csr.values.byteLength + (sp.csr.table?.byteLength ?? 0) : 0), 0);
    rows.push({ bench: 'scale', case: `${label}: decoded rows in memory${[...snap.spaces.values()].some((sp) => sp.csr) ? ' (lexical sparse)' : ''}`, value: decoded / 2 ** 20, unit: 'MiB', ratio: decoded / spaces, baseline: 'vs their bytes on disk' });

    const random = rng(SEED);
    const history: HistoryEntry[] = Array.from({ length: 20 }, (_, i) => ({ id: snap.items[Math.floor(random() * n)].id, readAt: i, likedAt: i }));
    // The least a ranker that looks at every title must do: read the bytes of the spaces it ranks with (those with
    // a weight) once, in order, as 32-bit words.
    const weights = rankerSettings(snap, cfg).weights;
    const needed = [...snap.spaces.values()].filter((s) => (weights[s.name] ?? 0) > 0);
    const words = needed
      .flatMap((s) => (s.csr ? [s.csr.offsets, s.csr.cols, s.csr.values] : [s.data]))
      .map((a) => new Uint32Array(a.buffer, a.byteOffset & ~3, (a.byteLength + (a.byteOffset & 3)) >> 2));
    const pass = await median(() => {
      let s = 0;
      for (const w of words) for (let i = 0; i < w.length; i++) s = (s + w[i]) | 0;
      return s;
    }, { warmup: 2, runs: 9 });
    const rec = await median(() => recommend(snap, history, cfg, 24), { warmup: 2, runs: 9 });
    rows.push({ bench: 'scale', case: `${label}: plain read of the bytes it ranks with (${needed.map((s) => s.name).join(', ')})`, value: pass, unit: 'ms' });
    rows.push({ bench: 'scale', case: `${label}: recommend(), 20 likes`, value: rec, unit: 'ms', ratio: rec / pass, baseline: 'vs plain read' });

    const ranking = readerRanking(snap, history, cfg)!;
    ranking.list(cfg.serendipity.level, 24);
    let level = 0;
    // Each call moves the slider one step, as a reader dragging it does.
    const slider = await median(() => ranking.list((level = (level + 0.1) % 1.05), 24), { warmup: 3, runs: 21 });
    rows.push({ bench: 'scale', case: `${label}: Surprise slider re-rank`, value: slider, unit: 'ms', ratio: slider / rec, baseline: 'vs recommend()' });
  }
  return rows;
}
