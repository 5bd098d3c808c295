/**
 * The `lexical` space: hashed character n-gram TF-IDF, L2-normalised. A real text vector that needs no
 * model download, so the first recommendations and offline search work with the snapshot alone.
 * The IDF table is part of the space, so a query or a title added later is embedded with the same ruler.
 */
import { lexicalFeatures } from './tokenize.ts';
import { normalize } from '../vectors.ts';
import { synopsisOf } from '../snapshot/format.ts';

export const LEXICAL_ENCODER = 'hashed-char-ngram-tfidf';
export const LEXICAL_VERSION = 1;

/** 32-bit FNV-1a over UTF-16 code units: stable across Node and browsers. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export interface LexicalFields {
  id: string;
  title: string;
  synopsis?: string;
  author?: string;
}

/** Title words matter more than any one synopsis word; the author is one whole token. */
function weightedFeatures(f: LexicalFields): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const t of lexicalFeatures(f.title)) out.push([t, 2]);
  for (const t of lexicalFeatures(synopsisOf(f))) out.push([t, 1]);
  if (f.author) out.push([`a:${f.author.normalize('NFKC').toLowerCase()}`, 1]);
  return out;
}

/** Sublinear term frequencies per hashed bucket; the sign bit halves the bias of hash collisions. */
function hashedTf(f: LexicalFields, dim: number): Map<number, number> {
  const counts = new Map<string, number>();
  for (const [t, w] of weightedFeatures(f)) counts.set(t, (counts.get(t) ?? 0) + w);
  const tf = new Map<number, number>();
  for (const [t, c] of counts) {
    const h = fnv1a(t);
    const bucket = h % dim;
    const sign = h & 0x80000000 ? -1 : 1;
    tf.set(bucket, (tf.get(bucket) ?? 0) + sign * (1 + Math.log(c)));
  }
  return tf;
}

export class LexicalEncoder {
  readonly dim: number;
  readonly idf: Float32Array;

  constructor(dim: number, idf: Float32Array) {
    if (idf.length !== dim) throw new Error(`lexical idf has ${idf.length} entries, expected ${dim}`);
    this.dim = dim;
    this.idf = idf;
  }

  /** Learns the IDF table from a corpus: idf = ln((1 + N) / (1 + df)) + 1. */
  static fit(docs: LexicalFields[], dim = 1024): LexicalEncoder {
    const df = new Float64Array(dim);
    for (const d of docs) for (const b of hashedTf(d, dim).keys()) df[b]++;
    const idf = new Float32Array(dim);
    for (let b = 0; b < dim; b++) idf[b] = Math.log((1 + docs.length) / (1 + df[b])) + 1;
    return new LexicalEncoder(dim, idf);
  }

  embedOne(f: LexicalFields, out = new Float32Array(this.dim)): Float32Array {
    out.fill(0);
    for (const [b, v] of hashedTf(f, this.dim)) out[b] = v * this.idf[b];
    return normalize(out);
  }

  /** Row-major N×dim. */
  embed(docs: LexicalFields[]): Float32Array {
    const out = new Float32Array(docs.length * this.dim);
    docs.forEach((d, i) => this.embedOne(d, out.subarray(i * this.dim, (i + 1) * this.dim)));
    return out;
  }

  /** A free-text query is embedded as a title-less synopsis. */
  embedQuery(text: string): Float32Array {
    return this.embedOne({ id: '', title: '', synopsis: text });
  }
}
