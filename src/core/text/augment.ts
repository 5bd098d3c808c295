/**
 * Korean text augmentation for synopses (EDA, as the webtoon paper uses it): random deletion, synonym
 * replacement, random swap and random insertion over space-separated words. Pure and seeded: the same
 * generator state gives the same sentence.
 *
 * Korean nouns carry their particle in the same word ("소녀를"), so a synonym replaces the stem and keeps
 * the particle, switching its form to the new last syllable (을/를, 이/가, 은/는, 과/와, 으로/로).
 */
import { SYNONYM_GROUPS } from './synonyms-ko.ts';

export type Augmentation = 'delete' | 'synonym' | 'swap' | 'insert';
export const AUGMENTATIONS: readonly Augmentation[] = ['delete', 'synonym', 'swap', 'insert'];

const SYNONYMS: ReadonlyMap<string, readonly string[]> = (() => {
  const m = new Map<string, Set<string>>();
  for (const group of SYNONYM_GROUPS) {
    for (const w of group) {
      const set = m.get(w) ?? new Set<string>();
      for (const v of group) if (v !== w) set.add(v);
      m.set(w, set);
    }
  }
  return new Map([...m].map(([k, v]) => [k, [...v]]));
})();

/** Particles (and particle + particle) that may follow a noun inside one word. */
const PARTICLES = new Set(
  ('이 가 을 를 은 는 의 에 에게 에게서 에서 와 과 도 만 로 으로 랑 이랑 한테 처럼 보다 까지 부터 조차 마저 께 ' +
    '에는 에서는 에게는 에서도 에도 으로는 로는 으로도 로도 으로서 로서 와의 과의 와도 과도 만의 만이 만을 이나 나 이라도 라도 ' +
    '들 들이 들을 들은 들의 들과 들도 들에게 들에 들로 들만 들처럼').split(' '),
);

/** Particle pairs: [after a final consonant, after a vowel]. */
const HARMONY: Record<string, [string, string]> = {};
for (const pair of [['을', '를'], ['이', '가'], ['은', '는'], ['과', '와'], ['으로', '로'], ['이랑', '랑'], ['과의', '와의'], ['과도', '와도'], ['으로는', '로는'], ['으로도', '로도'], ['으로서', '로서'], ['이나', '나'], ['이라도', '라도']] as const) {
  HARMONY[pair[0]] = [pair[0], pair[1]];
  HARMONY[pair[1]] = [pair[0], pair[1]];
}

/** Final consonant (batchim) index of a Hangul syllable: 0 = none, 8 = ㄹ; -1 for other characters. */
function finalConsonant(ch: string): number {
  const c = ch.charCodeAt(0) - 0xac00;
  return c >= 0 && c < 11172 ? c % 28 : -1;
}

/** The particle in the form the new stem needs. */
function harmonise(stem: string, particle: string): string {
  const forms = HARMONY[particle];
  if (!forms) return particle;
  const f = finalConsonant(stem.at(-1) ?? '');
  if (f < 0) return particle;
  // ㄹ-final stems take the vowel form of 으로 ("칼로").
  if (forms[0].startsWith('으로') && f === 8) return forms[1];
  return f === 0 ? forms[1] : forms[0];
}

/** Splits a word into leading punctuation, letters, trailing punctuation ("‘당신이" → ‘, 당신이, ''). */
function parts(word: string): [string, string, string] {
  const m = /^([^\p{L}\p{N}]*)(.*?)([^\p{L}\p{N}]*)$/u.exec(word)!;
  return [m[1], m[2], m[3]];
}

interface Match {
  stem: string;
  particle: string;
  synonyms: readonly string[];
}

/** The synonym entry a word's stem matches: the whole word, or a noun stem followed by a particle. */
function lookup(core: string): Match | undefined {
  const whole = SYNONYMS.get(core);
  if (whole) return { stem: core, particle: '', synonyms: whole };
  for (let cut = core.length - 1; cut >= 1; cut--) {
    const particle = core.slice(cut);
    if (!PARTICLES.has(particle)) continue;
    const syn = SYNONYMS.get(core.slice(0, cut));
    if (syn) return { stem: core.slice(0, cut), particle, synonyms: syn };
  }
  return undefined;
}

function pick<T>(xs: readonly T[], random: () => number): T {
  return xs[Math.floor(random() * xs.length)];
}

/** How many words an operation touches: EDA's n = max(1, round(rate × length)). */
function touched(length: number, rate: number): number {
  return Math.max(1, Math.round(rate * length));
}

/** Deletes each word with probability `rate`; at least one word always remains. */
export function randomDeletion(words: readonly string[], rate: number, random: () => number): string[] {
  if (words.length <= 1) return [...words];
  const kept = words.filter(() => random() >= rate);
  return kept.length ? kept : [pick(words, random)];
}

/** Replaces up to `n` distinct words that have synonyms by one of them, particles kept and harmonised. */
export function synonymReplacement(words: readonly string[], n: number, random: () => number): string[] {
  const out = [...words];
  const candidates = words.map((_, i) => i).filter((i) => lookup(parts(words[i])[1]) !== undefined);
  for (let done = 0; done < n && candidates.length; done++) {
    const i = candidates.splice(Math.floor(random() * candidates.length), 1)[0];
    const [pre, core, post] = parts(out[i]);
    const m = lookup(core)!;
    const stem = pick(m.synonyms, random);
    out[i] = pre + stem + harmonise(stem, m.particle) + post;
  }
  return out;
}

/** Swaps two random words, `n` times. */
export function randomSwap(words: readonly string[], n: number, random: () => number): string[] {
  const out = [...words];
  if (out.length < 2) return out;
  for (let k = 0; k < n; k++) {
    const i = Math.floor(random() * out.length);
    let j = Math.floor(random() * (out.length - 1));
    if (j >= i) j++;
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Inserts a synonym of a random word at a random position, `n` times (nothing when no word has one). */
export function randomInsertion(words: readonly string[], n: number, random: () => number): string[] {
  const out = [...words];
  for (let k = 0; k < n; k++) {
    const stems = out.map((w) => lookup(parts(w)[1])).filter((m): m is Match => m !== undefined);
    if (!stems.length) break;
    out.splice(Math.floor(random() * (out.length + 1)), 0, pick(pick(stems, random).synonyms, random));
  }
  return out;
}

/** One augmented copy of `text` by operation `op`, touching about `rate` of its words. */
export function augment(text: string, op: Augmentation, rate: number, random: () => number): string {
  const words = text.split(/\s+/).filter(Boolean);
  if (words.length === 0) return text;
  const n = touched(words.length, rate);
  const out =
    op === 'delete' ? randomDeletion(words, rate, random)
    : op === 'synonym' ? synonymReplacement(words, n, random)
    : op === 'swap' ? randomSwap(words, n, random)
    : randomInsertion(words, n, random);
  return out.join(' ');
}

/** `count` augmented views of a text, each by an operation drawn at random. */
export function augmentViews(text: string, count: number, rate: number, random: () => number): string[] {
  return Array.from({ length: count }, () => augment(text, pick(AUGMENTATIONS, random), rate, random));
}
