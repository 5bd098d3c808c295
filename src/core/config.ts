/**
 * Every runtime setting of Toonpick, in one documented object (like transformers.js `env`).
 * The app, the widget, workers and Node scripts read from here; nothing else hard-codes a setting.
 */
export interface RankerConfig {
  /** Fusion weight of each space's standardised cosine score. Spaces a snapshot lacks are skipped. */
  spaceWeights: Record<string, number>;
  /**
   * Signal strength of each kind of history entry (signed: negative pushes the profile away).
   * `searched`: a title opened from search results, nothing more — weak interest.
   */
  signal: { liked: number; disliked: number; read: number; bookmarked: number; searched: number };
  /** A history entry's weight halves every `recencyHalfLife` newer entries: recent taste counts more. */
  recencyHalfLife: number;
  /**
   * Values a step of a stepped ranking multiplies at most (the page gives its thread back between steps): one
   * space's scan at 100k titles is cut into steps of a few milliseconds. The scores are the same either way.
   */
  stepValues: number;
  /** The community item-item model (collaborative filtering; only in snapshots built from interactions). */
  community: CommunityConfig;
  /** The sequential next-title model (seed 003), trained by `npm run train:seq`. */
  sequence: SequenceConfig;
  /** Per-reader fusion (seed 001): how far a reader's own history may move the global space weights. */
  attention: AttentionConfig;
  serendipity: SerendipityConfig;
  tune: TuneConfig;
  /** Pseudo-readers for catalogs without histories (serendipity calibration, `npm run eval:survey`). */
  survey: SurveyConfig;
}

/**
 * Readers simulated from a catalog's genres (seed 000's survey: readers picked preferred webtoons by genre): each
 * likes `likes` random titles of one taste genre and would pick the rest of it.
 */
export interface SurveyConfig {
  likes: number;
  /** Readers per taste genre (even ones calibrate, odd ones are reported). */
  perGenre: number;
  seed: number;
  /** Labels that name a format, not a taste (Naver's 스토리 / 에피소드 / 옴니버스): never a reader's genre. */
  formatGenres: string[];
}

export interface CommunityConfig {
  /** EASE L2 regularisation λ. */
  lambda: number;
  /** Weights kept per title (largest magnitude first): the snapshot stores itemCount × neighbours pairs. */
  neighbours: number;
  /**
   * Up to this many titles, exact EASE (dense: titles² memory, titles³ time); above it, each EASE column regresses
   * on its `candidates` most co-occurring titles (rank/sparse-ease.ts: time and memory grow with the interactions).
   */
  denseUpTo: number;
  /** Titles each sparse EASE column regresses on. */
  candidates: number;
  /**
   * A history title's weight in the community score halves every halfLifeShare × (the reader's history length)
   * newer titles: the latest third or so of what a reader read speaks for their taste now.
   */
  halfLifeShare: number;
  /** Community weight of a rated title = 1 + ratingWeight × taste (taste = (rating − 3)/2). */
  ratingWeight: number;
}

export interface SequenceConfig {
  /** Longest input, the [MASK] slot included (seed 003 uses 200). */
  maxLength: number;
  dim: number;
  heads: number;
  layers: number;
  ffDim: number;
  epochs: number;
  /** Extra epochs on the whole data after the validation run (warm start from its weights). */
  fineTuneEpochs: number;
  batchSize: number;
  learningRate: number;
  dropout: number;
  /** Share of the titles before the last one that are also masked (the cloze task). */
  maskProbability: number;
  /** Share of training sequences cut at a random end (more next-title examples per history). */
  cropProbability: number;
  /** Longest training window (≤ maxLength); the attention's cost grows with its square. */
  window: number;
  seed: number;
}

export interface AttentionConfig {
  /**
   * The reader's latest preferred titles that each space is asked to predict from the rest of the history;
   * how well it does (their mean standardised score) is that space's attention logit for this reader.
   */
  recent: number;
  /** α_s ∝ w_s · exp(temperature · logit_s); 0 = the global weights for everyone. Learned when tuned. */
  temperature: number;
}

/**
 * Serendipity (seed 003). At level s ∈ [0, 1] slot r of the list takes the title with the best
 * relevance / log2(r + 2) − s·strength·(genre similarity to the history) + s·bonus·[in the serendipitous pool]:
 * the top slots stay the surest picks, the lower ones turn to titles unlike what the reader has read, and the
 * pool (popular titles of the categories that co-occur with those of the top picks) gets a nudge.
 * Level 0 is the accuracy ranking. rank/serendipity.ts has the details.
 */
export interface SerendipityConfig {
  level: number;
  /**
   * The price of similarity at level 1, in standardised relevance per unit of cosine. Every catalog calibrates
   * its own (rank/calibrate.ts); this value is the last resort for a snapshot that carries no calibration.
   */
  strength: number;
  /**
   * What the default level aims for: lists `reduction` less similar (genre cosine) to the history than a reference
   * list (the community model's plain list, else the ranker's own accuracy list)…
   */
  reduction: number;
  /** …as long as they keep `accuracyFloor` of level 0's accuracy (validation NDCG, or pseudo-readers' precision). */
  accuracyFloor: number;
  bonus: number;
  basis: number;
  /** Most frequent categories of the top `basis` whose neighbours are looked up. */
  from: number;
  /** Most similar categories taken per category. */
  similar: number;
  /** Most popular unseen titles of those categories that get the bonus. */
  pool: number;
  /** Titles considered beyond the list's depth (by relevance; the pool joins them). */
  shortlist: number;
}

/** What the tuner tries on the validation carve (rank/tune.ts). */
export interface TuneConfig {
  /** Community recency half-lives, as shares of the reader's history length. */
  halfLifeShares: number[];
  /** Community taste weights (explicit ratings only). */
  ratingWeights: number[];
  /** The cut-off validation NDCG is measured at. */
  k: number;
  /**
   * At most this many validation readers (evenly spaced in id order when there are more): tuning scores each one
   * against every title in every space, so a platform's million readers would cost hours for no better choice.
   */
  maxReaders: number;
  /**
   * And no more readers than this many bytes of their per-title scores hold (readers × titles × (spaces + 1) × 4 B;
   * never fewer than 100): at 100k titles a reader's scores take ~1.6 MB.
   */
  memoryBytes: number;
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
  /**
   * A model load that reports no progress for this long is abandoned (worker stopped, lexical fallback),
   * so a blocked host or a dead connection never leaves the reader waiting forever.
   */
  stallTimeoutMs: number;
  /** One embed call (a query, or one batch of catalog synopses) that takes longer than this fails. */
  embedTimeoutMs: number;
  /** Catalog synopses embedded in the browser per worker call (progress is reported between calls). */
  embedBatch: number;
  adapter: AdapterTrainingConfig;
}

/**
 * Domain adaptation of the synopsis space (seed paper 000): a residual linear map on top of the frozen
 * sentence vectors, trained on KorSTS pairs plus augmented catalog synopses. Read by `npm run train:adapter`.
 */
export interface AdapterTrainingConfig {
  seed: number;
  epochs: number;
  learningRate: number;
  /** KorSTS pairs per step; the contrastive half uses the same number of synopses (in-batch negatives). */
  batchSize: number;
  /** Weight of the contrastive (augmented synopsis) loss beside the cosine regression on KorSTS. */
  contrastiveWeight: number;
  /** InfoNCE temperature over cosines. */
  temperature: number;
  /** Augmented views made per catalog synopsis (two per step are drawn from them). */
  views: number;
  /** Share of words each augmentation touches (EDA's alpha). */
  augmentRate: number;
}

/**
 * The art-style encoder (src/core/style/style-encoder.ts): the shape and training that `npm run train:style`
 * ships (its flags default to these) and that Settings' in-browser retrain uses (it continues from the weights
 * in use, with this schedule over the epochs the reader picks).
 */
export interface StyleModelConfig {
  /** Channels of the four encoder layers (the decoder mirrors them). */
  filters: [number, number, number, number];
  /** Style vector (latent) dimension. */
  latent: number;
  /** Each Gram matrix is max-pooled to at most gramSize × gramSize. */
  gramSize: number;
  epochs: number;
  batchSize: number;
  /** Adam step size at the start of the schedule. */
  learningRate: number;
  /** 'constant', or 'cosine' from learningRate down to minLearningRate at the last batch. */
  schedule: 'constant' | 'cosine';
  minLearningRate: number;
  /** Mirror training covers left–right at random (augmentation). */
  flip: boolean;
  /** How train:style stores the weights in the snapshot (float16 and int8 are smaller; every loader reads all three). */
  dtype: 'float32' | 'float16' | 'int8';
  seed: number;
}

/** Search (seed paper 004): BM25F keyword search with a similarity fallback. */
export interface SearchConfig {
  /** Field weights of BM25F: a title word counts more than a synopsis word. */
  fieldWeights: { title: number; author: number; genres: number; synopsis: number };
  /** BM25 term-frequency saturation and length normalisation. */
  k1: number;
  b: number;
  /**
   * A query word "occurs" in a title when the title holds the word or a prefix of it at least this share
   * of its length (two letters at least): Korean stems come first, particles and endings after, so
   * "회귀자를" still finds "회귀자가" and "회귀했다".
   */
  prefixShare: number;
}

export interface ToonpickConfig {
  /** Where the catalog snapshot lives, relative to the page (a folder with manifest.json). */
  snapshotUrl: string;
  /**
   * A catalog of at most this many titles gets all its synopsis pages in the background once the first cards are
   * shown, so its title pages and search work offline after the first visit (the demo: one page, 66 KB
   * compressed). A larger one downloads a page when a title page or a search needs it.
   */
  synopsesAheadUpTo: number;
  /** IndexedDB database of the reader's data. The widget uses its own name on a host site. */
  databaseName: string;
  ranker: RankerConfig;
  /** How many recommendations and search results a page shows. */
  pageSize: number;
  /** How long a removal from the history can be undone (milliseconds). */
  undoMs: number;
  /** How many titles' "More like this" lists are kept (a title page opened again shows its list at once). */
  similarKept: number;
  /**
   * Work the page does in steps (ranking, More like this, a kept file's rows read into memory) gives the thread back
   * once this many milliseconds have passed since it last did: far below a long task's 50 ms, and on a fast device
   * many steps run in one task.
   */
  stepBudgetMs: number;
  /** Which device the encoders prefer; `auto` = WebGPU when an adapter exists, else WASM. */
  device: 'auto' | 'webgpu' | 'wasm' | 'cpu';
  /** `sentiment`: the folder (relative to the page) of the review-note sentiment model (`npm run train:sentiment`). */
  models: { text: TextModelConfig; style: StyleModelConfig; sentiment: string };
  workers: WorkerLimits;
  search: SearchConfig;
}

/**
 * How long the page waits on the style, sequence and snapshot workers (src/app/worker-rpc.ts) before it stops one and
 * says so; the text worker's limits are models.text.stallTimeoutMs / embedTimeoutMs. A stall limit counts the
 * time since the last progress report, so it does not grow with the catalog.
 */
export interface WorkerLimits {
  style: {
    /** Loading weights, or a training run (decoding covers, then each batch) that reports no progress this long. */
    stallMs: number;
    /** One embedding or style-map call (every cover of the catalog at once). */
    callMs: number;
  };
  /** Loading the sequence model, or scoring one history (the page then ranks on its own thread). */
  sequence: { callMs: number };
  /**
   * Loading the snapshot: given up when no byte arrives and no file finishes for this long. The page parses and
   * checks the titles `itemSlice` at a time, one task each (100k titles at once would block it for ~150 ms); where
   * the worker checked them whole (items.json could not be cut into them), they come `itemSlice` to a message, and
   * `slicesAhead` of those are asked for at once, so that the worker sends the next while the page takes one in.
   * Before they come, the page moves the sparse rows into WebAssembly
   * memory (math/sparse-scan.ts), `rowChunkBytes` per task (4 MiB a task took 57–68 ms in a slow Chromium; the
   * first pieces run before their code is optimised).
   */
  snapshot: { stallMs: number; itemSlice: number; slicesAhead: number; rowChunkBytes: number };
  /** Reading a note: loading the sentiment model and scoring, given up after this long. */
  sentiment: { callMs: number };
}

/** Freezes an object and everything in it: the defaults are shared by every module and must never drift. */
function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export const defaultConfig: Readonly<ToonpickConfig> = deepFreeze<ToonpickConfig>({
  snapshotUrl: './snapshot/',
  synopsesAheadUpTo: 10_000,
  databaseName: 'toonpick',
  ranker: {
    // Genre is a coarse but reliable signal; lexical catches shared themes, names and settings;
    // sts (a sentence model's synopsis vectors, in snapshots made with `npm run embed:text`) their meaning.
    // style/gram (cover art, npm run train:style): modest — a look-alike cover is a weaker taste signal than the story.
    spaceWeights: { genre: 0.4, lexical: 0.6, sts: 0.6, style: 0.2, gram: 0.1 },
    signal: { liked: 1, disliked: -1, read: 0.25, bookmarked: 0.5, searched: 0.1 },
    recencyHalfLife: 8,
    stepValues: 2_000_000,
    // Choices below were checked on the validation carve of the MovieLens training histories (rank/tune.ts), fused
    // NDCG@10 with the fixed half-life of f1714c5: 200 neighbours 0.2260 (100: 0.2255, 400: 0.2267, at twice the
    // size); sequence learning rate 0.005 (0.01: 0.2218) and 30 epochs (15: 0.2211); the network's size again with
    // `npm run study`. halfLifeShare and ratingWeight are re-chosen by every fit.
    community: { lambda: 250, neighbours: 200, denseUpTo: 2000, candidates: 128, halfLifeShare: 0.3, ratingWeight: 0.5 },
    sequence: {
      maxLength: 200,
      dim: 32,
      heads: 1,
      layers: 1,
      ffDim: 64,
      epochs: 30,
      fineTuneEpochs: 10,
      batchSize: 16,
      learningRate: 0.005,
      dropout: 0.2,
      maskProbability: 0.2,
      cropProbability: 0.5,
      window: 50,
      seed: 1,
    },
    attention: { recent: 3, temperature: 0 },
    // Every catalog calibrates its own price (rank/calibrate.ts). reduction and accuracyFloor were chosen on the
    // validation carves of MovieLens, its implicit variant and both halves (npm run study): floor 0.90 is the only
    // one tried at which all four reach ≥ 30 % below EASE's genre similarity at ≥ 90 % NDCG; bonus 0.2 over 0 and
    // 0.5. strength is the last resort for a snapshot without calibration: the demo's calibrated price, rounded.
    tune: { halfLifeShares: [0.1, 0.2, 0.3, 0.5], ratingWeights: [0, 0.5, 1], k: 10, maxReaders: 1000, memoryBytes: 256 * 2 ** 20 },
    serendipity: { level: 0.5, strength: 0.24, reduction: 0.32, accuracyFloor: 0.9, bonus: 0.2, basis: 10, from: 2, similar: 3, pool: 30, shortlist: 300 },
    survey: { likes: 6, perGenre: 40, seed: 7, formatGenres: ['스토리', '에피소드', '옴니버스'] },
  },
  pageSize: 24,
  undoMs: 8000,
  similarKept: 32,
  stepBudgetMs: 8,
  device: 'auto',
  models: {
    text: {
      modelId: 'Xenova/paraphrase-multilingual-MiniLM-L12-v2',
      revision: 'main',
      dtype: { wasm: 'q8', webgpu: 'fp32' },
      allowRemoteModels: true,
      localModelPath: 'models/',
      maxTokens: 128,
      stallTimeoutMs: 30_000,
      embedTimeoutMs: 120_000,
      embedBatch: 32,
      adapter: {
        seed: 0,
        epochs: 8,
        learningRate: 1e-3,
        batchSize: 64,
        contrastiveWeight: 0.5,
        temperature: 0.05,
        views: 2,
        augmentRate: 0.1,
      },
    },
    // Chosen on a carve of the training covers (`npm run train:style -- --tune`), never on the held-out ones; every
    // option tried, with both MSEs, is in the README (Art style). The cosine schedule with mirrored covers, then a
    // 128-d latent and 24–192 filters each lowered the carve MSE; int8 keeps the weights (1.6 MB) under the 2.4 MB
    // of the earlier float32 16–128 model, at +0.00002 MSE.
    style: {
      filters: [24, 48, 96, 192],
      latent: 128,
      gramSize: 8,
      epochs: 40,
      batchSize: 16,
      learningRate: 1e-3,
      schedule: 'cosine',
      minLearningRate: 1e-5,
      flip: true,
      dtype: 'int8',
      seed: 0,
    },
    sentiment: 'models/sentiment/',
  },
  workers: {
    style: { stallMs: 120_000, callMs: 600_000 },
    sequence: { callMs: 30_000 },
    snapshot: { stallMs: 120_000, itemSlice: 2_500, slicesAhead: 2, rowChunkBytes: 2 ** 18 },
    sentiment: { callMs: 30_000 },
  },
  search: {
    fieldWeights: { title: 3, author: 2, genres: 1.5, synopsis: 1 },
    k1: 1.2,
    b: 0.75,
    prefixShare: 0.5,
  },
});


/** The values `config.device` takes. */
const DEVICES: readonly ToonpickConfig['device'][] = ['auto', 'webgpu', 'wasm', 'cpu'];

/**
 * Operator and test overrides from the page's query string:
 * `?device=auto|webgpu|wasm|cpu` sets config.device, which every worker with a choice honours (a device the
 * platform lacks falls back down webgpu → wasm → cpu). The rest apply to the text model:
 * `?textModel=<folder>` serves a self-hosted model from `<localModelPath><folder>/` (remote downloads off),
 * `&textDtype=fp32|q8` picks its weights file on every device (e.g. a model folder that has only fp32),
 * `&textBatch=<n>` embeds the catalog's synopses n per worker call (small batches: finer progress, and tests that
 * reload mid-way).
 */
export function withUrlOverrides(config: ToonpickConfig, search: string): ToonpickConfig {
  const q = new URLSearchParams(search);
  const modelId = q.get('textModel');
  const dtype = q.get('textDtype');
  const batch = q.get('textBatch');
  const device = q.get('device');
  if (!modelId && !dtype && batch === null && device === null) return config;
  if (device !== null && !DEVICES.includes(device as ToonpickConfig['device'])) throw new Error(`device must be one of ${DEVICES.join(', ')}, got "${device}"`);
  if (dtype !== null && dtype !== 'fp32' && dtype !== 'q8') throw new Error(`textDtype must be fp32 or q8, got "${dtype}"`);
  if (batch !== null && !/^[1-9]\d{0,3}$/.test(batch)) throw new Error(`textBatch must be a whole number from 1 to 9999, got "${batch}"`);
  const text: TextModelConfig = { ...config.models.text };
  if (modelId) Object.assign(text, { modelId, allowRemoteModels: false });
  if (dtype) text.dtype = { wasm: dtype, webgpu: dtype };
  if (batch !== null) text.embedBatch = Number(batch);
  return { ...config, ...(device !== null ? { device: device as ToonpickConfig['device'] } : {}), models: { ...config.models, text } };
}
