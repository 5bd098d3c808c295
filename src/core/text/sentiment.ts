/**
 * Review-note sentiment (seed paper 004's notes): "중반이 늘어지지만 그림은 최고" → how positive, in [0, 1].
 * A logistic regression over hashed character n-grams (1–4, across word boundaries, so particles and endings
 * count) and word uni/bigrams, trained on NSMC (`npm run train:sentiment`); small enough to ship with the app
 * and run offline with no model download. `SentimentModel.load(spec, bytes)` then `model.score(texts)`.
 */
import { DataError } from '../errors.ts';
import { rng, shuffle } from '../random.ts';
import { fnv1a } from './lexical.ts';
import { normalizeText, words } from './tokenize.ts';

export const SENTIMENT_MODEL = 'toonpick-sentiment';
export const SENTIMENT_VERSION = 1;

/** What `sentiment.json` holds beside the weights file (`sentiment.i8`: one int8 code per bucket). */
export interface SentimentSpec {
  format: typeof SENTIMENT_MODEL;
  version: typeof SENTIMENT_VERSION;
  /** Hashed feature buckets (a power of two). */
  dim: number;
  /** weight = code × scale. */
  scale: number;
  bias: number;
  /** How it was trained and what it reached (informational). */
  training?: Record<string, unknown>;
}

export interface SentimentTrainOptions {
  dim?: number;
  epochs?: number;
  /** Adagrad step size. */
  learningRate?: number;
  /** L2 penalty per update. */
  l2?: number;
  seed?: number;
}

/** The distinct hashed buckets of a text: character 1–4-grams of the normalised text, word unigrams and bigrams. */
function sentimentFeatures(text: string, dim: number): Uint32Array {
  const t = ` ${normalizeText(text).replace(/\s+/g, ' ').trim()} `;
  const chars = Array.from(t);
  const out = new Set<number>();
  const mask = dim - 1;
  for (let n = 1; n <= 4; n++) for (let i = 0; i + n <= chars.length; i++) out.add(fnv1a(`c${n}:${chars.slice(i, i + n).join('')}`) & mask);
  const ws = words(text);
  ws.forEach((w, i) => {
    out.add(fnv1a(`w:${w}`) & mask);
    if (i > 0) out.add(fnv1a(`b:${ws[i - 1]} ${w}`) & mask);
  });
  return Uint32Array.from(out);
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

export class SentimentModel {
  private constructor(
    readonly dim: number,
    private readonly weights: Float32Array,
    private readonly bias: number,
  ) {}

  /** Trains on labelled texts (1 = positive); deterministic for a seed. */
  static train(texts: readonly string[], labels: readonly number[], options: SentimentTrainOptions = {}): SentimentModel {
    const { dim = 2 ** 18, epochs = 6, learningRate = 0.2, l2 = 1e-6, seed = 7 } = options;
    if (dim & (dim - 1)) throw new RangeError(`sentiment: dim must be a power of two, got ${dim}`);
    const feats = texts.map((t) => sentimentFeatures(t, dim));
    const w = new Float32Array(dim);
    const g2 = new Float32Array(dim).fill(1e-8);
    let b = 0;
    let gb = 1e-8;
    const order = texts.map((_, i) => i);
    const random = rng(seed);
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (const i of shuffle(order, random)) {
        const f = feats[i];
        // Features are binary; scaled by 1/√count so long reviews do not dominate.
        const x = 1 / Math.sqrt(f.length || 1);
        let z = b;
        for (const k of f) z += w[k] * x;
        const g = sigmoid(z) - labels[i];
        for (const k of f) {
          const gk = g * x + l2 * w[k];
          g2[k] += gk * gk;
          w[k] -= (learningRate * gk) / Math.sqrt(g2[k]);
        }
        gb += g * g;
        b -= (learningRate * g) / Math.sqrt(gb);
      }
    }
    return new SentimentModel(dim, w, b);
  }

  /** Rebuilds a model from `sentiment.json` (parsed) and the bytes of `sentiment.i8`, checking both. */
  static load(spec: unknown, bytes: Uint8Array, file = 'sentiment.json'): SentimentModel {
    const s = spec as Partial<SentimentSpec> | null;
    if (!s || typeof s !== 'object') throw new DataError(file, 'is not a JSON object');
    if (s.format !== SENTIMENT_MODEL || s.version !== SENTIMENT_VERSION) throw new DataError(file, `is not ${SENTIMENT_MODEL} version ${SENTIMENT_VERSION}`, { field: 'format' });
    if (!Number.isInteger(s.dim) || s.dim! < 2 || s.dim! & (s.dim! - 1)) throw new DataError(file, 'must be a power of two', { field: 'dim' });
    for (const k of ['scale', 'bias'] as const) if (typeof s[k] !== 'number' || !Number.isFinite(s[k])) throw new DataError(file, 'must be a finite number', { field: k });
    if (bytes.byteLength !== s.dim) throw new DataError('sentiment.i8', `holds ${bytes.byteLength} bytes, the spec needs ${s.dim} (one int8 weight per bucket)`);
    const codes = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    return new SentimentModel(s.dim!, Float32Array.from(codes, (c) => c * s.scale!), s.bias!);
  }

  /** The model as shipped: the spec and one int8 code per bucket (value = code × scale). */
  store(training?: Record<string, unknown>): { spec: SentimentSpec; bytes: Uint8Array } {
    let max = 0;
    for (const v of this.weights) max = Math.max(max, Math.abs(v));
    const scale = max / 127 || 1;
    const codes = Int8Array.from(this.weights, (v) => Math.round(v / scale));
    return { spec: { format: SENTIMENT_MODEL, version: SENTIMENT_VERSION, dim: this.dim, scale, bias: this.bias, ...(training ? { training } : {}) }, bytes: new Uint8Array(codes.buffer) };
  }

  /** P(positive) per text, in [0, 1]. */
  score(texts: readonly string[]): number[] {
    return texts.map((t) => {
      const f = sentimentFeatures(t, this.dim);
      const x = 1 / Math.sqrt(f.length || 1);
      let z = this.bias;
      for (const k of f) z += this.weights[k] * x;
      return sigmoid(z);
    });
  }
}

/**
 * The baseline to beat: a word lexicon from the training set — each word's smoothed log-odds of appearing in a
 * positive rather than a negative review; a text is positive when its words' sum is > 0.
 */
export class SentimentLexicon {
  private constructor(private readonly polarity: Map<string, number>) {}

  static build(texts: readonly string[], labels: readonly number[], minCount = 2): SentimentLexicon {
    const pos = new Map<string, number>();
    const neg = new Map<string, number>();
    let [np, nn] = [0, 0];
    texts.forEach((t, i) => {
      const side = labels[i] === 1 ? pos : neg;
      for (const w of new Set(words(t))) {
        side.set(w, (side.get(w) ?? 0) + 1);
        if (labels[i] === 1) np++;
        else nn++;
      }
    });
    const polarity = new Map<string, number>();
    for (const w of new Set([...pos.keys(), ...neg.keys()])) {
      const [p, n] = [pos.get(w) ?? 0, neg.get(w) ?? 0];
      if (p + n >= minCount) polarity.set(w, Math.log((p + 1) / (np + 1)) - Math.log((n + 1) / (nn + 1)));
    }
    return new SentimentLexicon(polarity);
  }

  /** 1 (positive) or 0 per text. */
  classify(texts: readonly string[]): number[] {
    return texts.map((t) => (words(t).reduce((s, w) => s + (this.polarity.get(w) ?? 0), 0) > 0 ? 1 : 0));
  }
}

/** Rows of a tab-separated file with `document` and `label` columns (NSMC's layout); bad rows are a DataError. */
export function parseSentimentTsv(text: string, file: string): { texts: string[]; labels: number[] } {
  const lines = text.split(/\r?\n/).filter((l) => l.length > 0);
  const header = (lines[0] ?? '').split('\t');
  const [di, li] = [header.indexOf('document'), header.indexOf('label')];
  if (di < 0 || li < 0) throw new DataError(file, 'needs a header with "document" and "label" columns (tab-separated)');
  const texts: string[] = [];
  const labels: number[] = [];
  for (let n = 1; n < lines.length; n++) {
    const cells = lines[n].split('\t');
    const label = Number(cells[li]);
    if (label !== 0 && label !== 1) throw new DataError(file, `line ${n + 1}: label must be 0 or 1`, { field: 'label' });
    texts.push(cells[di] ?? '');
    labels.push(label);
  }
  if (!texts.length) throw new DataError(file, 'has no rows');
  return { texts, labels };
}

/** Share of predictions (≥ 0.5 is positive) equal to the labels. */
export function accuracy(predicted: readonly number[], labels: readonly number[]): number {
  return predicted.reduce((s, p, i) => s + ((p >= 0.5 ? 1 : 0) === labels[i] ? 1 : 0), 0) / labels.length;
}
