/**
 * Semantic textual similarity (STS) data and its two quality figures, as the webtoon paper reports them:
 * Pearson and Spearman correlation between the cosine of two sentence vectors and the gold score.
 * Data: KorSTS (`sts-{train,dev,test}.tsv`: genre, filename, year, id, score 0–5, sentence1, sentence2).
 */
import { DataError } from '../errors.ts';

export interface StsPair {
  /** Gold similarity, 0 (unrelated) to 5 (same meaning). */
  score: number;
  a: string;
  b: string;
}

const COLUMNS = ['genre', 'filename', 'year', 'id', 'score', 'sentence1', 'sentence2'];

/** Parses a KorSTS TSV file (header line first); a malformed row is an error naming its line. */
export function parseStsTsv(text: string, file: string): StsPair[] {
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.split('\t') ?? [];
  if (COLUMNS.some((c, i) => header[i] !== c)) throw new DataError(file, `header must be ${COLUMNS.join(' ')}, got "${lines[0]}"`);
  const pairs: StsPair[] = [];
  for (let n = 1; n < lines.length; n++) {
    if (!lines[n].trim()) continue;
    const cols = lines[n].split('\t');
    if (cols.length !== COLUMNS.length) throw new DataError(file, `has ${cols.length} columns, expected ${COLUMNS.length}`, { item: `line ${n + 1}` });
    const score = Number(cols[4]);
    if (!Number.isFinite(score) || score < 0 || score > 5) throw new DataError(file, `must be a number from 0 to 5, got "${cols[4]}"`, { item: `line ${n + 1}`, field: 'score' });
    pairs.push({ score, a: cols[5], b: cols[6] });
  }
  if (pairs.length === 0) throw new DataError(file, 'has no pairs');
  return pairs;
}

/** Pearson r = cov(x, y) / (σx σy). */
export function pearson(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  if (n !== y.length || n < 2) throw new RangeError(`pearson needs two series of equal length ≥ 2 (got ${x.length} and ${y.length})`);
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
  mx /= n;
  my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i] - mx, dy = y[i] - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : 0;
}

/** Ranks 1..n, ties sharing their mean rank (the convention Spearman's ρ needs). */
export function ranks(x: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const r = new Float64Array(x.length);
  for (let s = 0; s < idx.length; ) {
    let e = s;
    while (e + 1 < idx.length && x[idx[e + 1]] === x[idx[s]]) e++;
    for (let k = s; k <= e; k++) r[idx[k]] = (s + e) / 2 + 1;
    s = e + 1;
  }
  return r;
}

/** Spearman ρ = Pearson r of the ranks. */
export function spearman(x: ArrayLike<number>, y: ArrayLike<number>): number {
  return pearson(ranks(x), ranks(y));
}

/** Cosine of each row pair of two row-major matrices (rows need not be normalised). */
export function rowCosines(a: Float32Array, b: Float32Array, dim: number): Float64Array {
  const n = a.length / dim;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let d = 0, na = 0, nb = 0;
    for (let k = i * dim; k < (i + 1) * dim; k++) {
      d += a[k] * b[k];
      na += a[k] * a[k];
      nb += b[k] * b[k];
    }
    out[i] = na > 0 && nb > 0 ? d / Math.sqrt(na * nb) : 0;
  }
  return out;
}

export interface StsFigures {
  pearson: number;
  spearman: number;
  pairs: number;
}

/** Pearson and Spearman of cosine(a_i, b_i) against the gold scores. */
export function stsFigures(pairs: readonly StsPair[], a: Float32Array, b: Float32Array, dim: number): StsFigures {
  const cos = rowCosines(a, b, dim);
  const gold = pairs.map((p) => p.score);
  return { pearson: pearson(cos, gold), spearman: spearman(cos, gold), pairs: pairs.length };
}
