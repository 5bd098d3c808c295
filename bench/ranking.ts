/**
 * Ranking latency on the reader's device vs the fastest possible server: an HTTP server on loopback that
 * does no work at all (answers a precomputed list). If in-page ranking beats that, no real server —
 * with a network, a queue and actual work — can answer sooner.
 * Also: how the brute-force scan scales to larger catalogs (rows × dim float32, one contiguous array).
 */
import { createServer } from 'node:http';
import path from 'node:path';
import { fsReader } from '../scripts/lib/node-io.ts';
import { loadSnapshot } from '../src/core/snapshot/load.ts';
import { recommend } from '../src/core/ranker.ts';
import { defaultConfig } from '../src/core/config.ts';
import type { HistoryEntry } from '../src/core/history.ts';
import { rng } from '../src/core/random.ts';
import { scanDot, normalize } from '../src/core/vectors.ts';
import * as tf from '@tensorflow/tfjs';
import { chooseTfjsBackend } from '../src/core/tfjs-backend.ts';
import { SequenceModel, sequenceWeightCount } from '../src/core/rank/sequence.ts';
import { median, type BenchRow } from './lib.ts';

export async function rankingBench(): Promise<BenchRow[]> {
  const snap = await loadSnapshot(fsReader(path.resolve(import.meta.dirname, '../public/snapshot')));
  const random = rng(7);
  const history: HistoryEntry[] = Array.from({ length: 20 }, (_, i) => {
    const t = snap.items[Math.floor(random() * snap.items.length)];
    return { id: t.id, readAt: i, likedAt: i };
  });
  const recs = recommend(snap, history, defaultConfig.ranker, 24)!;
  const body = JSON.stringify(recs.map((r) => snap.items[r.index].id));

  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/recs`;
  const loopback = await median(async () => (await fetch(url)).json(), { warmup: 20, runs: 200 });
  server.closeAllConnections();
  server.close();

  const local = await median(() => recommend(snap, history, defaultConfig.ranker, 24), { warmup: 10, runs: 100 });
  const rows: BenchRow[] = [
    { bench: 'ranking', case: 'zero-work server on loopback (HTTP round trip)', value: loopback, unit: 'ms' },
    { bench: 'ranking', case: `in-page recommend(): ${snap.items.length} titles, 20 likes`, value: local, unit: 'ms', ratio: local / loopback, baseline: 'vs loopback' },
  ];

  // The sequence model at MovieLens size with the default network, on a full-length history: what the sequence
  // worker takes off the page's thread on every history change (random weights: the cost does not depend on them).
  const seqCfg = defaultConfig.ranker.sequence;
  const itemCount = 1682, categories = 19;
  const spec = { itemCount, categories: Array.from({ length: categories }, (_, i) => `g${i}`), maxLength: seqCfg.maxLength, dim: seqCfg.dim, heads: seqCfg.heads, layers: seqCfg.layers, ffDim: seqCfg.ffDim };
  const weights = Float32Array.from({ length: sequenceWeightCount(spec) }, () => (random() - 0.5) * 0.1);
  const itemCats = new Float32Array(itemCount * categories);
  for (let i = 0; i < itemCount; i++) itemCats[i * categories + (i % categories)] = 1;
  const model = new SequenceModel(spec, weights, itemCats, itemCount);
  const sequence = Array.from({ length: seqCfg.maxLength - 1 }, () => Math.floor(random() * itemCount));
  const seq = await median(() => model.scores(sequence), { warmup: 5, runs: 30 });
  rows.push({ bench: 'ranking', case: `sequence model (worker): ${itemCount} titles, ${seqCfg.maxLength - 1}-title history, dim ${seqCfg.dim}`, value: seq, unit: 'ms', ratio: seq / loopback, baseline: 'vs loopback' });

  // Scan scaling: one query against N rows of 384-d vectors (a sentence-model space).
  const dim = 384;
  let base: number | undefined;
  for (const n of [1_000, 10_000, 100_000]) {
    const data = new Float32Array(n * dim);
    for (let i = 0; i < data.length; i++) data[i] = random() - 0.5;
    const q = normalize(Float32Array.from({ length: dim }, () => random() - 0.5));
    const out = new Float32Array(n);
    const t = await median(() => scanDot(data, dim, q, out), { warmup: 3, runs: 15 });
    base ??= t;
    rows.push({ bench: 'scan', case: `${n.toLocaleString('en')} × ${dim} float32`, value: t, unit: 'ms', ...(n === 1_000 ? {} : { ratio: t / base, baseline: 'vs 1,000 rows' }) });
    if (n === 100_000) {
      // The same product on tfjs' WASM backend (XNNPACK, SIMD), the rows already in its memory: what a dense space
      // would gain from it, and what it costs (a second copy of the rows, in the WASM heap).
      await chooseTfjsBackend('wasm');
      const rowsT = tf.tensor2d(data, [n, dim]);
      const qT = tf.tensor2d(q, [dim, 1]);
      const w = await median(
        () => {
          const r = tf.matMul(rowsT, qT);
          r.dataSync();
          r.dispose();
        },
        { warmup: 3, runs: 15 },
      );
      tf.dispose([rowsT, qT]);
      rows.push({ bench: 'scan', case: `${n.toLocaleString('en')} × ${dim} float32, tfjs-wasm matMul (SIMD), rows resident`, value: w, unit: 'ms', ratio: w / t, baseline: 'vs the JS scan' });
    }
  }
  return rows;
}
