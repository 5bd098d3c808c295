/**
 * npm run bench — every benchmark, printed as one table of medians and ratios against a baseline
 * measured in the same run (absolute times depend on the machine; ratios travel).
 * `npm run bench -- --only ranking` runs one; `--titles 10000,100000` sets the scale bench's catalog sizes,
 * `--cases 1000x10,100000x10` the build bench's (titles × events per title), `--visits N` the browser bench's visits
 * of each kind per catalog (medians).
 */
import { parseArgs } from '../scripts/lib/node-io.ts';
import { printRows, type BenchRow } from './lib.ts';
import { rankingBench } from './ranking.ts';
import { styleBench } from './style.ts';
import { scaleBench } from './scale.ts';
import { browserScaleBench } from './browser-scale.ts';
import { styleMapBench } from './style-map.ts';
import { buildBench } from './build.ts';

const BENCHES: Record<string, (args: Record<string, string | true | undefined>) => Promise<BenchRow[]>> = {
  ranking: rankingBench,
  style: styleBench,
  scale: scaleBench,
  browser: browserScaleBench,
  stylemap: styleMapBench,
  build: buildBench,
};

const args = parseArgs(process.argv.slice(2), { only: 'string', titles: 'string', cases: 'string', visits: 'string' });
const only = typeof args.only === 'string' ? args.only.split(',') : Object.keys(BENCHES);
const rows: BenchRow[] = [];
for (const name of only) {
  const bench = BENCHES[name];
  if (!bench) throw new Error(`unknown benchmark "${name}" (have: ${Object.keys(BENCHES).join(', ')})`);
  console.error(`running ${name}…`);
  rows.push(...(await bench(args)));
}
printRows(rows);
