/**
 * Offline evaluation CLI (shared/design/evaluation.md):
 *   npm run eval -- --data <dir> [--k 10] [--json out.json] [--methods a,b,...] [--lambda 250] [--seed 42] [--candidates K]
 * (--candidates: the sparse community model's candidates per column, for `ease-sparse`, and forcing `toonpick*` onto
 * the sparse model whatever the catalog's size.)
 * Reads a folder in the catalog source layout (catalog.jsonl + interactions.csv), splits it per user in time,
 * and prints one row per method at K and at K = 20 (the protocol's two cut-offs); --json writes the K report.
 * Progress goes to stderr so stdout stays the table.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DataError } from '../src/core/errors.ts';
import { parseCatalogJsonl, parseInteractionsCsv } from '../src/core/source.ts';
import { temporalSplit, type EvalSplit } from '../src/core/split.ts';
import { evaluate, type EvalReport } from '../src/core/eval/harness.ts';
import { createMethod, REFERENCE_METHODS } from '../src/core/eval/methods/index.ts';
import { parseArgs } from './lib/node-io.ts';

const USAGE = 'usage: npm run eval -- --data <dir> [--k 10] [--json out.json] [--methods a,b,...] [--lambda 250] [--seed 42] [--candidates K]';

function readText(dir: string, file: string): string {
  try {
    return readFileSync(path.join(dir, file), 'utf8');
  } catch (e) {
    throw new DataError(file, `could not be read from ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
}

/** Reads and splits a catalog source folder. */
function loadSplit(dir: string): EvalSplit {
  const items = parseCatalogJsonl(readText(dir, 'catalog.jsonl'));
  const interactions = parseInteractionsCsv(readText(dir, 'interactions.csv'), 'interactions.csv', new Set(items.map((i) => i.id)));
  if (interactions.length === 0) throw new DataError('interactions.csv', 'has no interactions');
  return temporalSplit(items, interactions);
}

function numberArg(args: Record<string, string | true | undefined>, key: string, fallback: number, integer: boolean): number {
  const raw = args[key];
  if (raw === undefined) return fallback;
  const v = Number(raw);
  if (raw === true || !Number.isFinite(v) || (integer && !Number.isInteger(v)) || v <= 0) throw new Error(`--${key} needs a positive ${integer ? 'integer' : 'number'}`);
  return v;
}

const COLUMNS: [key: string, head: string, digits: number][] = [
  ['hr', 'HR', 4],
  ['precision', 'P', 4],
  ['recall', 'R', 4],
  ['ndcg', 'NDCG', 4],
  ['map', 'MAP', 4],
  ['coverage', 'coverage', 4],
  ['novelty', 'novelty', 2],
  ['unserendipity', 'unser', 4],
];

function formatTable(report: EvalReport): string {
  const names = Object.keys(report.methods);
  const extra = [...new Set(names.flatMap((n) => Object.keys(report.methods[n]).filter((k) => k.startsWith('unserendipity_'))))];
  const cols: [string, string, number][] = [...COLUMNS, ...extra.map((k): [string, string, number] => [k, k.replace('unserendipity_', 'unser_'), 4])];
  const rows = [['method', ...cols.map((c) => c[1])], ...names.map((n) => [n, ...cols.map(([key, , d]) => {
    const v = (report.methods[n] as unknown as Record<string, number | undefined>)[key];
    return v === undefined ? '-' : v.toFixed(d);
  })])];
  const width = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(width[c]) : cell.padStart(width[c]))).join('  ');
  return [`K = ${report.k}, ${report.users} evaluated users`, line(rows[0]), ...rows.slice(1).map(line)].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const args = parseArgs(argv, { data: 'string', help: 'boolean', json: 'string', methods: 'string', seed: 'string', k: 'string', lambda: 'string', candidates: 'string' });
  if (args.help) {
    console.log(USAGE);
    return;
  }
  if (typeof args.data !== 'string') throw new Error(`--data <dir> is required\n${USAGE}`);
  const k = numberArg(args, 'k', 10, true);
  const lambda = numberArg(args, 'lambda', 250, false);
  const seed = args.seed === undefined ? 42 : Number(args.seed);
  if (!Number.isInteger(seed)) throw new Error('--seed needs an integer');
  const names = typeof args.methods === 'string' ? args.methods.split(',').map((s) => s.trim()).filter(Boolean) : [...REFERENCE_METHODS];
  const candidates = args.candidates === undefined ? undefined : numberArg(args, 'candidates', 128, true);
  const methods = names.map((n) => createMethod(n, { seed, lambda, ...(candidates ? { candidates } : {}), log: (m) => process.stderr.write(`  ${m}\n`) }));

  const started = performance.now();
  const split = loadSplit(path.resolve(args.data));
  process.stderr.write(`split: ${split.train.items.length} items, ${split.train.users.length} users, ${split.evaluated.length} evaluated\n`);

  const ks = [...new Set([k, 20])];
  const reports = await evaluate(split, methods, {
    ks,
    onProgress: (p) => {
      if (p.phase === 'fit') process.stderr.write(`${p.method}: fitting… (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
      else if (p.done === p.total) process.stderr.write(`${p.method}: scored ${p.total} users (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
    },
  });
  for (const r of reports) console.log(`${formatTable(r)}\n`);
  if (typeof args.json === 'string') {
    writeFileSync(args.json, JSON.stringify(reports[0], null, 2) + '\n');
    process.stderr.write(`wrote ${args.json}\n`);
  }
  process.stderr.write(`done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}

main(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e instanceof DataError ? `data error: ${e.message}` : `error: ${(e as Error).message}`);
  process.exit(1);
});
