/** `npm run eval` end to end on small hand-made folders (written to a temp dir, not the repository). */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './helpers/paths.ts';

const run = promisify(execFile);
const tsx = path.join(repoRoot, 'node_modules/.bin/tsx');
const script = path.join(repoRoot, 'scripts/eval.ts');

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
let good: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'toonpick-eval-'));
  good = path.join(work, 'good');
  await mkdir(good);
  const genres = ['A', 'B', 'C'];
  const catalog = Array.from({ length: 30 }, (_, i) => JSON.stringify({ id: String(i + 1), title: `T${i + 1}`, genres: [genres[i % 3]] }));
  await writeFile(path.join(good, 'catalog.jsonl'), catalog.join('\n') + '\n');
  // 12 users, each rating 10 items (rating 5 on even steps, 4 on odd) at increasing times.
  const rows = ['user,item,rating,timestamp'];
  for (let u = 0; u < 12; u++) for (let n = 0; n < 10; n++) rows.push(`${u + 1},${((u * 7 + n * 3) % 30) + 1},${n % 2 ? 4 : 5},${1000 + u * 100 + n}`);
  await writeFile(path.join(good, 'interactions.csv'), rows.join('\n') + '\n');
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('scripts/eval.ts', () => {
  it('prints a K = 10 and a K = 20 table and writes the K report as JSON', async () => {
    const out = path.join(work, 'out.json');
    const r = await cli(['--data', good, '--json', out, '--methods', 'popular,itemknn,ease', '--lambda', '5']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/K = 10, 12 evaluated users/);
    expect(r.stdout).toMatch(/K = 20, 12 evaluated users/);
    expect(r.stdout).toMatch(/^popular\s+\d\.\d{4}/m);
    expect(r.stderr).toMatch(/ease: scored 12 users/);
    const json = JSON.parse(await readFile(out, 'utf8'));
    expect(json.k).toBe(10);
    expect(json.users).toBe(12);
    expect(Object.keys(json.methods)).toEqual(['popular', 'itemknn', 'ease']);
    expect(Object.keys(json.methods.ease)).toEqual(['hr', 'precision', 'recall', 'ndcg', 'map', 'coverage', 'novelty', 'unserendipity']);
    for (const v of Object.values(json.methods.ease)) expect(Number.isFinite(v)).toBe(true);
  }, 60_000);

  it('honours --k for the JSON report', async () => {
    const out = path.join(work, 'k5.json');
    const r = await cli(['--data', good, '--k', '5', '--json', out, '--methods', 'random', '--seed', '3']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/K = 5,/);
    expect(JSON.parse(await readFile(out, 'utf8')).k).toBe(5);
  }, 60_000);

  it('fails with a data error and exit code 1 for a missing folder or file', async () => {
    const missing = await cli(['--data', path.join(work, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/data error: catalog\.jsonl: could not be read/);
    const noInteractions = path.join(work, 'catalog-only');
    await mkdir(noInteractions);
    await writeFile(path.join(noInteractions, 'catalog.jsonl'), JSON.stringify({ id: '1', title: 'x', genres: [] }) + '\n');
    const r = await cli(['--data', noInteractions]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/data error: interactions\.csv: could not be read/);
  }, 60_000);

  it('fails with a data error for bad rows, and with a message for an unknown method', async () => {
    const bad = path.join(work, 'bad');
    await mkdir(bad);
    await writeFile(path.join(bad, 'catalog.jsonl'), JSON.stringify({ id: '1', title: 'x', genres: [] }) + '\n');
    await writeFile(path.join(bad, 'interactions.csv'), 'user,item,rating,timestamp\n1,2,5,100\n');
    const r = await cli(['--data', bad]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/data error: interactions\.csv, item 2/);
    const unknown = await cli(['--data', good, '--methods', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/unknown method "nope"/);
  }, 60_000);
});
