/**
 * Content spaces (genre, lexical, sts, style, gram, and any space a snapshot stores): the cosine of each title's
 * row to the reader's profile — the recency-decayed, signed sum of the history's rows (dislikes push away).
 */
import { rowDot, scanSpace } from '../../vectors.ts';
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

export function contentSignal(name: string, ablation?: string): Signal {
  return {
    name,
    kind: 'content',
    ...(ablation ? { ablation } : {}),
    available: (catalog) => catalog.spaces.has(name),
    scores(catalog, readings, cfg) {
      const s = catalog.spaces.get(name);
      if (!s) return undefined;
      const rows = contentRows(readings, cfg.recencyHalfLife);
      if (!rows.length) return undefined;
      return scanSpace(s, profile(s, rows));
    },
    explain(ctx, item) {
      const s = ctx.catalog.spaces.get(name);
      if (!s) return {};
      const rows = remember(ctx, 'content', () => contentRows(ctx.readings, ctx.cfg.recencyHalfLife));
      return closestIn(s, item, rows);
    },
  };
}
