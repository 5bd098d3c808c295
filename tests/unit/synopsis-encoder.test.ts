import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EncoderLoadError, SynopsisEncoder } from '../../src/core/text/synopsis-encoder.ts';

// The tiny BERT made by scripts/make-tiny-model.py; reference.json comes from its PyTorch twin.
const MODELS = fileURLToPath(new URL('../fixtures/models/', import.meta.url));
const MODEL_ID = 'toonpick/tiny-bert';

interface RefItem {
  text: string;
  tokens: string[];
  input_ids: number[];
  embedding: number[];
}
const ref = JSON.parse(readFileSync(`${MODELS}${MODEL_ID}/reference.json`, 'utf8')) as {
  max_length: number;
  dim: number;
  items: RefItem[];
};
const texts = ref.items.map((r) => r.text);

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('SynopsisEncoder on the tiny fixture model', () => {
  let enc: SynopsisEncoder;
  beforeAll(async () => {
    enc = await SynopsisEncoder.load({ modelId: MODEL_ID, localModelPath: MODELS, allowRemoteModels: false, dtype: 'fp32' });
  });
  afterAll(async () => {
    await enc?.dispose();
  });

  it('reports its shape', () => {
    expect(enc.modelId).toBe(MODEL_ID);
    expect(enc.dim).toBe(ref.dim);
    expect(enc.maxTokens).toBe(ref.max_length);
  });

  it('tokenizes exactly like the reference, truncation included', () => {
    const ids = enc.tokenize(texts);
    ref.items.forEach((r, i) => expect(ids[i], r.text).toEqual(r.input_ids));
    // The fixture must really exercise truncation, or the check above proves little about it.
    const longest = ids.reduce((a, b) => (b.length > a.length ? b : a));
    expect(longest.length).toBe(ref.max_length);
    expect(longest.at(-1)).toBe(ref.items[0].input_ids.at(-1)); // still ends with [SEP]
  });

  it('matches the PyTorch embeddings within 1e-4', async () => {
    const out = await enc.embed(texts);
    expect(out).toBeInstanceOf(Float32Array);
    expect(out.length).toBe(texts.length * enc.dim);
    ref.items.forEach((r, i) => {
      expect(maxAbsDiff(out.subarray(i * enc.dim, (i + 1) * enc.dim), r.embedding), r.text).toBeLessThanOrEqual(1e-4);
    });
  });

  it('gives unit vectors that differ between texts', async () => {
    const out = await enc.embed(texts);
    const n = texts.length;
    for (let i = 0; i < n; i++) {
      let ss = 0;
      for (let k = 0; k < enc.dim; k++) ss += out[i * enc.dim + k] ** 2;
      expect(Math.sqrt(ss)).toBeCloseTo(1, 5);
      for (let j = 0; j < i; j++) expect(maxAbsDiff(out.subarray(i * enc.dim, (i + 1) * enc.dim), out.subarray(j * enc.dim, (j + 1) * enc.dim))).toBeGreaterThan(0.05);
    }
  });

  it('embeds a batch exactly as it embeds one text at a time', async () => {
    const batched = await enc.embed(texts);
    const single = new Float32Array(batched.length);
    for (let i = 0; i < texts.length; i++) single.set(await enc.embed([texts[i]]), i * enc.dim);
    expect(maxAbsDiff(batched, single)).toBeLessThanOrEqual(1e-5);

    // Several batches with padding in each, and a repeated text, must land in input order.
    const small = await SynopsisEncoder.load({ modelId: MODEL_ID, localModelPath: MODELS, allowRemoteModels: false, batchSize: 3 });
    try {
      const shuffled = [texts[3], texts[7], texts[0], texts[8], texts[3], texts[5], texts[1]];
      const got = await small.embed(shuffled);
      const want = new Float32Array(got.length);
      shuffled.forEach((t, k) => {
        const i = texts.indexOf(t);
        want.set(single.subarray(i * enc.dim, (i + 1) * enc.dim), k * enc.dim);
      });
      expect(maxAbsDiff(got, want)).toBeLessThanOrEqual(1e-5);
    } finally {
      await small.dispose();
    }
  });

  it('returns an empty matrix for no texts', async () => {
    expect((await enc.embed([])).length).toBe(0);
  });

  it('honours a smaller maxTokens, keeping the closing [SEP]', async () => {
    const short = await SynopsisEncoder.load({ modelId: MODEL_ID, localModelPath: MODELS, allowRemoteModels: false, maxTokens: 8 });
    try {
      const long = ref.items.find((r) => r.input_ids.length === ref.max_length)!;
      const [ids] = short.tokenize([long.text]);
      expect(ids).toEqual([...long.input_ids.slice(0, 7), long.input_ids.at(-1)]);
      expect(maxAbsDiff(await short.embed([long.text]), long.embedding)).toBeGreaterThan(1e-3);
    } finally {
      await short.dispose();
    }
  });
});

describe('SynopsisEncoder failures', () => {
  it('rejects quickly and clearly when the model folder is missing', async () => {
    const started = Date.now();
    const err = await SynopsisEncoder.load({ modelId: 'toonpick/no-such-model', localModelPath: MODELS, allowRemoteModels: false }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EncoderLoadError);
    const e = err as EncoderLoadError;
    expect(e.modelId).toBe('toonpick/no-such-model');
    expect(e.message).toContain('toonpick/no-such-model');
    expect(e.message).toContain('config.json');
    expect(e.message).toContain('not found locally');
    expect(e.message).toContain('remote off');
    expect(Date.now() - started).toBeLessThan(10_000);
  }, 15_000);

  it('refuses a configuration that can load nothing', async () => {
    await expect(SynopsisEncoder.load({ modelId: MODEL_ID, allowRemoteModels: false })).rejects.toThrow(/no model can load/);
  });

  it('cannot embed after dispose', async () => {
    const enc = await SynopsisEncoder.load({ modelId: MODEL_ID, localModelPath: MODELS, allowRemoteModels: false });
    await enc.dispose();
    await expect(enc.embed(['웹툰'])).rejects.toThrow(/dispose/);
  });
});
