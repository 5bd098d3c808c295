/**
 * Browse: the catalog filtered by genres, completion and a text in its titles or authors, in one of its orders. On a
 * large catalog (100k titles) every keystroke used to fold every title and author again and sort what was left: now
 * each order is sorted once per catalog and the folded text is kept, so a keystroke walks one sorted order once.
 * Ties keep catalog order, as a stable sort of the matches would.
 */
import type { Title } from './snapshot/format.ts';
import { genreVocabulary } from './snapshot/build.ts';
import { normalizeText } from './text/tokenize.ts';

/**
 * Catalog order (the snapshot's), most popular, best rated, newest (by year), by title in the reader's language, or
 * by a value of the page's own (highest first), named for the cache: the same name must mean the same values.
 */
export type BrowseSort = 'catalog' | 'popular' | 'rating' | 'newest' | 'title' | { name: string; value: (t: Title) => number | undefined };

export interface BrowseQuery {
  /** Titles with every one of these genres. */
  genres: readonly string[];
  /** Text the title or the author holds (normalised as normalizeText does; empty: any). */
  text: string;
  /** Titles this keeps (the page's other filters: completed only, what the last update added…); absent: all. */
  keep?: (t: Title) => boolean;
  sort: BrowseSort;
  /** The language titles are sorted in (`title` only). */
  locale: string;
}

/** Per catalog: its orders by sort (and language), its genres, and its titles' and authors' folded text once made. */
interface Kept {
  orders: Map<string, Int32Array>;
  genres?: string[];
  titles: string[];
  authors: Array<string | undefined>;
}
const kept = new WeakMap<readonly Title[], Kept>();

function keptFor(items: readonly Title[]): Kept {
  let k = kept.get(items);
  if (!k) kept.set(items, (k = { orders: new Map(), titles: [], authors: [] }));
  return k;
}

/** The catalog's genres, most frequent first (the genre chips), counted once per catalog. */
export function browseGenres(items: readonly Title[]): string[] {
  const k = keptFor(items);
  return (k.genres ??= genreVocabulary(items));
}

/** Folds the titles and authors not folded yet, `pause` awaited every `slice` titles (a page prepares while it draws). */
export async function prepareBrowse(items: readonly Title[], pause: () => Promise<void>, slice = 5000): Promise<void> {
  const k = keptFor(items);
  while (k.titles.length < items.length) {
    foldUpTo(items, k, Math.min(items.length, k.titles.length + slice));
    await pause();
  }
}

function foldUpTo(items: readonly Title[], k: Kept, end: number): void {
  for (let i = k.titles.length; i < end; i++) {
    k.titles.push(normalizeText(items[i].title));
    k.authors.push(items[i].author === undefined ? undefined : normalizeText(items[i].author!));
  }
}

/** The catalog's rows in this order, sorted once per catalog. */
function orderOf(items: readonly Title[], k: Kept, sort: BrowseSort, locale: string): Int32Array {
  const key = sort === 'title' ? `title ${locale}` : typeof sort === 'string' ? sort : `by ${sort.name}`;
  let order = k.orders.get(key);
  if (order) return order;
  // Plain loops: Array.from and Int32Array.from with a map function are slow paths (~40 ms at 100k in Chromium).
  const rows = new Array<number>(items.length);
  for (let i = 0; i < rows.length; i++) rows[i] = i;
  // Titles without the sorted value go last (Array.prototype.sort is stable: ties keep catalog order).
  const by = (v: (t: Title) => number | undefined) => rows.sort((a, b) => (v(items[b]) ?? -Infinity) - (v(items[a]) ?? -Infinity));
  if (sort === 'popular') by((t) => t.popularity);
  else if (sort === 'rating') by((t) => t.rating);
  else if (sort === 'newest') by((t) => t.year);
  else if (typeof sort === 'object') by(sort.value);
  else if (sort === 'title') {
    const collator = new Intl.Collator(locale); // what localeCompare(b, locale) uses, made once
    rows.sort((a, b) => collator.compare(items[a].title, items[b].title));
  }
  order = new Int32Array(rows.length);
  for (let i = 0; i < rows.length; i++) order[i] = rows[i];
  k.orders.set(key, order);
  return order;
}

/** The titles that match, in the query's order. */
export function browse(items: readonly Title[], q: BrowseQuery): Title[] {
  const k = keptFor(items);
  const text = normalizeText(q.text.trim());
  const genres = [...q.genres]; // read once: a page's reactive array costs a proxy call per read, per title
  if (text) foldUpTo(items, k, items.length);
  const out: Title[] = [];
  const order = orderOf(items, k, q.sort, q.locale);
  for (let r = 0; r < order.length; r++) {
    const i = order[r];
    // The folded text first: it is read without touching the title object.
    if (text && !k.titles[i].includes(text) && !(k.authors[i]?.includes(text) ?? false)) continue;
    const t = items[i];
    if (q.keep && !q.keep(t)) continue;
    if (genres.length && !genres.every((g) => t.genres.includes(g))) continue;
    out.push(t);
  }
  return out;
}
