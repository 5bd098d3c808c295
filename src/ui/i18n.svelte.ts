/**
 * The UI language: Korean or English, switchable, default from the browser, remembered on this device.
 * `strings` reads the current table through reactive state, so every `{strings.x}` in a template
 * re-renders when the language changes. Dates and numbers use the same locale.
 */
import { en, type Messages } from './strings.ts';
import { ko } from './strings.ko.ts';
import type { Recommendation } from '../core/ranker.ts';
import { POPULARITY_SPACE } from '../core/spaces.ts';

export type Locale = 'en' | 'ko';
export const LOCALES: Record<Locale, string> = { ko: '한국어', en: 'English' };
const TABLES: Record<Locale, Messages> = { en, ko };
const KEY = 'toonpick.locale';

function initialLocale(): Locale {
  const saved = globalThis.localStorage?.getItem(KEY);
  if (saved === 'en' || saved === 'ko') return saved;
  return (globalThis.navigator?.language ?? 'en').toLowerCase().startsWith('ko') ? 'ko' : 'en';
}

let current = $state<Locale>(initialLocale());
if (globalThis.document) document.documentElement.lang = current;

export function locale(): Locale {
  return current;
}

export function setLocale(l: Locale) {
  current = l;
  globalThis.localStorage?.setItem(KEY, l);
  document.documentElement.lang = l;
}

export const strings: Messages = new Proxy(en, {
  get: (_, key) => TABLES[current][key as keyof Messages],
});

/** One formatter per language and options: making one costs far more than formatting (the progress bar formats often). */
const numberFormats = new Map<string, Intl.NumberFormat>();

export function formatNumber(n: number, options?: Intl.NumberFormatOptions): string {
  const key = `${current} ${options ? JSON.stringify(options) : ''}`;
  let format = numberFormats.get(key);
  if (!format) numberFormats.set(key, (format = new Intl.NumberFormat(current, options)));
  return format.format(n);
}

export function formatDate(t: number): string {
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeStyle: 'short' }).format(t);
}

/**
 * A genre as the reader's language names it: the catalog's genres are Korean (the demo's are Naver's), and the
 * English table names the ones it knows; any other genre shows as the catalog has it. Filters keep the raw name.
 */
export function genreName(g: string): string {
  return strings.genreNames[g] ?? g;
}

/** The one-line reason on a card: which space, and which history title it came from. */
export function why(space: string, closest?: string): string {
  const s = strings.spaceNames[space] ?? space;
  return closest ? strings.because(closest, s, []) : strings.similar(s);
}

/**
 * A For you card's reason, from everything that tells it apart: the spaces that carried it, the history title
 * behind the strongest, the genres both share; or, for a surprise, where it comes from. Two cards read the same
 * only when these are the same.
 */
export function reasonOf(r: Recommendation, titleOf: (row: number) => string): string {
  return reasonIn(strings, r, titleOf);
}

/** reasonOf in one string table. Popularity is no likeness: it gets its own words, not "similar …". */
export function reasonIn(m: Messages, r: Recommendation, titleOf: (row: number) => string): string {
  const genre = (g: string) => m.genreNames[g] ?? g;
  const s = r.why.serendipity;
  if (s) return s.basis === 'catalog' ? m.surpriseWhyCatalog(genre(s.category), s.similarTo) : m.surpriseWhy(genre(s.category), s.similarTo);
  if (r.why.departure) return m.departureWhy(r.why.departure.genres.map(genre));
  const alike = r.why.spaces.filter((n) => n !== POPULARITY_SPACE);
  const popular = alike.length < r.why.spaces.length;
  if (popular && !alike.length) return m.popularWhy;
  const what = m.spaceList(alike.map((n) => m.spaceNames[n] ?? n));
  return (r.why.closest === undefined ? m.similar(what) : m.because(titleOf(r.why.closest), what, r.why.shared.map(genre))) + (popular ? m.alsoPopular : '');
}
