/**
 * Every runtime setting of Toonpick, in one documented object (like transformers.js `env`).
 * The app, the widget, workers and Node scripts read from here; nothing else hard-codes a setting.
 */
export interface RankerConfig {
  /** Fusion weight of each space's standardised cosine score. Spaces a snapshot lacks are skipped. */
  spaceWeights: Record<string, number>;
  /** Signal strength of each kind of history entry (signed: negative pushes the profile away). */
  signal: { liked: number; disliked: number; read: number; bookmarked: number };
  /** A history entry's weight halves every `recencyHalfLife` newer entries: recent taste counts more. */
  recencyHalfLife: number;
}

export interface TextModelConfig {
  /** A Hugging Face model id (hub) or a folder name under `localModelPath` (self-hosted). */
  modelId: string;
  revision: string;
  /** q8 on WASM (small, fast); fp32 on WebGPU, where q8 is slow or wrong in reports. */
  dtype: { wasm: 'fp32' | 'q8'; webgpu: 'fp32' | 'q8' };
  /** Fetch from the model hub when the model is not self-hosted (then cached for offline use). */
  allowRemoteModels: boolean;
  /** Self-hosted models, relative to the page: `<localModelPath><modelId>/onnx/model.onnx` etc. */
  localModelPath: string;
  /** Longer synopses are truncated here (the model's training length). */
  maxTokens: number;
}

export interface ToonpickConfig {
  /** Where the catalog snapshot lives, relative to the page (a folder with manifest.json). */
  snapshotUrl: string;
  /** IndexedDB database of the reader's data. The widget uses its own name on a host site. */
  databaseName: string;
  ranker: RankerConfig;
  /** How many recommendations and search results a page shows. */
  pageSize: number;
  /** Which device the encoders prefer; `auto` = WebGPU when an adapter exists, else WASM. */
  device: 'auto' | 'webgpu' | 'wasm' | 'cpu';
  models: { text: TextModelConfig };
}

export const defaultConfig: Readonly<ToonpickConfig> = Object.freeze<ToonpickConfig>({
  snapshotUrl: './snapshot/',
  databaseName: 'toonpick',
  ranker: {
    // Genre is a coarse but reliable signal; lexical catches shared themes, names and settings.
    spaceWeights: { genre: 0.4, lexical: 0.6 },
    signal: { liked: 1, disliked: -1, read: 0.25, bookmarked: 0.5 },
    recencyHalfLife: 8,
  },
  pageSize: 24,
  device: 'auto',
  models: {
    text: {
      modelId: 'Xenova/paraphrase-multilingual-MiniLM-L12-v2',
      revision: 'main',
      dtype: { wasm: 'q8', webgpu: 'fp32' },
      allowRemoteModels: true,
      localModelPath: 'models/',
      maxTokens: 128,
    },
  },
});

/** A config with some settings replaced (deep for `ranker`). */
export function withConfig(patch: Partial<ToonpickConfig> & { ranker?: Partial<RankerConfig> } = {}): ToonpickConfig {
  return { ...defaultConfig, ...patch, ranker: { ...defaultConfig.ranker, ...(patch.ranker ?? {}) } };
}
