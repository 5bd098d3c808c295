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
import { runSteps } from './steps.ts';

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
  return words(text).flatMap(wordTerms);
}

/** One word's terms. */
function wordTerms(word: string): string[] {
  return [`w:${word}`, ...charNgrams(word, 2)];
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
    const n = foldChar(ch);
    for (let k = 0; k < n.length; k++) {
      from.push(i);
      to.push(i + ch.length);
    }
    out += n;
    i += ch.length;
  }
  return { text: out, from: Int32Array.from(from), to: Int32Array.from(to) };
}

/** fold's text alone. */
function foldedText(text: string): string {
  if (OWN_FOLD.test(text)) return text;
  let out = '';
  for (const ch of text) out += foldChar(ch);
  return out;
}

/** Text whose every character is its own fold (foldChar's fast case). */
const OWN_FOLD = /^[^\u0041-\u005a\u0080-\uabff\ud7a4-\uffff]*$/;

/** normalizeText of one character; Hangul syllables and ASCII other than capitals are their own (the common case). */
function foldChar(ch: string): string {
  const c = ch.charCodeAt(0);
  if ((c >= 0xac00 && c <= 0xd7a3) || (c < 0x80 && !(c >= 0x41 && c <= 0x5a))) return ch;
  return normalizeText(ch);
}

/** The array twice as long: the same values, then `fill` (a new array is already zeros). */
function grow(a: Int32Array<ArrayBuffer>, fill: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  if (fill !== 0) b.fill(fill, a.length);
  b.set(a);
  return b;
}

/** Word numbers in chunks of 2^16: one array that doubled would be copied whole each time (at 100k titles ~64 MB, one long task). */
const WORDS_CHUNK_BITS = 16;
const WORDS_CHUNK = 1 << WORDS_CHUNK_BITS;

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

/**
 * The keyword index. Postings are typed arrays, term after term (a 100k-title catalog has ~12M of them: as arrays of
 * numbers, with every title's text folded character by character ahead of time, building took ~19 s and ~1.3 GB in
 * Node; now 3.8 s and ~125 MB). Per title it keeps only its folded text for the coverage check; the offset maps a
 * highlight needs are made for the titles a page shows. `TitleSearch.build` makes it in steps, so that a page can
 * give its thread back while a large catalog is indexed.
 */
export class TitleSearch {
  private readonly items: readonly Title[];
  private readonly cfg: SearchConfig;
  /** Term → its number; its postings are docs/tf[start[n] … start[n + 1]), in catalog order. */
  private readonly termIds = new Map<string, number>();
  private start = new Int32Array(0);
  private docs = new Int32Array(0);
  /** BM25F's pseudo term frequency per posting: Σ_f w_f · tf_f / (1 − b + b · len_f / avglen_f). */
  private tf = new Float32Array(0);
  /** Per title, its fields' folded text joined by newlines (for coverage checks). */
  private readonly haystack: string[] = [];
  /** A query's sums per title, which titles the query numbered `queries` touched (reused: scores). */
  private sums?: Float64Array;
  private touchedBy?: Int32Array;
  private queries = 0;

  /** The whole index at once (Node, tests); `index` is how its steps are run (`build` takes them instead). */
  constructor(items: readonly Title[], cfg: SearchConfig, index: (steps: Generator<void, void>) => void = runSteps) {
    this.items = items;
    this.cfg = cfg;
    index(this.indexSteps());
  }

  /**
   * The index made in steps: `pause` (app/yield.ts pauseAfter: it gives the thread back once its budget is spent) is
   * awaited every 8 titles, and `onProgress` told the titles done every 0.5 % (each title is read twice: once to
   * count, once to fill).
   */
  static async build(items: readonly Title[], cfg: SearchConfig, pause: () => Promise<void>, onProgress?: (done: number, total: number) => void): Promise<TitleSearch> {
    let steps!: Generator<void, void>;
    const search = new TitleSearch(items, cfg, (s) => (steps = s));
    const total = 2 * items.length;
    const tell = Math.max(8, Math.ceil(total / 200 / 8) * 8);
    let done = 0;
    while (!steps.next().done) {
      // Every 8 titles: the second pass writes each title's postings all over arrays of ~100 MB at 100k titles, and
      // while their pages are new (a page fault each) 64 titles took 50–70 ms in a slow Chromium.
      if (++done % 8 !== 0) continue;
      if (done % tell === 0) onProgress?.(done, total);
      await pause();
    }
    return search;
  }

  /** Yields after each title of each pass. */
  private *indexSteps(): Generator<void, void> {
    const { items, cfg } = this;
    const n = items.length;
    // Each distinct word's terms by number (a catalog repeats its words: looking every term up again, title after
    // title, was most of the time), and each title's fields as word numbers, so the second pass reads no text.
    const byWord = new Map<string, number>();
    const wordTermIds: Int32Array[] = [];
    const seq: Int32Array[] = [];
    let used = 0;
    const fieldEnd = new Int32Array(n * SEARCH_FIELDS.length);
    // Pass 1: each field's length (in terms) per title, and how many titles hold each term.
    const lengths = SEARCH_FIELDS.map(() => new Float64Array(n));
    let df = new Int32Array(1024);
    let lastDoc = new Int32Array(1024).fill(-1);
    for (let doc = 0; doc < n; doc++) {
      SEARCH_FIELDS.forEach((f, fi) => {
        for (const w of words(fieldText(items[doc], f))) {
          let word = byWord.get(w);
          if (word === undefined) {
            byWord.set(w, (word = wordTermIds.length));
            wordTermIds.push(Int32Array.from(wordTerms(w), (t) => this.termIds.get(t) ?? (this.termIds.set(t, this.termIds.size), this.termIds.size - 1)));
          }
          if ((used & (WORDS_CHUNK - 1)) === 0) seq.push(new Int32Array(WORDS_CHUNK));
          seq[used >>> WORDS_CHUNK_BITS][used++ & (WORDS_CHUNK - 1)] = word;
          const ids = wordTermIds[word];
          lengths[fi][doc] += ids.length;
          for (const id of ids) {
            if (id >= df.length) [df, lastDoc] = [grow(df, 0), grow(lastDoc, -1)];
            if (lastDoc[id] !== doc) {
              lastDoc[id] = doc;
              df[id]++;
            }
          }
        }
        fieldEnd[doc * SEARCH_FIELDS.length + fi] = used;
      });
      yield;
    }
    byWord.clear();
    const avg = lengths.map((l) => l.reduce((a, b) => a + b, 0) / Math.max(1, n) || 1);
    this.start = new Int32Array(this.termIds.size + 1);
    for (let id = 0; id < this.termIds.size; id++) this.start[id + 1] = this.start[id] + df[id];
    this.docs = new Int32Array(this.start[this.termIds.size]);
    this.tf = new Float32Array(this.docs.length);
    const fill = this.start.slice(0, -1);
    // Pass 2: the postings, title after title (so each term's titles come in catalog order).
    const tf = new Float64Array(this.termIds.size);
    const held: number[] = [];
    lastDoc.fill(-1);
    for (let doc = 0; doc < n; doc++) {
      SEARCH_FIELDS.forEach((f, fi) => {
        const norm = 1 - cfg.b + (cfg.b * lengths[fi][doc]) / avg[fi];
        const w = cfg.fieldWeights[f] / norm;
        const at = doc * SEARCH_FIELDS.length + fi;
        for (let k = at === 0 ? 0 : fieldEnd[at - 1]; k < fieldEnd[at]; k++) {
          for (const id of wordTermIds[seq[k >>> WORDS_CHUNK_BITS][k & (WORDS_CHUNK - 1)]]) {
            if (lastDoc[id] !== doc) {
              lastDoc[id] = doc;
              held.push(id);
            }
            tf[id] += w;
          }
        }
      });
      for (const id of held) {
        const at = fill[id]++;
        this.docs[at] = doc;
        this.tf[at] = tf[id];
        tf[id] = 0;
      }
      held.length = 0;
      this.haystack.push(SEARCH_FIELDS.map((f) => foldedText(fieldText(items[doc], f))).join('\n'));
      yield;
    }
  }

  /** idf(t) = ln(1 + (N − df + 0.5) / (df + 0.5)): never negative, so a common term still counts a little. */
  private idf(df: number): number {
    const n = this.items.length;
    return Math.log(1 + (n - df + 0.5) / (df + 0.5));
  }

  /**
   * BM25F score of every title with at least one query term (sparse: only touched titles): the titles in the order
   * they were first touched, their scores in `sums` (valid until the next query). Summed in an array, not a map: a
   * common word's postings run to tens of thousands at 100k titles.
   */
  private scores(query: string): { touched: number[]; sums: Float64Array } {
    const { k1 } = this.cfg;
    const n = this.items.length;
    if (this.sums?.length !== n) [this.sums, this.touchedBy] = [new Float64Array(n), new Int32Array(n)];
    const [sums, touchedBy] = [this.sums, this.touchedBy!];
    const mark = ++this.queries;
    const touched: number[] = [];
    for (const t of terms(query)) {
      const id = this.termIds.get(t);
      if (id === undefined) continue;
      const [from, to] = [this.start[id], this.start[id + 1]];
      const idf = this.idf(to - from);
      for (let i = from; i < to; i++) {
        const doc = this.docs[i];
        const tf = this.tf[i];
        if (touchedBy[doc] !== mark) {
          touchedBy[doc] = mark;
          sums[doc] = 0;
          touched.push(doc);
        }
        sums[doc] += (idf * tf * (k1 + 1)) / (k1 + tf);
      }
    }
    return { touched, sums };
  }

  /** Per query word, a test of whether title `doc` covers it (see the module comment). */
  private coverTests(query: string): Array<(doc: number) => boolean> {
    return [...new Set(words(query))].map((w) => {
      const prefixes = stems(w, this.cfg.prefixShare);
      return (doc) => prefixes.some((s) => this.haystack[doc].includes(s));
    });
  }

  /**
   * The similarity fallback's floor and first key: per title that covers at least one query word, the summed
   * idf of the words it covers (a rare word such as 회귀자 counts more than a common one such as 꿈꾸는). A query
   * no title shares a word with (`qqqzzzxx`) gets none, however its hashed n-grams happen to collide.
   */
  coverage(query: string): Map<number, number> {
    const { touched } = this.scores(query);
    // Every title covering a word shares its first bigram, so the candidates hold every title that covers it.
    const covering = this.coverTests(query).map((covers) => touched.filter(covers));
    const out = new Map<number, number>();
    covering.forEach((list) => {
      const idf = this.idf(list.length);
      for (const doc of list) out.set(doc, (out.get(doc) ?? 0) + idf);
    });
    return out;
  }

  /** Keyword matches (every query word covered), best BM25F first; ties keep catalog order. */
  keyword(query: string, k = Infinity): SearchHit[] {
    const tests = this.coverTests(query);
    if (!tests.length) return [];
    const { touched, sums } = this.scores(query);
    const hits = touched.filter((doc) => tests.every((covers) => covers(doc))).sort((a, b) => sums[b] - sums[a] || a - b);
    return hits.slice(0, k).map((index) => ({ index, score: sums[index], spans: this.highlight(index, query) }));
  }

  /**
   * Where the query shows in a title: each query word, or its longest prefix that counts (see above),
   * per field. Offsets are into the original field text, so a page can cut it into plain and marked pieces.
   */
  highlight(doc: number, query: string): Record<SearchField, Span[]> {
    const qwords = [...new Set(words(query))];
    const out = {} as Record<SearchField, Span[]>;
    for (const f of SEARCH_FIELDS) {
      const fd = fold(fieldText(this.items[doc], f));
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
