/**
 * `toonpick` and its variants: the project's Ranker (src/core/ranker.ts) as an evaluation method.
 *
 * fit() builds the catalog's content spaces with the snapshot builder's own code (genre, lexical), then
 * `fitRanker` trains the community and sequence models and learns the fusion on a validation split carved from
 * the training histories (never the test items). score() turns the user's visible history into readings and runs
 * `rankReadings`, the same function the page runs.
 *
 * Variants share one fit per TrainData (the trained models and each user's space scores are identical across
 * them); each learns its own fusion weights over the spaces it keeps, on the same validation readers.
 * - toonpick: serendipity 0 (accuracy); toonpick-serendipity: the config's default serendipity level;
 * - toonpick-no-<space>: without a space (text = sts, style = style + gram, content = every content space,
 *   cf, seq); toonpick-no-fusion: the global weights for every reader (no per-reader attention).
 */
import { defaultConfig, type RankerConfig } from '../../config.ts';
import { rankReadings } from '../../ranker.ts';
import { attentionLogits } from '../../rank/fusion.ts';
import { readingsFromEvents, type Reading } from '../../rank/reader.ts';
import { type Catalog, type ReaderSignals } from '../../rank/signals.ts';
import { SIGNALS, availableSpaces, readerSignals } from '../../rank/signal/index.ts';
import { fitRanker, type FittedRanker } from '../../rank/train.ts';
import { genreSpace, lexicalSpace } from '../../snapshot/build.ts';
import { indexItems, type Title } from '../../snapshot/format.ts';
import type { TrainData, TrainUser } from '../../split.ts';
import type { EvalMethod, MethodOptions } from './types.ts';
import { itemPopularity } from './popular.ts';

export interface ToonpickVariant {
  name: string;
  /** Spaces left out (ablation). */
  without?: readonly string[];
  /** Per-reader attention over the spaces (default true). */
  attention?: boolean;
  /** Serendipity level (default 0). */
  serendipity?: number;
}

/** How deep each user's ranking goes: past the protocol's largest K (20). */
const DEPTH = 50;

interface SharedFit {
  catalog: Catalog;
  fitted: FittedRanker;
  /** Each user's readings, standardised space scores and attention logits, computed once for every variant. */
  users: WeakMap<TrainUser, { readings: Reading[]; signals: ReaderSignals; logits: Map<string, number> | null }>;
}

const shared = new WeakMap<TrainData, Map<string, Promise<SharedFit>>>();

/** The content part of the catalog: titles (popularity = training interactions) and the snapshot builder's spaces. */
export function contentCatalog(data: TrainData): Catalog {
  const pop = itemPopularity(data);
  const max = Math.max(1, ...pop);
  const items: Title[] = data.items.map((it, i) => ({ id: it.id, title: it.title, synopsis: it.synopsis, genres: it.genres, popularity: pop[i] / max }));
  const genre = genreSpace(items);
  const lexical = lexicalSpace(items).space;
  return { items, spaces: new Map([[genre.name, genre], [lexical.name, lexical]]), indexOf: indexItems(items) };
}

function fitShared(data: TrainData, cfg: RankerConfig, seed: number, log?: (m: string) => void): Promise<SharedFit> {
  let bySeed = shared.get(data);
  if (!bySeed) shared.set(data, (bySeed = new Map()));
  const key = `${seed}:${cfg.community.denseUpTo}:${cfg.community.candidates}`;
  let fit = bySeed.get(key);
  if (!fit) {
    fit = (async () => {
      const content = contentCatalog(data);
      const fitted = await fitRanker(data, content, cfg, { sequence: true, seed, onProgress: (p) => log?.(`${p.step} (${p.seconds.toFixed(1)} s)`) });
      return { catalog: { ...content, community: fitted.community, sequence: fitted.sequence }, fitted, users: new WeakMap() };
    })();
    bySeed.set(key, fit);
  }
  return fit;
}

/** Ablations by the signal registry's own groups: content-space groups, all content, then each model. */
function ablations(): ToonpickVariant[] {
  const group = (kind: 'content' | 'model') => [...new Set(SIGNALS.filter((s) => s.kind === kind && s.ablation).map((s) => s.ablation!))];
  const without = (a: string) => SIGNALS.filter((s) => s.ablation === a).map((s) => s.name);
  return [
    ...group('content').map((a) => ({ name: `toonpick-no-${a}`, without: without(a) })),
    { name: 'toonpick-no-content', without: SIGNALS.filter((s) => s.kind === 'content').map((s) => s.name) },
    ...group('model').map((a) => ({ name: `toonpick-no-${a}`, without: without(a) })),
  ];
}

export const TOONPICK_VARIANTS: readonly ToonpickVariant[] = [
  { name: 'toonpick' },
  { name: 'toonpick-serendipity', serendipity: defaultConfig.ranker.serendipity.level },
  ...ablations(),
  { name: 'toonpick-no-fusion', attention: false },
];

export function toonpickMethod(variant: ToonpickVariant, options: MethodOptions = {}, base: RankerConfig = defaultConfig.ranker): EvalMethod {
  // `candidates` forces the sparse community model (what a catalog above denseUpTo titles gets) at any size.
  const cfg: RankerConfig = options.candidates ? { ...base, community: { ...base.community, denseUpTo: 0, candidates: options.candidates } } : base;
  const seed = options.seed ?? cfg.sequence.seed;
  let fit: SharedFit | undefined;
  let settings: ReturnType<typeof learnedFor> | undefined;
  let implicit = false;
  const learnedFor = (f: SharedFit) => {
    const spaces = availableSpaces(f.catalog).filter((s) => !variant.without?.includes(s));
    const learned = f.fitted.validation.learn(spaces, variant.attention ?? true, variant.serendipity ? cfg.serendipity : undefined);
    return { spaces: new Set(spaces), learned };
  };
  return {
    name: variant.name,
    async fit(data: TrainData) {
      fit = await fitShared(data, cfg, seed, options.log);
      settings = learnedFor(fit);
      const l = settings.learned;
      options.log?.(`${variant.name}: ${Object.entries(l.weights).map(([s, w]) => `${s} ${w.toFixed(2)}`).join(', ')}, τ ${l.temperature}${l.strength === undefined ? '' : `, serendipity strength ${l.strength.toFixed(2)}`} (validation NDCG@10 ${l.validation.ndcg.toFixed(4)})`);
      implicit = data.implicit;
    },
    score(user: TrainUser, out: Float64Array) {
      if (!fit || !settings) throw new Error(`${variant.name}: score() before fit()`);
      let u = fit.users.get(user);
      if (!u) {
        const readings = readingsFromEvents(user.history, implicit, cfg);
        const opts = { halfLifeShare: settings.learned.halfLifeShare, ratingWeight: settings.learned.ratingWeight };
        u = { readings, signals: readerSignals(fit.catalog, readings, cfg, opts), logits: attentionLogits(fit.catalog, readings, cfg, opts) ?? null };
        fit.users.set(user, u);
      }
      const z = new Map([...u.signals.z].filter(([s]) => settings!.spaces.has(s)));
      const recs = rankReadings(fit.catalog, u.readings, cfg, DEPTH, {
        serendipity: variant.serendipity ?? 0,
        spaces: settings.spaces,
        attention: variant.attention ?? true,
        settings: settings.learned,
        signals: { candidates: u.signals.candidates, z },
        logits: u.logits,
        explain: false,
      });
      out.fill(-1e9);
      recs.forEach((r, rank) => (out[r.index] = DEPTH - rank));
    },
  };
}
