/**
 * The one list of ranking signals. Adding a signal: its module here (the Signal shape of ./signal.ts), one line
 * in SIGNALS, its name in src/core/spaces.ts and in both string tables (`spaceNames`), and a test.
 */
import type { RankerConfig } from '../../config.ts';
import { GENRE_SPACE, GRAM_SPACE, LEXICAL_SPACE, STS_SPACE, STYLE_SPACE } from '../../spaces.ts';
import type { Reading } from '../reader.ts';
import { candidatesOf, standardise, type Catalog, type ReaderSignals, type SignalOptions } from '../signals.ts';
import { communitySignal } from './community.ts';
import { contentSignal } from './content.ts';
import { popularitySignal } from './popularity.ts';
import { sequenceSignal } from './sequence.ts';
import type { Signal } from './signal.ts';
import { runSteps } from '../../steps.ts';

export type { ExplainContext, Signal } from './signal.ts';

/** Every signal, content spaces first (in a snapshot's own order when ranking), then the models. */
export const SIGNALS: readonly Signal[] = [
  contentSignal(GENRE_SPACE),
  contentSignal(LEXICAL_SPACE),
  contentSignal(STS_SPACE, 'text'),
  contentSignal(STYLE_SPACE, 'style'),
  contentSignal(GRAM_SPACE, 'style'),
  communitySignal,
  sequenceSignal,
  popularitySignal,
];

const byName = new Map(SIGNALS.map((s) => [s.name, s]));

/** The signal of a space name; a stored space no signal claims is ranked as a content space. */
export function signalOf(name: string): Signal {
  return byName.get(name) ?? contentSignal(name);
}

/** The signals this catalog can rank with: its stored spaces in their order, then the available models. */
export function signalsOf(catalog: Catalog): Signal[] {
  return [...[...catalog.spaces.keys()].map(signalOf), ...SIGNALS.filter((s) => s.kind === 'model' && s.available(catalog))];
}

/** Every space this catalog can score a reader in. */
export function availableSpaces(catalog: Catalog): string[] {
  return signalsOf(catalog).map((s) => s.name);
}

/** Raw (unstandardised) scores of one space for a reader, or undefined when the space has nothing to go on. */
export function rawScores(catalog: Catalog, readings: readonly Reading[], space: string, cfg: RankerConfig, opts: SignalOptions): Float32Array | undefined {
  const signal = signalOf(space);
  return signal.available(catalog) ? signal.scores(catalog, readings, cfg, opts) : undefined;
}

/** Standardised scores of every requested space for one reader. */
export function readerSignals(catalog: Catalog, readings: readonly Reading[], cfg: RankerConfig, opts: SignalOptions): ReaderSignals {
  return runSteps(readerSignalSteps(catalog, readings, cfg, opts));
}

/**
 * readerSignals one space at a time: it pauses (yields) before each scan, and within a long scan (`cfg.stepValues`),
 * so a caller can give the page its thread back.
 */
export function* readerSignalSteps(catalog: Catalog, readings: readonly Reading[], cfg: RankerConfig, opts: SignalOptions): Generator<void, ReaderSignals> {
  const candidates = candidatesOf(catalog.items.length, readings);
  const z = new Map<string, Float32Array>();
  for (const signal of signalsOf(catalog)) {
    if (opts.spaces && !opts.spaces.has(signal.name)) continue;
    yield;
    const raw = signal.scoreSteps ? yield* signal.scoreSteps(catalog, readings, cfg, opts) : signal.scores(catalog, readings, cfg, opts);
    if (raw) z.set(signal.name, standardise(raw, candidates));
  }
  return { candidates, z };
}
