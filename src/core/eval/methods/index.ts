/**
 * Methods by name, for the CLI and tests. A new method (the project's ranker, an ablation) plugs in by
 * adding one entry here, or by passing its EvalMethod object straight to `evaluate`.
 */
import { easeMethod, sparseEaseMethod } from './ease.ts';
import { itemKnnMethod } from './itemknn.ts';
import { popularMethod } from './popular.ts';
import { randomMethod } from './random.ts';
import { TOONPICK_VARIANTS, toonpickMethod } from './toonpick.ts';
import type { EvalMethod, MethodFactory, MethodOptions } from './types.ts';

export type { EvalMethod, MethodFactory, MethodOptions } from './types.ts';

export const METHODS: Readonly<Record<string, MethodFactory>> = {
  random: randomMethod,
  popular: popularMethod,
  itemknn: itemKnnMethod,
  ease: easeMethod,
  'ease-sparse': sparseEaseMethod,
  ...Object.fromEntries(TOONPICK_VARIANTS.map((v): [string, MethodFactory] => [v.name, (o) => toonpickMethod(v, o)])),
};

/** The reference methods of evaluation.md, in table order. */
export const REFERENCE_METHODS = ['random', 'popular', 'itemknn', 'ease'] as const;

export function createMethod(name: string, options: MethodOptions = {}, registry: Readonly<Record<string, MethodFactory>> = METHODS): EvalMethod {
  const factory = registry[name];
  if (!factory) throw new Error(`unknown method "${name}" (known: ${Object.keys(registry).join(', ')})`);
  return factory(options);
}
