/**
 * `ease`: Steck's closed-form linear autoencoder (WWW 2019) on the binary matrix.
 * P = (XᵀX + λI)⁻¹, B = I − P·diagMat(1/diag(P)), i.e. B[i][j] = −P[i][j]/P[j][j] and B[i][i] = 0;
 * score = x_u·B.
 */
import type { TrainData, TrainUser } from '../../split.ts';
import { gram, invertSpd, sumRows } from '../../math/linalg.ts';
import { invertSpdBlocked } from '../../math/spd-inverse.ts';
import { chooseTfjsBackend } from '../../tfjs-backend.ts';
import type { EvalMethod, MethodOptions } from './types.ts';
import { defaultConfig } from '../../config.ts';
import { communityScores, type CommunityModel } from '../../rank/community.ts';
import { fitSparseEase } from '../../rank/sparse-ease.ts';
import { storedModel } from '../../rank/community-file.ts';

/**
 * Up to this many items P is inverted exactly in float64 (linalg.ts: MovieLens' 1,682 in seconds); above it by
 * blocks on TensorFlow.js in float32 (math/spd-inverse.ts: 10,000 items in about a minute instead of ~8).
 */
const EXACT_EASE_UP_TO = 2048;

export function easeWeights(data: TrainData, lambda: number): Float64Array | Float32Array {
  const n = data.matrix.items;
  const g = gram(data.matrix);
  for (let i = 0; i < n; i++) g[i * n + i] += lambda;
  const b = n <= EXACT_EASE_UP_TO ? invertSpd(g, n) : invertSpdBlocked(g, n);
  const diag = new Float64Array(n);
  for (let j = 0; j < n; j++) diag[j] = b[j * n + j];
  for (let i = 0; i < n; i++) {
    const o = i * n;
    for (let j = 0; j < n; j++) b[o + j] = i === j ? 0 : -b[o + j] / diag[j];
  }
  return b;
}

export function easeMethod(options: MethodOptions = {}): EvalMethod {
  const lambda = options.lambda ?? 250;
  if (!(lambda > 0)) throw new Error(`EASE needs λ > 0, got ${lambda}`);
  let weights: Float64Array | Float32Array = new Float64Array(0);
  let n = 0;
  return {
    name: 'ease',
    async fit(data: TrainData) {
      n = data.matrix.items;
      if (n > EXACT_EASE_UP_TO) await chooseTfjsBackend('wasm');
      weights = easeWeights(data, lambda);
    },
    score(user: TrainUser, out: Float64Array) {
      sumRows(weights, n, user.seen, out);
    },
  };
}

/**
 * `ease-sparse`: the snapshot builder's community model above `denseUpTo` titles (rank/sparse-ease.ts): each EASE
 * column regressed on its `candidates` most co-occurring titles, the `neighbours` largest weights kept per row;
 * score = Σ over the user's titles of their kept weights (on the int8 grid the snapshot stores). Compared with
 * `ease` where dense EASE still runs.
 */
export function sparseEaseMethod(options: MethodOptions = {}): EvalMethod {
  const lambda = options.lambda ?? 250;
  const cfg = defaultConfig.ranker.community;
  let model: CommunityModel | undefined;
  let scores = new Float32Array(0);
  return {
    name: 'ease-sparse',
    fit(data: TrainData) {
      // As the snapshot stores it (int8 weights: community-file.ts).
      model = storedModel(fitSparseEase(data.matrix.userItems, data.matrix.items, { lambda, neighbours: cfg.neighbours, candidates: options.candidates ?? cfg.candidates }));
      scores = new Float32Array(data.matrix.items);
    },
    score(user: TrainUser, out: Float64Array) {
      if (!model) throw new Error('ease-sparse: score() before fit()');
      const s = communityScores(model, Array.from(user.seen, (index) => ({ index, weight: 1 })), scores);
      for (let j = 0; j < out.length; j++) out[j] = s[j];
    },
  };
}
