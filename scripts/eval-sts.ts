/**
 * npm run eval:sts -- --data ../shared/data/korsts [--model <id or folder> [--local-model-path <dir>]] [--snapshot public/snapshot] [--json out.json]
 *
 * How well each text space measures meaning, as the webtoon paper reports it: Pearson and Spearman
 * correlation between the cosine of two sentences' vectors and the gold score, on KorSTS sts-test.tsv.
 * Spaces: `lexical` (with the snapshot's IDF table, as the app embeds queries), the tiny fixture model,
 * any --model, and each model with its domain adapter: the snapshot's adapter when its sts space was made
 * by that model, else one trained here with train:adapter's settings (KorSTS train + the snapshot's
 * augmented synopses, epoch picked on dev).
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defaultConfig } from '../src/core/config.ts';
import { DataError } from '../src/core/errors.ts';
import { lexicalEncoderOf } from '../src/core/search.ts';
import { loadSnapshot } from '../src/core/snapshot/load.ts';
import type { Snapshot } from '../src/core/snapshot/snapshot.ts';
import { SynopsisAdapter } from '../src/core/text/adapter.ts';
import { trainAdapter } from '../src/core/text/adapter-train.ts';
import { stsFigures, type StsFigures } from '../src/core/text/sts.ts';
import { STS_SPACE, stsSpaceMatches } from '../src/core/text/sts-space.ts';
import { fsReader, parseArgs } from './lib/node-io.ts';
import { FIXTURE_MODEL, adapterData, embedAll, embedPairs, loadEncoder, loadKorSts, modelArgs, trainingBackend, type ModelArgs } from './lib/text-model.ts';

export const DEMO_SNAPSHOT = path.resolve(import.meta.dirname, '../public/snapshot');

export interface StsReport {
  data: string;
  split: 'sts-test';
  spaces: Record<string, StsFigures>;
}

/** The snapshot's adapter for this model, if its sts space was made (and adapted) by it. */
function snapshotAdapter(snapshot: Snapshot, m: ModelArgs): SynopsisAdapter | undefined {
  const space = snapshot.spaces.get(STS_SPACE);
  const file = space?.encoder.files?.adapter;
  if (!space || !file || !stsSpaceMatches(space, m.modelId, m.revision)) return undefined;
  return SynopsisAdapter.fromBytes(snapshot.blobs.get(file)!, space.dim, file);
}

export async function evalSts(opts: { data: string; models: ModelArgs[]; snapshot: string; log?: (line: string) => void }): Promise<StsReport> {
  const log = opts.log ?? (() => {});
  const korsts = await loadKorSts(opts.data);
  const snapshot = await loadSnapshot(fsReader(opts.snapshot));
  const spaces: Record<string, StsFigures> = {};

  const lexical = lexicalEncoderOf(snapshot);
  const lex = await embedPairs(async (texts) => {
    const out = new Float32Array(texts.length * lexical.dim);
    texts.forEach((t, i) => out.set(lexical.embedQuery(t), i * lexical.dim));
    return out;
  }, korsts.test);
  spaces.lexical = stsFigures(korsts.test, lex.a, lex.b, lexical.dim);

  for (const m of opts.models) {
    const enc = await loadEncoder(m);
    try {
      const embed = (t: readonly string[]) => embedAll(enc, t);
      const test = await embedPairs(embed, korsts.test);
      spaces[m.modelId] = stsFigures(korsts.test, test.a, test.b, enc.dim);
      let adapter = snapshotAdapter(snapshot, m);
      if (adapter) log(`${m.modelId}: using the snapshot's adapter`);
      else {
        await trainingBackend();
        const cfg = defaultConfig.models.text.adapter;
        const r = await trainAdapter(await adapterData(embed, enc.dim, korsts, snapshot, cfg), cfg);
        log(`${m.modelId}: adapter trained here, epoch ${r.epoch} of ${cfg.epochs} (dev Spearman ${r.history[0].devSpearman.toFixed(4)} → ${r.history[r.epoch].devSpearman.toFixed(4)}, ${r.seconds.toFixed(1)} s)`);
        adapter = r.adapter;
      }
      spaces[`${m.modelId}+adapter`] = stsFigures(korsts.test, adapter.apply(test.a), adapter.apply(test.b), enc.dim);
    } finally {
      await enc.dispose();
    }
  }
  return { data: opts.data, split: 'sts-test', spaces };
}

export function formatTable(r: StsReport): string {
  const names = Object.keys(r.spaces);
  const w = Math.max(5, ...names.map((n) => n.length));
  const lines = [`${'space'.padEnd(w)}  pearson  spearman  pairs`, `${'-'.repeat(w)}  -------  --------  -----`];
  for (const n of names) {
    const s = r.spaces[n];
    lines.push(`${n.padEnd(w)}  ${s.pearson.toFixed(4).padStart(7)}  ${s.spearman.toFixed(4).padStart(8)}  ${String(s.pairs).padStart(5)}`);
  }
  return lines.join('\n');
}

async function main() {
  const args = parseArgs(process.argv.slice(2), { data: 'string', json: 'string', model: 'string', snapshot: 'string' });
  if (typeof args.data !== 'string') {
    console.error('usage: npm run eval:sts -- --data ../shared/data/korsts [--model <id or folder> [--local-model-path <dir>]] [--snapshot <dir>] [--json out.json]');
    process.exit(2);
  }
  const models = [FIXTURE_MODEL, ...(typeof args.model === 'string' ? [modelArgs(args)] : [])];
  const report = await evalSts({
    data: args.data,
    models,
    snapshot: typeof args.snapshot === 'string' ? args.snapshot : DEMO_SNAPSHOT,
    log: (l) => console.error(l),
  });
  console.log(`KorSTS ${report.split} (${path.resolve(report.data)}): cosine vs gold score`);
  console.log(formatTable(report));
  if (typeof args.json === 'string') {
    await writeFile(args.json, JSON.stringify({ spaces: report.spaces, data: report.data, split: report.split }, null, 2) + '\n');
    console.log(`wrote ${args.json}`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? '')) {
  main().catch((e) => {
    console.error(e instanceof DataError || e instanceof Error ? `error: ${e.message}` : e);
    process.exit(1);
  });
}
