/**
 * `cf`: the community item-item model (sparse EASE, rank/community.ts) applied to the reader's history, each
 * title weighted by recency relative to the history's length and by taste.
 */
import { CF_SPACE } from '../../spaces.ts';
import { communityScores, strongestNeighbour } from '../community.ts';
import { communityRows } from '../signals.ts';
import { remember, type Signal } from './signal.ts';

export const communitySignal: Signal = {
  name: CF_SPACE,
  kind: 'model',
  ablation: CF_SPACE,
  available: (catalog) => catalog.community !== undefined,
  scores(catalog, readings, _cfg, opts) {
    if (!catalog.community) return undefined;
    return communityScores(catalog.community.model, communityRows(readings, opts.halfLifeShare, opts.ratingWeight));
  },
  explain(ctx, item) {
    if (!ctx.catalog.community) return {};
    const rows = remember(ctx, CF_SPACE, () => communityRows(ctx.readings, ctx.options.halfLifeShare, ctx.options.ratingWeight));
    const n = strongestNeighbour(ctx.catalog.community.model, rows, item);
    return n ? { closest: n.index } : {};
  },
};
