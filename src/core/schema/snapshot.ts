/**
 * The snapshot's JSON files (manifest.json and items.json, format versions 1 and 2; docs/snapshot.md), described
 * once as valibot schemas. The loader checks with them, format.ts derives its types from them, and their issues
 * become DataErrors naming file, item and field (issues.ts). What one field cannot say — a path that must be
 * listed in `files`, a dtype version 1 does not know, a sequence model's name — is checked after, in load.ts.
 */
import * as v from 'valibot';
import { SPACE_DTYPES } from '../snapshot/encoding.ts';
import { isCoverOrigin, isSnapshotPath, isWebUrl } from '../snapshot/paths.ts';
import { countOf, finiteNumber, nonEmptyString, objectMessage, positiveInteger, stringList } from './issues.ts';

export const SNAPSHOT_FORMAT = 'toonpick-snapshot';
/** The version every writer writes. */
export const SNAPSHOT_VERSION = 2;
/** The versions the loader reads: 1 stores every space as float32. */
const SNAPSHOT_VERSIONS_READ = [1, 2] as const;

const sha256 = v.pipe(v.string('must be a hex SHA-256'), v.regex(/^[0-9a-f]{64}$/, 'must be a hex SHA-256'));
const path = v.pipe(v.string('must be a path inside the snapshot folder'), v.check((p: string) => isSnapshotPath(p), 'must be a path inside the snapshot folder'));
const nonNegative = v.pipe(finiteNumber, v.minValue(0, 'must be a finite number ≥ 0'));
const finiteRecord = v.record(v.string(), finiteNumber, 'must be an object of numbers');

export const FileEntrySchema = v.object(
  {
    bytes: countOf,
    sha256,
  },
  objectMessage,
);

export const EncoderInfoSchema = v.object(
  {
    /** What made the vectors, e.g. `genre-multihot`, `hashed-char-ngram-tfidf`, a model id. */
    name: nonEmptyString,
    version: finiteNumber,
    /** Extra files the encoder needs to embed new items or queries (paths in `files`). */
    files: v.optional(v.record(v.string(), path, 'must be an object of paths')),
    /** Settings of the encoder; `vocabulary` names the dimensions of a genre space. */
    params: v.optional(v.looseObject({ vocabulary: v.optional(stringList) }, objectMessage)),
  },
  objectMessage,
);

export const SpaceInfoSchema = v.object(
  {
    name: nonEmptyString,
    dim: positiveInteger,
    /** How the file stores the rows (encoding.ts): `float32` (the only one in version 1), `int8`, `csr-int8` or `csr-f16`. */
    dtype: v.picklist(SPACE_DTYPES, (issue) => `unsupported dtype ${JSON.stringify(issue.input)} (this app reads ${SPACE_DTYPES.join(', ')})`),
    file: path,
    /** Rows are L2-normalised, so a dot product is the cosine. */
    normalized: v.boolean('must be true or false'),
    encoder: EncoderInfoSchema,
  },
  objectMessage,
);

/** What rank/calibrate.ts chose, and what it measured while choosing. */
export const SerendipityCalibrationSchema = v.object(
  {
    /** The price of similarity at level 1 (SerendipityConfig.strength) for this catalog's spaces. */
    strength: nonNegative,
    /** `pseudo`: readers who like a few titles of one genre (no histories); `validation`: community readers. */
    readers: v.picklist(['pseudo', 'validation'], 'must be "pseudo" or "validation"'),
    /** How many readers it was calibrated on. */
    count: positiveInteger,
    /** The spaces the catalog ranked with when calibrated (another set is calibrated again on load). */
    spaces: stringList,
    /** Accuracy (genre precision@10 on pseudo-readers, NDCG@10 on validation) at level 0 and at the default level. */
    accuracy: v.tuple([finiteNumber, finiteNumber], 'must be a pair of numbers'),
    /** Mean genre similarity of the first 10 titles to the history: the reference list's and the default level's. */
    similarity: v.tuple([finiteNumber, finiteNumber], 'must be a pair of numbers'),
  },
  objectMessage,
);

/**
 * What the community data taught, stored in the snapshot (manifest `community.learned`): the fusion's global
 * weights and the community score's recency and taste settings, chosen on a validation split of the community's
 * own histories (never on anything held out for evaluation).
 */
export const LearnedRankerSchema = v.object(
  {
    weights: v.record(v.string(), nonNegative, 'must be an object of weights'),
    temperature: finiteNumber,
    /** The typical reader's attention logit per space (rank/fusion.ts). */
    center: finiteRecord,
    halfLifeShare: v.pipe(finiteNumber, v.gtValue(0, 'must be a positive number')),
    ratingWeight: finiteNumber,
    /** The serendipity price calibrated for these weights (SerendipityConfig.strength; rank/calibrate.ts). */
    strength: v.optional(nonNegative),
    /** What these settings reached on the validation split. */
    validation: v.object({ users: countOf, ndcg: finiteNumber }, objectMessage),
  },
  objectMessage,
);

export const CommunityInfoSchema = v.object(
  {
    users: countOf,
    interactions: countOf,
    /** The item-item model (top `neighbours` weights per title; rank/community.ts). */
    model: v.optional(
      v.object(
        {
          name: nonEmptyString,
          version: finiteNumber,
          neighbours: positiveInteger,
          params: v.optional(v.record(v.string(), v.unknown(), 'must be an object')),
          /**
           * Version 2: `model`, the compact file of rank/community-file.ts. Version 1: `index`, itemCount × neighbours
           * uint32 rows, and `weight`, the same shape in float32 (load.ts checks which a version needs).
           */
          files: v.object({ model: v.optional(path), index: v.optional(path), weight: v.optional(path) }, objectMessage),
        },
        objectMessage,
      ),
    ),
    /** Category × category co-usage cosine over the genre space's vocabulary (dim × dim float32). */
    categories: v.optional(v.object({ file: path, dim: positiveInteger }, objectMessage)),
    /** Fusion weights and settings learned on a validation split of these interactions (rank/tune.ts). */
    learned: v.optional(LearnedRankerSchema),
  },
  objectMessage,
);

export const SequenceSpecSchema = v.pipe(
  v.object(
    {
      /** Catalog titles the model scores; the vocabulary adds [PAD] = itemCount and [MASK] = itemCount + 1. */
      itemCount: positiveInteger,
      /** The genre vocabulary the category embedding was trained on (the genre space's, in its order). */
      categories: v.array(v.string(), 'must be an array of genre names'),
      /** Longest input, [MASK] slot included: only the latest maxLength − 1 titles are read. */
      maxLength: v.pipe(positiveInteger, v.minValue(2, 'must be at least 2 (one title and the [MASK] slot)')),
      dim: positiveInteger,
      heads: positiveInteger,
      layers: positiveInteger,
      /** Width of the feed-forward layer of each block. */
      ffDim: positiveInteger,
    },
    objectMessage,
  ),
  v.forward(
    v.check((s) => s.dim % s.heads === 0, (issue) => `must divide dim (${JSON.stringify((issue.input as { dim: unknown }).dim)})`),
    ['heads'],
  ),
);

export const SequenceInfoSchema = v.object(
  {
    name: nonEmptyString,
    version: finiteNumber,
    spec: SequenceSpecSchema,
    /** Every weight in the order of `sequenceWeightShapes(spec)`, float32. */
    file: path,
    /** How it was trained (settings, epochs, losses): informational. */
    training: v.optional(v.record(v.string(), v.unknown(), 'must be an object')),
  },
  objectMessage,
);

/**
 * What the last `npm run snapshot -- --update` changed, against the version it updated (`from`): titles added,
 * titles whose content (title, author, synopsis, genres or cover) changed, titles removed (with their names, so the
 * catalog page can still say which). Counts, ratings and links are refreshed on every update and are not changes.
 */
export const ChangesSchema = v.object(
  {
    /** The previous version's contentHash. */
    from: sha256,
    fromBuiltAt: nonEmptyString,
    added: stringList,
    changed: stringList,
    removed: v.array(v.object({ id: nonEmptyString, title: v.string('must be a string') }, objectMessage), 'must be an array of {id, title}'),
    /**
     * The update delta (snapshot/delta.ts): `patches` maps each file it rebuilds to the SHA-256 of the previous
     * version's file it starts from, so a reader's device knows before downloading it whether it holds them.
     */
    delta: v.optional(v.object({ file: path, patches: v.record(v.string(), sha256, 'must be an object of SHA-256s') }, objectMessage)),
  },
  objectMessage,
);

/** The header of a delta file (snapshot/delta.ts): where each patched file's ops lie. */
export const DeltaHeaderSchema = v.object(
  {
    from: sha256,
    files: v.array(
      v.object({ path, source: sha256, target: sha256, bytes: countOf, at: countOf, length: countOf }, objectMessage),
      'must be an array of patches',
    ),
  },
  objectMessage,
);

const ORIGINS = 'must be a list of https origins (https://host[:port])';

export const ManifestSchema = v.object(
  {
    format: v.literal(SNAPSHOT_FORMAT, (issue) => `format is ${JSON.stringify(issue.input)}, expected "${SNAPSHOT_FORMAT}"`),
    version: v.picklist(SNAPSHOT_VERSIONS_READ, (issue) => `unknown format version ${JSON.stringify(issue.input)} (this app reads versions ${SNAPSHOT_VERSIONS_READ.join(' and ')})`),
    /** Origins (https://host[:port]) whose absolute cover URLs the app may load; without it covers are snapshot paths only (paths.ts). */
    coverOrigins: v.optional(v.array(v.pipe(v.string(ORIGINS), v.check((o: string) => isCoverOrigin(o), ORIGINS)), ORIGINS)),
    name: nonEmptyString,
    description: v.optional(v.string('must be a string')),
    /** Where the catalog comes from, shown in the app (attribution). */
    source: v.optional(v.string('must be a string')),
    builtAt: nonEmptyString,
    itemCount: positiveInteger,
    /** SHA-256 over the sorted `path:sha256` lines of every file: one id for the whole snapshot. */
    contentHash: nonEmptyString,
    items: path,
    /**
     * The titles' synopses, kept out of `items` (the one long field: half of its bytes, and none of them needed to
     * rank or to show a card): `pages[k]` is a JSON array of the synopses of rows k·pageSize … (k+1)·pageSize − 1.
     * The app downloads a page when a title page or a search needs it; Node tools read them all.
     */
    details: v.optional(v.object({ pageSize: positiveInteger, pages: v.array(path, 'must be an array of paths') }, objectMessage)),
    /** Every file of the snapshot with its size and SHA-256 (keys are checked as paths before: load.ts). */
    files: v.record(v.string(), FileEntrySchema, 'must be an object of file entries'),
    spaces: v.array(SpaceInfoSchema, 'must be an array'),
    covers: v.optional(
      v.object(
        {
          dir: v.string(),
          width: positiveInteger,
          format: v.string(),
          squareDir: v.string(),
          squareSize: positiveInteger,
          /** Every square cover in one image, in item order, `columns` per row (the style map draws from it: one request). */
          sprite: v.optional(v.object({ file: path, columns: positiveInteger, size: positiveInteger }, objectMessage)),
        },
        objectMessage,
      ),
    ),
    /** Which signals made `popularity` (e.g. interactions, likes, votes, rating). */
    popularity: v.object({ signals: stringList }, objectMessage),
    /** Present when the source had interactions (community data for collaborative filtering). */
    community: v.optional(CommunityInfoSchema),
    /** The sequential next-title model (`npm run train:seq`), trained on the community's reading orders. */
    sequence: v.optional(SequenceInfoSchema),
    /**
     * The serendipity price calibrated for this catalog when it has no community data (rank/calibrate.ts). Checked
     * on its own when loaded (load.ts): a bad one only costs the calibration, and is dropped, never a refusal.
     */
    calibration: v.optional(v.custom<{ serendipity: SerendipityCalibration }>(() => true)),
    /** What the last update changed (`npm run snapshot -- --update`); absent on a snapshot built from scratch. */
    changes: v.optional(ChangesSchema),
  },
  objectMessage,
);

const OPTIONAL_NUMBER = v.optional(finiteNumber);

/** One catalog title as the app sees it (an entry of items.json). */
export const TitleSchema = v.object(
  {
    id: nonEmptyString,
    title: nonEmptyString,
    /** Absent in `items` when the manifest has `details` (the synopsis pages): the loader or the page fills it in. */
    synopsis: v.optional(v.string('must be a string')),
    genres: stringList,
    author: v.optional(v.string('must be a string')),
    rating: OPTIONAL_NUMBER,
    likes: OPTIONAL_NUMBER,
    comments: OPTIONAL_NUMBER,
    votes: OPTIONAL_NUMBER,
    year: OPTIONAL_NUMBER,
    age: v.optional(v.string('must be a string')),
    completed: v.optional(v.boolean('must be true or false')),
    /** The title's page on its site: http(s) only, so no `javascript:` link reaches a page or the widget's host. */
    sourceUrl: v.optional(v.pipe(v.string('must be an http(s) URL'), v.check((u: string) => isWebUrl(u), 'must be an http(s) URL'))),
    /** In [0, 1]: the mean percentile of the popularity signals this title has (0 when it has none). */
    popularity: v.pipe(v.number('must be a number in [0, 1]'), v.minValue(0, 'must be a number in [0, 1]'), v.maxValue(1, 'must be a number in [0, 1]')),
    /** Community interactions with this title, when the source had interactions. */
    interactions: OPTIONAL_NUMBER,
    /** Cover paths relative to the snapshot folder (or URLs on the manifest's coverOrigins: checked in load.ts). */
    cover: v.optional(v.string('must be a string')),
    coverSquare: v.optional(v.string('must be a string')),
  },
  objectMessage,
);

const TITLE_KEYS = new Set(Object.keys(TitleSchema.entries));
const TITLE_OPTIONAL_STRINGS = ['synopsis', 'author', 'age', 'cover', 'coverSquare'] as const;
const TITLE_OPTIONAL_NUMBERS = ['rating', 'likes', 'comments', 'votes', 'year', 'interactions'] as const;

/**
 * TitleSchema's rules checked by hand, for a title they accept as it is (a JSON object with only its keys, each
 * valid): the loader checks 100k titles in ~15 ms this way instead of ~180 ms through valibot, on the way to a
 * reader's first cards. Anything else is undefined, and goes through TitleSchema, which gives the output or the
 * message. tests/unit/title-check.test.ts holds the two to the same answers.
 */
export function acceptedTitle(t: unknown): Title | undefined {
  if (typeof t !== 'object' || t === null || Array.isArray(t)) return undefined;
  const o = t as Record<string, unknown>;
  for (const k in o) if (!TITLE_KEYS.has(k)) return undefined;
  if (typeof o.id !== 'string' || o.id === '' || typeof o.title !== 'string' || o.title === '') return undefined;
  const { genres, popularity, completed, sourceUrl } = o;
  if (!Array.isArray(genres) || !genres.every((g) => typeof g === 'string')) return undefined;
  if (typeof popularity !== 'number' || !(popularity >= 0 && popularity <= 1)) return undefined;
  for (const k of TITLE_OPTIONAL_STRINGS) if (o[k] !== undefined && typeof o[k] !== 'string') return undefined;
  for (const k of TITLE_OPTIONAL_NUMBERS) if (o[k] !== undefined && !(typeof o[k] === 'number' && Number.isFinite(o[k]))) return undefined;
  if (completed !== undefined && typeof completed !== 'boolean') return undefined;
  if (sourceUrl !== undefined && !(typeof sourceUrl === 'string' && isWebUrl(sourceUrl))) return undefined;
  return o as Title;
}

export type FileEntry = v.InferOutput<typeof FileEntrySchema>;
export type EncoderInfo = v.InferOutput<typeof EncoderInfoSchema>;
export type SpaceInfo = v.InferOutput<typeof SpaceInfoSchema>;
export type SerendipityCalibration = v.InferOutput<typeof SerendipityCalibrationSchema>;
export type LearnedRanker = v.InferOutput<typeof LearnedRankerSchema>;
export type CommunityInfo = v.InferOutput<typeof CommunityInfoSchema>;
export type SequenceSpec = v.InferOutput<typeof SequenceSpecSchema>;
export type SequenceInfo = v.InferOutput<typeof SequenceInfoSchema>;
export type Manifest = v.InferOutput<typeof ManifestSchema>;
export type Title = v.InferOutput<typeof TitleSchema>;
export type Changes = v.InferOutput<typeof ChangesSchema>;
export type DeltaHeader = v.InferOutput<typeof DeltaHeaderSchema>;
