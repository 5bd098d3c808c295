/** `popular`: every user gets the items with the most training interactions (column sums of the binary matrix). */
import type { TrainData, TrainUser } from '../../split.ts';
import type { EvalMethod } from './types.ts';

/** Column sums of the binary matrix: how many users have each item in their visible row. */
export function itemPopularity(data: TrainData): Float64Array {
  return Float64Array.from(data.matrix.itemUsers, (users) => users.length);
}

export function popularMethod(): EvalMethod {
  let popularity: Float64Array = new Float64Array(0);
  return {
    name: 'popular',
    fit(data: TrainData) {
      popularity = itemPopularity(data);
    },
    score(_user: TrainUser, out: Float64Array) {
      out.set(popularity);
    },
  };
}
