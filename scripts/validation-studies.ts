/**
 * The studies behind the Ranker's fixed choices in config.ts, run on the validation carve of the training
 * histories only (rank/tune.ts's carve: each reader's latest 20 % positives), never on the evaluation's test
 * items:
 *   npx tsx scripts/validation-studies.ts [--data ../shared/data/movielens-100k] [--only sequence,serendipity,cross]
 * - recency: the community score alone with a fixed half-life (in titles) against one relative to the reader's
 *   history length (`halfLifeShare`);
 * - sequence: the sequence model's size (validation NDCG@10 of the learned fusion, and of the model alone);
 * - serendipity: at the default level, how much less similar the lists get (vs EASE λ = 250 on the same carve)
 *   and what NDCG they keep, for each pool bonus, `reduction` (vs the community model's plain lists) and
 *   `accuracyFloor` the calibrated price is fitted to (rank/calibrate.ts);
 * - cross: a DCN-V2 cross layer over the spaces' standardised scores (x1 = x0 ⊙ (W x0 + b) + x0, score w · x1),
 *   trained with BPR on half of the validation readers, against the linear fusion on the other half.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { defaultConfig, type RankerConfig } from '../src/core/config.ts';
import { temporalSplit, type EvalSplit } from '../src/core/split.ts';
import { ndcg, unserendipity } from '../src/core/math/metrics.ts';
import { topK, without } from '../src/core/math/top-k.ts';
import { createMethod } from '../src/core/eval/methods/index.ts';
import { contentCatalog } from '../src/core/eval/methods/toonpick.ts';
import { fuse, readerWeights } from '../src/core/rank/fusion.ts';
import { serendipitousRanking } from '../src/core/rank/serendipity.ts';
import { chooseSequenceBackend } from '../src/core/rank/sequence-train.ts';
import { candidatesOf, communityRows, type Catalog } from '../src/core/rank/signals.ts';
import { availableSpaces } from '../src/core/rank/signal/index.ts';
import { communityScores } from '../src/core/rank/community.ts';
import { readingsFromEvents } from '../src/core/rank/reader.ts';
import { sequenceOf } from '../src/core/rank/train.ts';
import { carveValidation, communityOf, validationSet, type ValidationSet } from '../src/core/rank/tune.ts';
import { rng } from '../src/core/random.ts';
import { parseCatalogJsonl, parseInteractionsCsv } from '../src/core/source.ts';
import { parseArgs } from './lib/node-io.ts';

const args = parseArgs(process.argv.slice(2), { data: 'string', only: 'string' });
const dir = path.resolve(typeof args.data === 'string' ? args.data : '../shared/data/movielens-100k');
const only = new Set(typeof args.only === 'string' ? args.only.split(',') : ['recency', 'sequence', 'serendipity', 'cross']);
const base = defaultConfig.ranker;

function loadSplit(): EvalSplit {
  const items = parseCatalogJsonl(readFileSync(path.join(dir, 'catalog.jsonl'), 'utf8'));
  const interactions = parseInteractionsCsv(readFileSync(path.join(dir, 'interactions.csv'), 'utf8'), 'interactions.csv', new Set(items.map((i) => i.id)));
  return temporalSplit(items, interactions);
}

const split = loadSplit();
const content = contentCatalog(split.train);
const carve = carveValidation(split.train);
const community = communityOf(carve.train, content, base);
console.log(`backend ${await chooseSequenceBackend()}; ${carve.evaluated.length} validation readers`);

/** The carve's catalog with a sequence model of this configuration, and its validation set. */
async function fitCarve(cfg: RankerConfig): Promise<{ inner: Catalog; validation: ValidationSet; loss: number; seconds: number }> {
  const run = await sequenceOf(carve.train, content, cfg, cfg.sequence.epochs, cfg.sequence.seed);
  const inner: Catalog = { ...content, community, sequence: run.model };
  return { inner, validation: validationSet(inner, carve, cfg), loss: run.loss, seconds: run.seconds };
}

if (only.has('recency')) {
  const model = community.model;
  const ratingWeight = carve.train.implicit ? 0 : 1;
  const readers = carve.evaluated.map((e) => ({ readings: readingsFromEvents(e.user.history, carve.train.implicit, base), targets: new Set(e.test) }));
  const score = (halfLifeOf: (length: number) => number) => {
    let sum = 0;
    for (const r of readers) {
      // A fixed half-life is the relative one's rows with the share set to give that many titles.
      const rows = communityRows(r.readings, halfLifeOf(r.readings.length) / Math.max(1, r.readings.length), ratingWeight);
      const candidates = candidatesOf(carve.train.items.length, r.readings);
      sum += ndcg(topK(communityScores(model, rows), 10, candidates), r.targets, 10);
    }
    return (sum / readers.length).toFixed(4);
  };
  console.log('\nrecency of the community score alone (validation NDCG@10)');
  console.log(`  fixed half-life (titles): ${[5, 10, 20, 40].map((h) => `${h}: ${score(() => h)}`).join('  ')}`);
  console.log(`  share of the history:     ${[0.1, 0.2, 0.3, 0.4, 0.5].map((f) => `${f}: ${score((n) => f * n)}`).join('  ')}`);
}

if (only.has('sequence')) {
  console.log('\nsequence model size (validation NDCG@10)');
  const variants: Array<[string, Partial<RankerConfig['sequence']>]> = [
    ['dim 32, 1 layer, 1 head (default)', {}],
    ['dim 16, 1 layer, 1 head', { dim: 16, ffDim: 32 }],
    ['dim 64, 1 layer, 1 head', { dim: 64, ffDim: 128 }],
    ['dim 32, 2 layers, 1 head', { layers: 2 }],
    ['dim 32, 1 layer, 2 heads', { heads: 2 }],
    ['dim 64, 2 layers, 2 heads', { dim: 64, ffDim: 128, layers: 2, heads: 2 }],
  ];
  for (const [name, v] of variants) {
    const { inner, validation, loss, seconds } = await fitCarve({ ...base, sequence: { ...base.sequence, ...v } });
    const fused = validation.learn(availableSpaces(inner), true).validation.ndcg;
    console.log(`  ${name.padEnd(36)} fused ${fused.toFixed(4)}  sequence alone ${validation.ndcg({ sequence: 1 }, 0).toFixed(4)}  loss ${loss.toFixed(3)}  ${seconds.toFixed(0)} s`);
  }
}

if (only.has('serendipity') || only.has('cross')) {
  const { inner, validation } = await fitCarve(base);
  const learned = validation.learn(availableSpaces(inner), true);
  const genre = inner.spaces.get('genre')!;
  const readers = validation.readers;
  const fused = readers.map((r) => fuse({ candidates: r.candidates, z: r.z }, readerWeights(learned.weights, r.z.keys(), learned.temperature ? r.logits : undefined, learned.temperature, learned.center)));

  if (only.has('serendipity')) {
    const ease = createMethod('ease', { lambda: 250 });
    await ease.fit(carve.train);
    const out = new Float64Array(carve.train.items.length);
    let easeUnser = 0;
    for (const e of carve.evaluated) {
      ease.score(e.user, out);
      easeUnser += unserendipity(topK(out, 10, without(out.length, e.user.seen)), e.user.seen, genre.data, genre.dim);
    }
    easeUnser /= carve.evaluated.length;
    const context = { genre, categorySimilarity: inner.community!.categorySimilarity, popularity: inner.items.map((t) => t.popularity) };
    const measure = (cfg: RankerConfig['serendipity'], level: number, strength: number) => {
      let n = 0, u = 0;
      readers.forEach((r, i) => {
        const order = serendipitousRanking({ ...context, scores: fused[i], candidates: r.candidates, history: r.history }, level, 10, cfg, strength).order;
        n += ndcg(order, r.targets, 10);
        u += unserendipity(order, r.history, genre.data, genre.dim);
      });
      return { ndcg: n / readers.length, unser: u / readers.length };
    };
    const accuracy = measure(base.serendipity, 0, 0);
    console.log(`\nserendipity at level ${base.serendipity.level} (validation; EASE unserendipity ${easeUnser.toFixed(4)}, accuracy list ${accuracy.unser.toFixed(4)}, NDCG@10 ${accuracy.ndcg.toFixed(4)})`);
    for (const bonus of [base.serendipity.bonus]) {
      for (const reduction of [0.32, 0.34, 0.36, 0.38]) {
        for (const accuracyFloor of [0.9, 0.92]) {
          const cfg = { ...base.serendipity, bonus, reduction, accuracyFloor };
          const strength = validation.serendipityStrength(learned.weights, learned.temperature, cfg)!;
          const m = measure(cfg, cfg.level, strength);
          console.log(`  bonus ${bonus.toFixed(2)} reduction ${reduction.toFixed(2)} floor ${accuracyFloor.toFixed(2)}: strength ${strength.toFixed(2)}, unser ${m.unser.toFixed(4)} (${(100 * (1 - m.unser / easeUnser)).toFixed(1)} % below EASE), NDCG@10 ${m.ndcg.toFixed(4)} (${(100 * m.ndcg / accuracy.ndcg).toFixed(1)} % of accuracy)`);
        }
      }
    }
  }

  if (only.has('cross')) {
    const spaces = [...readers[0].z.keys()];
    const d = spaces.length;
    const n = readers[0].candidates.length;
    const halfA = readers.map((_, i) => i).filter((i) => i % 2 === 0);
    const halfB = readers.map((_, i) => i).filter((i) => i % 2 === 1);
    const features = (u: number, j: number, x: Float64Array) => {
      spaces.forEach((s, k) => (x[k] = readers[u].z.get(s)?.[j] ?? 0));
      return x;
    };
    interface Params { W: Float64Array; b: Float64Array; w: Float64Array }
    const score = (p: Params, x: Float64Array) => {
      let s = 0;
      for (let i = 0; i < d; i++) {
        let h = p.b[i];
        for (let k = 0; k < d; k++) h += p.W[i * d + k] * x[k];
        s += p.w[i] * (x[i] * h + x[i]);
      }
      return s;
    };
    const meanNdcg = (ids: number[], f: (x: Float64Array) => number) => {
      const x = new Float64Array(d), scores = new Float32Array(n);
      let sum = 0;
      for (const u of ids) {
        const r = readers[u];
        for (let j = 0; j < n; j++) scores[j] = r.candidates[j] ? f(features(u, j, x)) : -Infinity;
        sum += ndcg(topK(scores, 10, r.candidates), r.targets, 10);
      }
      return sum / ids.length;
    };
    const linear = (x: Float64Array) => spaces.reduce((s, sp, k) => s + (learned.weights[sp] ?? 0) * x[k], 0);
    console.log(`\ncross layer over ${spaces.join(', ')} (NDCG@10 on the validation half it was not trained on)`);
    console.log(`  linear fusion (learned weights): ${meanNdcg(halfB, linear).toFixed(4)}`);
    for (const [lr, lrCross] of [[0.02, 0.0005], [0.01, 0.0001]]) {
      const random = rng(5);
      const p: Params = { W: new Float64Array(d * d), b: new Float64Array(d), w: Float64Array.from(spaces, (s) => learned.weights[s] ?? 0) };
      const xp = new Float64Array(d), xn = new Float64Array(d);
      const scores: number[] = [];
      for (let epoch = 0; epoch < 6; epoch++) {
        for (const u of halfA) {
          const r = readers[u];
          const candidates = [...r.candidates.keys()].filter((j) => r.candidates[j]);
          for (const t of r.targets) {
            for (let q = 0; q < 8; q++) {
              const neg = candidates[Math.floor(random() * candidates.length)];
              if (r.targets.has(neg)) continue;
              features(u, t, xp);
              features(u, neg, xn);
              // BPR: −log σ(s⁺ − s⁻); gradient ascent on log σ with weight c = σ(s⁻ − s⁺).
              const c = 1 / (1 + Math.exp(score(p, xp) - score(p, xn)));
              const g: Params = { W: new Float64Array(d * d), b: new Float64Array(d), w: new Float64Array(d) };
              for (const [x, sign] of [[xp, c], [xn, -c]] as const) {
                for (let i = 0; i < d; i++) {
                  let h = p.b[i];
                  for (let k = 0; k < d; k++) h += p.W[i * d + k] * x[k];
                  g.w[i] += sign * (x[i] * h + x[i]);
                  const dh = sign * p.w[i] * x[i];
                  g.b[i] += dh;
                  for (let k = 0; k < d; k++) g.W[i * d + k] += dh * x[k];
                }
              }
              for (let i = 0; i < d; i++) p.w[i] += lr * (g.w[i] - 1e-3 * p.w[i]);
              for (let i = 0; i < d; i++) p.b[i] += lrCross * (g.b[i] - 1e-3 * p.b[i]);
              for (let i = 0; i < d * d; i++) p.W[i] += lrCross * (g.W[i] - 1e-3 * p.W[i]);
            }
          }
        }
        scores.push(meanNdcg(halfB, (x) => score(p, x)));
      }
      console.log(`  cross layer (lr ${lr}, cross lr ${lrCross}), after each of 6 epochs: ${scores.map((s) => s.toFixed(4)).join(' ')}`);
    }
  }
}
