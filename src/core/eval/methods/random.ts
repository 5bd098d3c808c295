/** `random`: a uniformly random ranking per user, reproducible by seed. The floor every method must beat. */
import { rng } from '../../random.ts';
import type { TrainUser } from '../../split.ts';
import type { EvalMethod, MethodOptions } from './types.ts';

export function randomMethod(options: MethodOptions = {}): EvalMethod {
  const seed = options.seed ?? 42;
  let next = rng(seed);
  return {
    name: 'random',
    fit() {
      // Restart the stream so a refit gives the same rankings.
      next = rng(seed);
    },
    score(_user: TrainUser, out: Float64Array) {
      for (let i = 0; i < out.length; i++) out[i] = next();
    },
  };
}
