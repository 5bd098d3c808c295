/**
 * `sequence`: the sequential next-title model's logits (seed 003, rank/sequence.ts) for the title after the
 * reader's preferred titles; scores computed off the page's thread are taken from `opts.sequenceScores`.
 */
import { SEQUENCE_SPACE } from '../../spaces.ts';
import { preferredSequence, sequenceKey } from '../signals.ts';
import { remember, type Signal } from './signal.ts';

export const sequenceSignal: Signal = {
  name: SEQUENCE_SPACE,
  kind: 'model',
  ablation: 'seq',
  available: (catalog) => catalog.sequence !== undefined,
  scores(catalog, readings, _cfg, opts) {
    const seq = preferredSequence(readings);
    if (!catalog.sequence || seq.length === 0) return undefined;
    const ready = opts.sequenceScores?.get(sequenceKey(seq));
    // A copy: standardising happens in place, and the same scores may serve several rankings.
    return ready ? Float32Array.from(ready) : catalog.sequence.scores(seq);
  },
  explain(ctx, item) {
    const model = ctx.catalog.sequence;
    if (!model) return {};
    // The preferred title the model's own item embeddings tie closest to this one (among those it reads).
    const seq = remember(ctx, SEQUENCE_SPACE, () => preferredSequence(ctx.readings).slice(-(model.spec.maxLength - 1)));
    const closest = model.closest(item, seq);
    return closest === undefined ? {} : { closest };
  },
};
