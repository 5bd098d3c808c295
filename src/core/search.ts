/**
 * Title search (seed paper 004): BM25F keyword search over title, author, genres and synopsis, with a
 * similarity fallback when the keywords find nothing.
 *
 * Terms are Korean-aware (tokenize.ts): whole words plus character bigrams of each word, so "회귀자를"
 * still scores against "회귀자가". A title is a keyword match only when it covers every query word: it
 * holds the word, or a prefix of it at least `prefixShare` of its length (particles and endings differ,
 * stems come first and don't). Free text such as "복수를 꿈꾸는 회귀자" rarely covers every word of any
 * one title; then the search falls back to similarity in the best text space and the page says so.
 */
import type { SearchConfig } from './config.ts';
import { synopsisOf, type Space, type Title } from './snapshot/format.ts';
import type { Snapshot } from './snapshot/snapshot.ts';
import { LexicalEncoder } from './text/lexical.ts';
import { charNgrams, normalizeText, words } from './text/tokenize.ts';
import { scanSpace } from './vectors.ts';
import { topK } from './math/top-k.ts';

export const SEARCH_FIELDS = ['title', 'author', 'genres', 'synopsis'] as const;
export type SearchField = (typeof SEARCH_FIELDS)[number];

/** A highlighted range [start, end) in a field's original text (UTF-16 offsets, for String.slice). */
export interface Span {
  start: number;
  end: number;
}

export interface SearchHit {
  index: number;
  score: number;
  /** Ranges to highlight per field; genres are joined with ' · ' as the page shows them. */
  spans: Record<SearchField, Span[]>;
}

export const GENRE_SEPARATOR = ' · ';

function fieldText(t: Title, f: SearchField): string {
  if (f === 'genres') return t.genres.join(GENRE_SEPARATOR);
  return f === 'author' ? (t.author ?? '') : f === 'synopsis' ? synopsisOf(t) : t[f];
}

/** BM25 terms of a text: `w:<word>` for each word and its character bigrams (with edge marks). */
function terms(text: string): string[] {
  const out: string[] = [];
  for (const w of words(text)) {
    out.push(`w:${w}`);
    for (const g of charNgrams(w, 2)) out.push(g);
  }
  return out;
}

/** The prefixes of a word that count as it occurring, longest first (see the module comment). */
function stems(word: string, share: number): string[] {
  const chars = Array.from(word);
  const min = chars.length <= 2 ? chars.length : Math.max(2, Math.ceil(share * chars.length));
  const out: string[] = [];
  for (let n = chars.length; n >= min; n--) out.push(chars.slice(0, n).join(''));
  return out;
}

/** Normalised text plus, per normalised UTF-16 unit, where it came from in the original. */
interface Folded {
  text: string;
  from: Int32Array;
  to: Int32Array;
}

/** normalizeText one character at a time, so every match maps back to the original offsets. */
function fold(text: string): Folded {
  let out = '';
  const from: number[] = [];
  const to: number[] = [];
  let i = 0;
  for (const ch of text) {
    const n = normalizeText(ch);
    for (let k = 0; k < n.length; k++) {
      from.push(i);
      to.push(i + ch.length);
    }
    out += n;
    i += ch.length;
  }
  return { text: out, from: Int32Array.from(from), to: Int32Array.from(to) };
}

function occurrences(haystack: string, needle: string): number[] {
  const at: number[] = [];
  if (!needle) return at;
  for (let i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) at.push(i);
  return at;
}

/** Merges overlapping or touching ranges. */
function merge(spans: Span[]): Span[] {
  spans.sort((a, b) => a.start - b.start || a.end - b.end);
  const out: Span[] = [];
  for (const s of spans) {
    const last = out.at(-1);
    if (last && s.start <= last.end) last.end = Math.max(last.end, s.end);
    else out.push({ ...s });
  }
  return out;
}

interface Posting {
  docs: number[];
  /** BM25F's pseudo term frequency per doc: Σ_f w_f · tf_f / (1 − b + b · len_f / avglen_f). */
  tf: number[];
}

export class TitleSearch {
  private readonly items: readonly Title[];
  private readonly cfg: SearchConfig;
  private readonly postings = new Map<string, Posting>();
  /** Per title, per field, the folded text (for coverage checks and highlights). */
  private readonly folded: Array<Record<SearchField, Folded>>;
  private readonly haystack: string[];

  constructor(items: readonly Title[], cfg: SearchConfig) {
    this.items = items;
    this.cfg = cfg;
    const perField = SEARCH_FIELDS.map((f) => items.map((t) => terms(fieldText(t, f))));
    const avg = perField.map((docs) => docs.reduce((a, d) => a + d.length, 0) / Math.max(1, docs.length) || 1);
    items.forEach((_, doc) => {
      const tf = new Map<string, number>();
      SEARCH_FIELDS.forEach((f, fi) => {
        const ts = perField[fi][doc];
        const norm = 1 - cfg.b + (cfg.b * ts.length) / avg[fi];
        const w = cfg.fieldWeights[f] / norm;
        for (const t of ts) tf.set(t, (tf.get(t) ?? 0) + w);
      });
      for (const [t, v] of tf) {
        let p = this.postings.get(t);
        if (!p) this.postings.set(t, (p = { docs: [], tf: [] }));
        p.docs.push(doc);
        p.tf.push(v);
      }
    });
    this.folded = items.map((t) => Object.fromEntries(SEARCH_FIELDS.map((f) => [f, fold(fieldText(t, f))])) as Record<SearchField, Folded>);
    this.haystack = this.folded.map((r) => SEARCH_FIELDS.map((f) => r[f].text).join('\n'));
  }

  /** idf(t) = ln(1 + (N − df + 0.5) / (df + 0.5)): never negative, so a common term still counts a little. */
  private idf(df: number): number {
    const n = this.items.length;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  /** BM25F score of every title with at least one query term (sparse: only touched titles). */
  private scores(query: string): Map<number, number> {
    const { k1 } = this.cfg;
    const out = new Map<number, number>();
    for (const t of terms(query)) {
      const p = this.postings.get(t);
      if (!p) continue;
      const idf = this.idf(p.docs.length);
      p.docs.forEach((doc, i) => out.set(doc, (out.get(doc) ?? 0) + (idf * p.tf[i] * (k1 + 1)) / (k1 + p.tf[i])));
    }
    return out;
  }

  /** Whether title `doc` covers query word `w` (see the module comment). */
  private covers(doc: number, w: string): boolean {
    const text = this.haystack[doc];
    return stems(w, this.cfg.prefixShare).some((s) => text.includes(s));
  }

  /**
   * The similarity fallback's floor and first key: per title that covers at least one query word, the summed
   * idf of the words it covers (a rare word such as 회귀자 counts more than a common one such as 꿈꾸는). A query
   * no title shares a word with (`qqqzzzxx`) gets none, however its hashed n-grams happen to collide.
   */
  coverage(query: string): Map<number, number> {
    const qwords = [...new Set(words(query))];
    const docs = [...this.scores(query).keys()];
    // Every title covering a word shares its first bigram, so the candidates hold every title that covers it.
    const covering = qwords.map((w) => docs.filter((doc) => this.covers(doc, w)));
    const out = new Map<number, number>();
    covering.forEach((list) => {
      const idf = this.idf(list.length);
      for (const doc of list) out.set(doc, (out.get(doc) ?? 0) + idf);
    });
    return out;
  }

  /** Keyword matches (every query word covered), best BM25F first; ties keep catalog order. */
  keyword(query: string, k = Infinity): SearchHit[] {
    const qwords = [...new Set(words(query))];
    if (!qwords.length) return [];
    const hits = [...this.scores(query)]
      .filter(([doc]) => qwords.every((w) => this.covers(doc, w)))
      .sort((a, b) => b[1] - a[1] || a[0] - b[0])
      .slice(0, k);
    return hits.map(([index, score]) => ({ index, score, spans: this.highlight(index, query) }));
  }

  /**
   * Where the query shows in a title: each query word, or its longest prefix that counts (see above),
   * per field. Offsets are into the original field text, so a page can cut it into plain and marked pieces.
   */
  highlight(doc: number, query: string): Record<SearchField, Span[]> {
    const qwords = [...new Set(words(query))];
    const out = {} as Record<SearchField, Span[]>;
    for (const f of SEARCH_FIELDS) {
      const fd = this.folded[doc][f];
      const raw: Span[] = [];
      for (const w of qwords) {
        const stem = stems(w, this.cfg.prefixShare).find((s) => fd.text.includes(s));
        if (stem) for (const s of occurrences(fd.text, stem)) raw.push({ start: fd.from[s], end: fd.to[s + stem.length - 1] });
      }
      out[f] = merge(raw);
    }
    return out;
  }
}

/** Cuts a text into plain and highlighted pieces for rendering as text nodes (never as HTML). */
export function splitBySpans(text: string, spans: readonly Span[]): Array<{ text: string; mark: boolean }> {
  const out: Array<{ text: string; mark: boolean }> = [];
  let at = 0;
  for (const s of spans) {
    if (s.start > at) out.push({ text: text.slice(at, s.start), mark: false });
    if (s.end > s.start) out.push({ text: text.slice(s.start, s.end), mark: true });
    at = Math.max(at, s.end);
  }
  if (at < text.length) out.push({ text: text.slice(at), mark: false });
  return out;
}

/** The k titles closest to a query vector in a normalised space (cosine), best first. */
export function similarTitles(space: Space, query: Float32Array, k: number): Array<{ index: number; score: number }> {
  if (query.length !== space.dim) throw new RangeError(`query vector has ${query.length} values, space ${space.name} has dim ${space.dim}`);
  const scores = scanSpace(space, query);
  return topK(scores, k).map((index) => ({ index, score: scores[index] }));
}

/**
 * Free text that no title matches as keywords, answered by similarity in the lexical space above a floor: only
 * titles covering at least one query word (TitleSearch.coverage), those covering rarer words first, then the
 * closest. "복수를 꿈꾸는 회귀자" thus puts 광마회귀 (a 회귀자) before titles that share only 꿈꾸는.
 */
export function lexicalFallback(index: TitleSearch, space: Space, vector: Float32Array, query: string, k: number): Array<{ index: number; score: number }> {
  const covered = index.coverage(query);
  if (!covered.size) return [];
  const scores = scanSpace(space, vector);
  return [...covered]
    .sort((a, b) => b[1] - a[1] || scores[b[0]] - scores[a[0]] || a[0] - b[0])
    .slice(0, k)
    .map(([i]) => ({ index: i, score: scores[i] }));
}

/** The lexical space's encoder, rebuilt from the snapshot's IDF table, to embed a free-text query. */
export function lexicalEncoderOf(snapshot: Pick<Snapshot, 'spaces' | 'blobs'>): LexicalEncoder {
  const space = snapshot.spaces.get('lexical');
  if (!space) throw new Error('this snapshot has no lexical space');
  const file = space.encoder.files?.idf;
  const bytes = file ? snapshot.blobs.get(file) : undefined;
  if (!bytes) throw new Error(`the lexical space's IDF table (${file ?? 'encoder.files.idf'}) is missing from the snapshot`);
  let idf = IDF_TABLES.get(bytes);
  if (!idf) {
    // Copied once per snapshot (the bytes may sit at any offset); the loader has checked its length and values.
    idf = new Float32Array(bytes.byteLength / 4);
    new Uint8Array(idf.buffer).set(bytes);
    IDF_TABLES.set(bytes, idf);
  }
  return new LexicalEncoder(space.dim, idf);
}

/** The IDF table decoded from each snapshot's file bytes. */
const IDF_TABLES = new WeakMap<Uint8Array, Float32Array>();

/** True when a query vector has nothing in common with the space (all zeros): no similarity to show. */
export function isEmptyVector(v: Float32Array): boolean {
  return v.every((x) => x === 0);
}
