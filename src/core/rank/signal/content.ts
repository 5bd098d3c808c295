/**
 * Content spaces (genre, lexical, sts, style, gram, and any space a snapshot stores): the cosine of each title's
 * row to the reader's profile — the recency-decayed, signed sum of the history's rows (dislikes push away).
 */
import type { RankerConfig } from '../../config.ts';
import { runSteps } from '../../steps.ts';
import { rowDot, scanSpaceSteps } from '../../vectors.ts';
import type { Reading } from '../reader.ts';
import type { Space } from '../../snapshot/format.ts';
import type { WeightedRow } from '../community.ts';
import { contentRows, profile } from '../signals.ts';
import { remember, type Signal } from './signal.ts';

/** The history title closest to `item` in `space` among the positively weighted rows. */
function closestIn(space: Space, item: number, among: readonly WeightedRow[]): { closest?: number; similarity?: number } {
  let best = -Infinity, closest: number | undefined;
  for (const s of among) {
    if (s.weight <= 0) continue;
    const d = rowDot(space, item, s.index);
    if (d > best) {
      best = d;
      closest = s.index;
    }
  }
  return closest === undefined ? {} : { closest, similarity: best };
}

/** Cosine of every row to the reader's profile in `space`, scanned `stepValues` values at a time. */
function* contentScores(space: Space | undefined, readings: readonly Reading[], cfg: RankerConfig, stepValues: number): Generator<void, Float32Array | undefined> {
  if (!space) return undefined;
  const rows = contentRows(readings, cfg.recencyHalfLife);
  if (!rows.length) return undefined;
  return yield* scanSpaceSteps(space, profile(space, rows), stepValues);
}

export function contentSignal(name: string, ablation?: string): Signal {
  return {
    name,
    kind: 'content',
    ...(ablation ? { ablation } : {}),
    available: (catalog) => catalog.spaces.has(name),
    scores: (catalog, readings, cfg) => runSteps(contentScores(catalog.spaces.get(name), readings, cfg, Infinity)),
    scoreSteps: (catalog, readings, cfg) => contentScores(catalog.spaces.get(name), readings, cfg, cfg.stepValues),
    explain(ctx, item) {
      const s = ctx.catalog.spaces.get(name);
      if (!s) return {};
      const rows = remember(ctx, 'content', () => contentRows(ctx.readings, ctx.cfg.recencyHalfLife));
      return closestIn(s, item, rows);
    },
  };
}
