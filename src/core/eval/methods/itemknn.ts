/**
 * `itemknn`: item-based neighbourhood with cosine similarity of the binary item columns,
 * S[i][j] = |users(i) ∩ users(j)| / √(|users(i)|·|users(j)|), zero diagonal; score = x_u·S.
 * (No neighbourhood truncation: every co-occurring item votes, as in the reference table.)
 */
import type { TrainData, TrainUser } from '../../split.ts';
import { gram, sumRows } from '../../math/linalg.ts';
import type { EvalMethod } from './types.ts';

function itemKnnSimilarity(data: TrainData): Float64Array {
  const n = data.matrix.items;
  const s = gram(data.matrix);
  const norm = new Float64Array(n);
  for (let i = 0; i < n; i++) norm[i] = Math.sqrt(s[i * n + i]);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const d = norm[i] * norm[j];
      // An item nobody saw has an empty column: similarity 0, not 0/0.
      s[i * n + j] = i === j || d === 0 ? 0 : s[i * n + j] / d;
    }
  }
  return s;
}

export function itemKnnMethod(): EvalMethod {
  let sim: Float64Array = new Float64Array(0);
  let n = 0;
  return {
    name: 'itemknn',
    fit(data: TrainData) {
      n = data.matrix.items;
      sim = itemKnnSimilarity(data);
    },
    score(user: TrainUser, out: Float64Array) {
      sumRows(sim, n, user.seen, out);
    },
  };
}
