/**
 * The catalog snapshot, format version 2 (documented in docs/snapshot.md; version 1 is still read).
 * A folder: `manifest.json`, `items.json`, one binary file per embedding space (item order = items.json order,
 * stored as `dtype` says: encoding.ts) and cover images. Every file is listed in the manifest with its size and
 * SHA-256 so a truncated or altered file is caught before it is used.
 */
import type { CsrRows, SpaceDtype } from './encoding.ts';


export const SNAPSHOT_FORMAT = 'toonpick-snapshot';
/** The version every writer writes. */
export const SNAPSHOT_VERSION = 2;
/** The versions the loader reads: 1 stores every space as float32. */
export const SNAPSHOT_VERSIONS_READ: readonly number[] = [1, 2];

export interface FileEntry {
  bytes: number;
  sha256: string;
}

export interface EncoderInfo {
  /** What made the vectors, e.g. `genre-multihot`, `hashed-char-ngram-tfidf`, a model id. */
  name: string;
  version: number;
  /** Extra files the encoder needs to embed new items or queries (paths in `files`). */
  files?: Record<string, string>;
  params?: Record<string, unknown>;
}

export interface SpaceInfo {
  name: string;
  dim: number;
  /** How the file stores the rows (encoding.ts): `float32` (the only one in version 1), `int8` or `csr-int8`. */
  dtype: SpaceDtype;
  file: string;
  /** Rows are L2-normalised, so a dot product is the cosine. */
  normalized: boolean;
  encoder: EncoderInfo;
}

export interface Manifest {
  /** Origins (https://host[:port]) whose absolute cover URLs the app may load; without it covers are snapshot paths only (paths.ts). */
  coverOrigins?: string[];
  format: typeof SNAPSHOT_FORMAT;
  version: 1 | 2;
  name: string;
  description?: string;
  /** Where the catalog comes from, shown in the app (attribution). */
  source?: string;
  builtAt: string;
  itemCount: number;
  /** SHA-256 over the sorted `path:sha256` lines of every file: one id for the whole snapshot. */
  contentHash: string;
  items: string;
  files: Record<string, FileEntry>;
  spaces: SpaceInfo[];
  covers?: { dir: string; width: number; format: string; squareDir: string; squareSize: number };
  /** Which signals made `popularity` (e.g. interactions, likes, votes, rating). */
  popularity: { signals: string[] };
  /** Present when the source had interactions (community data for collaborative filtering). */
  community?: CommunityInfo;
  /** The sequential next-title model (`npm run train:seq`), trained on the community's reading orders. */
  sequence?: SequenceInfo;
  /**
   * The serendipity price calibrated for this catalog when it has no community data (rank/calibrate.ts, on
   * pseudo-readers drawn from its genres); a catalog with community data keeps it in `community.learned`.
   */
  calibration?: { serendipity: SerendipityCalibration };
}

/** What rank/calibrate.ts chose, and what it measured while choosing. */
export interface SerendipityCalibration {
  /** The price of similarity at level 1 (SerendipityConfig.strength) for this catalog's spaces. */
  strength: number;
  /** `pseudo`: readers who like a few titles of one genre (no histories); `validation`: community readers. */
  readers: 'pseudo' | 'validation';
  /** How many readers it was calibrated on. */
  count: number;
  /** The spaces the catalog ranked with when calibrated (another set is calibrated again on load). */
  spaces: string[];
  /** Accuracy (genre precision@10 on pseudo-readers, NDCG@10 on validation) at level 0 and at the default level. */
  accuracy: [number, number];
  /** Mean genre similarity of the first 10 titles to the history: the reference list's and the default level's. */
  similarity: [number, number];
}

export interface CommunityInfo {
  users: number;
  interactions: number;
  /** The item-item model (EASE, top `neighbours` weights per title; rank/community.ts). */
  model?: {
    name: string;
    version: number;
    neighbours: number;
    params?: Record<string, unknown>;
    /** `index`: itemCount × neighbours uint32 rows; `weight`: the same shape in float32. */
    files: { index: string; weight: string };
  };
  /** Category × category co-usage cosine over the genre space's vocabulary (dim × dim float32). */
  categories?: { file: string; dim: number };
  /** Fusion weights and settings learned on a validation split of these interactions (rank/tune.ts). */
  learned?: LearnedRanker;
}

export interface SequenceInfo {
  name: string;
  version: number;
  spec: SequenceSpec;
  /** Every weight in the order of `sequenceWeightShapes(spec)`, float32. */
  file: string;
  /** How it was trained (settings, epochs, losses): informational. */
  training?: Record<string, unknown>;
}

export interface SequenceSpec {
  /** Catalog titles the model scores; the vocabulary adds [PAD] = itemCount and [MASK] = itemCount + 1. */
  itemCount: number;
  /** The genre vocabulary the category embedding was trained on (the genre space's, in its order). */
  categories: string[];
  /** Longest input, [MASK] slot included: only the latest maxLength − 1 titles are read. */
  maxLength: number;
  dim: number;
  heads: number;
  layers: number;
  /** Width of the feed-forward layer of each block. */
  ffDim: number;
}

/**
 * What the community data taught, stored in the snapshot (manifest `community.learned`): the fusion's global
 * weights and the community score's recency and taste settings, chosen on a validation split of the community's
 * own histories (never on anything held out for evaluation).
 */
export interface LearnedRanker {
  weights: Record<string, number>;
  temperature: number;
  /** The typical reader's attention logit per space (rank/fusion.ts). */
  center: Record<string, number>;
  halfLifeShare: number;
  ratingWeight: number;
  /** The serendipity price calibrated for these weights (SerendipityConfig.strength; rank/calibrate.ts). */
  strength?: number;
  /** What these settings reached on the validation split. */
  validation: { users: number; ndcg: number };
}

/** One catalog title as the app sees it. */
export interface Title {
  id: string;
  title: string;
  synopsis: string;
  genres: string[];
  author?: string;
  rating?: number;
  likes?: number;
  comments?: number;
  votes?: number;
  year?: number;
  age?: string;
  completed?: boolean;
  sourceUrl?: string;
  /** In [0, 1]: the mean percentile of the popularity signals this title has (0 when it has none). */
  popularity: number;
  /** Community interactions with this title, when the source had interactions. */
  interactions?: number;
  /** Cover paths relative to the snapshot folder. */
  cover?: string;
  coverSquare?: string;
}

export interface Space {
  name: string;
  dim: number;
  /** itemCount × dim, row-major; empty when the rows are kept sparse (`csr`). */
  data: Float32Array;
  /**
   * A large sparse space's rows, kept sparse in memory (the loader does so above `SPARSE_IN_MEMORY_ABOVE` bytes dense): read rows
   * through vectors.ts's space helpers (scanSpace, rowDot, addRow, denseRows), which handle both forms.
   */
  csr?: CsrRows;
  normalized: boolean;
  encoder: EncoderInfo;
}


export function indexItems(items: Title[]): Map<string, number> {
  return new Map(items.map((t, i) => [t.id, i]));
}

export async function sha256Hex(bytes: Uint8Array): Promise<string | undefined> {
  // crypto.subtle exists only in secure contexts; elsewhere sizes are still checked.
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) return undefined;
  const digest = await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

export async function contentHashOf(files: Record<string, FileEntry>): Promise<string | undefined> {
  const lines = Object.keys(files)
    .sort()
    .map((p) => `${p}:${files[p].sha256}\n`)
    .join('');
  return sha256Hex(new TextEncoder().encode(lines));
}
