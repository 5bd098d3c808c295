/**
 * Builds a snapshot from the catalog source layout. Pure: the Node CLI (scripts/snapshot.ts) reads the
 * files and re-encodes covers; this module turns items (+ interactions) into titles and spaces, and
 * serialises everything into the files of docs/snapshot.md.
 */
import { defaultConfig, type RankerConfig } from '../config.ts';
import { temporalSplit } from '../split.ts';
import { COMMUNITY_MODEL, COMMUNITY_VERSION } from '../rank/community.ts';
import { encodeCommunityModel, storedModel } from '../rank/community-file.ts';
import type { Community } from '../rank/signals.ts';
import { fitCommunityRanker } from '../rank/tune.ts';
import type { Cooccurrence } from '../rank/sparse-ease.ts';
import { calibrateCatalog } from '../rank/calibrate.ts';
import type { Interaction, SourceItem } from '../source.ts';
import { LEXICAL_ENCODER, LEXICAL_VERSION, LexicalEncoder } from '../text/lexical.ts';
import { denseRows, normalize } from '../vectors.ts';
import { SPACE_FILE_SUFFIX, storeSpace, type SpaceDtype } from './encoding.ts';
import { SNAPSHOT_FORMAT, SNAPSHOT_VERSION, contentHashOf, indexItems, sha256Hex, type FileEntry, type Manifest, type Space, type SpaceInfo, type Title } from './format.ts';
import type { Snapshot } from './snapshot.ts';

export interface BuildInput {
  name: string;
  description?: string;
  source?: string;
  items: SourceItem[];
  interactions?: Interaction[];
  /** Cover paths (relative to the snapshot folder) per item id, made by the caller. */
  covers?: Map<string, { cover: string; coverSquare: string }>;
  coverInfo?: Manifest['covers'];
  /** Origins of absolute cover URLs the app may load (kept by an update). */
  coverOrigins?: string[];
  lexicalDim?: number;
  builtAt?: Date;
  /** Settings of the community model and its validation tuning (default: the app's config). */
  ranker?: RankerConfig;
  /**
   * Spaces already encoded for these items, in this order (an update: snapshot/update.ts), with the encoders' files
   * they need: used instead of fitting the genre and lexical spaces afresh.
   */
  spaces?: Space[];
  blobs?: ReadonlyMap<string, Uint8Array>;
  /**
   * The interactions' co-occurrence lists computed outside (scripts/lib/cooccurrence.ts: SQL), for the final
   * community fit of a catalog above `denseUpTo` titles; without it they are counted here.
   */
  cooccurrence?: Cooccurrence;
}

/**
 * Each title's content hash (`{"<id>": "<hex>"}`), written by the builder and read by the next update
 * (`npm run snapshot -- --update`) to find the titles it must encode again; the app never downloads it.
 */
export const SOURCES_FILE = 'sources.json';

/**
 * What a title's vectors are made of, as one string: its text fields here, and the cover's own hash added by the
 * builder. Counts, ratings, year, age, completion and links are not in it: they change every week and are refreshed
 * without encoding anything again.
 */
export function contentKey(it: Pick<SourceItem, 'title' | 'author' | 'synopsis' | 'genres'>, coverSha256: string | undefined): string {
  return JSON.stringify([it.title, it.author ?? null, it.synopsis, it.genres, coverSha256 ?? null]);
}

const COMMUNITY_FILES = {
  model: 'community/ease.topn',
  categories: 'community/categories.f32',
} as const;

/** The community model's files and manifest entry (docs/snapshot.md), added to a snapshot's blobs. */
export function communityEntry(community: Community, counts: { users: number; interactions: number }, cfg: RankerConfig, blobs: Map<string, Uint8Array>): NonNullable<Manifest['community']> {
  // A model fitted here is in its stored form already (fitCommunity); one loaded from a version-1 snapshot is put in it.
  const m = community.model.scales ? community.model : storedModel(community.model);
  blobs.set(COMMUNITY_FILES.model, encodeCommunityModel(m));
  // A version-1 model's files, when the snapshot rewritten here had one (the writer drops what is not listed).
  for (const p of ['community/ease.index.u32', 'community/ease.weight.f32']) blobs.delete(p);
  // Category co-usage needs a genre space: a catalog without genres has none to store.
  const hasCategories = community.categorySimilarity.length > 0;
  if (hasCategories) blobs.set(COMMUNITY_FILES.categories, bytesOf(community.categorySimilarity));
  return {
    ...counts,
    model: {
      name: COMMUNITY_MODEL,
      version: COMMUNITY_VERSION,
      neighbours: m.neighbours,
      // `candidates` marks sparse EASE (the loader's `Community.sparse`).
      params: { lambda: cfg.community.lambda, ...(community.sparse ? { candidates: cfg.community.candidates } : {}) },
      files: { model: COMMUNITY_FILES.model },
    },
    ...(hasCategories ? { categories: { file: COMMUNITY_FILES.categories, dim: Math.round(Math.sqrt(community.categorySimilarity.length)) } } : {}),
    ...(community.learned ? { learned: community.learned } : {}),
  };
}

/** Percentile rank in [0, 1] of each defined value (ties share their mean rank). */
function percentiles(values: Array<number | undefined>): Array<number | undefined> {
  const idx = values.map((v, i) => [v, i] as const).filter(([v]) => v !== undefined) as Array<readonly [number, number]>;
  idx.sort((a, b) => a[0] - b[0]);
  const out: Array<number | undefined> = new Array(values.length).fill(undefined);
  const n = idx.length;
  for (let s = 0; s < n; ) {
    let e = s;
    while (e + 1 < n && idx[e + 1][0] === idx[s][0]) e++;
    const p = n === 1 ? 1 : (s + e) / 2 / (n - 1);
    for (let k = s; k <= e; k++) out[idx[k][1]] = p;
    s = e + 1;
  }
  return out;
}

/** Popularity = mean percentile over the signals a title has; a signal nobody has is not listed. */
function popularity(items: SourceItem[], counts?: number[]): { values: number[]; signals: string[] } {
  const signals: Array<[string, Array<number | undefined>]> = [];
  if (counts) signals.push(['interactions', counts]);
  for (const k of ['likes', 'votes', 'comments', 'rating'] as const) {
    const col = items.map((it) => it[k]);
    if (col.some((v) => v !== undefined)) signals.push([k, col]);
  }
  const ranked = signals.map(([, col]) => percentiles(col));
  const values = items.map((_, i) => {
    const ps = ranked.map((r) => r[i]).filter((p): p is number => p !== undefined);
    return ps.length ? ps.reduce((a, b) => a + b, 0) / ps.length : 0;
  });
  return { values, signals: signals.map(([k]) => k) };
}

export function genreVocabulary(items: ReadonlyArray<{ genres: string[] }>): string[] {
  const freq = new Map<string, number>();
  for (const it of items) for (const g of it.genres) freq.set(g, (freq.get(g) ?? 0) + 1);
  return [...freq.keys()].sort((a, b) => freq.get(b)! - freq.get(a)! || (a < b ? -1 : a > b ? 1 : 0));
}

export function genreSpace(items: Array<{ genres: string[] }>, vocabulary = genreVocabulary(items)): Space {
  const dim = vocabulary.length;
  const pos = new Map(vocabulary.map((g, i) => [g, i]));
  const data = new Float32Array(items.length * dim);
  items.forEach((it, i) => {
    const rowv = data.subarray(i * dim, (i + 1) * dim);
    for (const g of it.genres) if (pos.has(g)) rowv[pos.get(g)!] = 1;
    normalize(rowv);
  });
  return { name: 'genre', dim, data, normalized: true, encoder: { name: 'genre-multihot', version: 1, params: { vocabulary } } };
}

export function lexicalSpace(items: SourceItem[] | Title[], dim = 1024): { space: Space; idf: Float32Array } {
  const enc = LexicalEncoder.fit(items, dim);
  return {
    space: {
      name: 'lexical',
      dim,
      data: enc.embed(items),
      normalized: true,
      encoder: { name: LEXICAL_ENCODER, version: LEXICAL_VERSION, files: { idf: 'spaces/lexical.idf.f32' } },
    },
    idf: enc.idf,
  };
}

export function buildSnapshot(input: BuildInput): Snapshot {
  const { items: src, interactions } = input;
  let counts: number[] | undefined;
  let community: Manifest['community'];
  if (interactions) {
    const index = new Map(src.map((it, i) => [it.id, i]));
    counts = new Array(src.length).fill(0);
    const users = new Set<string>();
    for (const r of interactions) {
      const i = index.get(r.item);
      if (i !== undefined) counts[i]++;
      users.add(r.user);
    }
    community = { users: users.size, interactions: interactions.length };
  }
  const pop = popularity(src, counts);
  const items: Title[] = src.map((it, i) => {
    const t: Title = { id: it.id, title: it.title, synopsis: it.synopsis, genres: it.genres, popularity: pop.values[i] };
    if (it.author !== undefined) t.author = it.author;
    for (const k of ['rating', 'likes', 'comments', 'votes', 'year'] as const) if (it[k] !== undefined) t[k] = it[k];
    if (it.age !== undefined) t.age = it.age;
    if (it.completed !== undefined) t.completed = it.completed;
    if (it.source_url !== undefined) t.sourceUrl = it.source_url;
    if (counts) t.interactions = counts[i];
    const c = input.covers?.get(it.id);
    if (c) Object.assign(t, c);
    return t;
  });
  // The rows as the snapshot will store them (encoding.ts): the community model is tuned on what readers get.
  const asStored = (sp: Space): Space => ({ ...sp, data: storeSpace(sp.data, items.length, sp.dim).rowsRead });
  // A catalog whose titles name no genre has no genre space (a 0-dimensional one would break what reads it).
  let built: Space[];
  const blobs = new Map<string, Uint8Array>(input.blobs ?? []);
  if (input.spaces) built = input.spaces.map(asStored);
  else {
    const genreBuilt = genreSpace(items);
    const genre = genreBuilt.dim > 0 ? asStored(genreBuilt) : undefined;
    const lexBuilt = lexicalSpace(items, input.lexicalDim);
    const lex = { ...lexBuilt, space: asStored(lexBuilt.space) };
    blobs.set('spaces/lexical.idf.f32', bytesOf(lex.idf));
    built = genre ? [genre, lex.space] : [lex.space];
  }
  const spaces = new Map(built.map((s) => [s.name, s]));
  const indexOf = indexItems(items);
  let communityModel: Community | undefined;
  if (interactions && community) {
    // Every interaction trains (nobody is held out: minPositives ∞); the tuning carves its own validation.
    const cfg = input.ranker ?? defaultConfig.ranker;
    const train = temporalSplit(src, interactions, { minPositives: Number.POSITIVE_INFINITY }).train;
    communityModel = fitCommunityRanker(train, { items, spaces, indexOf }, cfg, input.cooccurrence).community;
    community = communityEntry(communityModel, community, cfg, blobs);
  }
  const manifest: Manifest = {
    format: SNAPSHOT_FORMAT,
    version: SNAPSHOT_VERSION,
    name: input.name,
    ...(input.description ? { description: input.description } : {}),
    ...(input.source ? { source: input.source } : {}),
    builtAt: (input.builtAt ?? new Date()).toISOString(),
    itemCount: items.length,
    contentHash: '',
    items: 'items.json',
    files: {},
    // The layout and file name of each space are chosen when it is written (serializeSnapshot).
    spaces: built.map((s) => ({ name: s.name, dim: s.dim, dtype: 'float32' as const, file: `spaces/${s.name}.f32`, normalized: s.normalized, encoder: s.encoder })),
    ...(input.coverOrigins ? { coverOrigins: input.coverOrigins } : {}),
    ...(input.coverInfo ? { covers: input.coverInfo } : {}),
    popularity: { signals: pop.signals },
    ...(community ? { community } : {}),
  };
  return { manifest, items, spaces, blobs, indexOf, ...(communityModel ? { community: communityModel } : {}) };
}

export function bytesOf(a: Float32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** Titles per synopsis page: a title page downloads one (~200 KB of JSON, ~45 KB compressed, for 1,000 synopses). */
const SYNOPSIS_PAGE_SIZE = 1000;

/**
 * items.json without the synopses, and the synopses in pages of SYNOPSIS_PAGE_SIZE (`manifest.details`): the app
 * ranks and draws cards from items.json alone and downloads a page of synopses when a title page or search needs it.
 */
function writeItems(items: Title[], file: string, out: Map<string, Uint8Array>): NonNullable<Manifest['details']> {
  const missing = items.find((t) => t.synopsis === undefined);
  if (missing) throw new Error(`cannot write the snapshot: the synopsis of ${JSON.stringify(missing.id)} was not loaded (load the snapshot with synopses: 'all')`);
  const enc = new TextEncoder();
  out.set(file, enc.encode(JSON.stringify(items.map(({ synopsis: _synopsis, ...core }) => core))));
  const pages: string[] = [];
  for (let k = 0; k * SYNOPSIS_PAGE_SIZE < items.length; k++) {
    const p = `details/synopses-${k}.json`;
    out.set(p, enc.encode(JSON.stringify(items.slice(k * SYNOPSIS_PAGE_SIZE, (k + 1) * SYNOPSIS_PAGE_SIZE).map((t) => t.synopsis))));
    pages.push(p);
  }
  return { pageSize: SYNOPSIS_PAGE_SIZE, pages };
}

/**
 * The files of a snapshot, manifest last (it lists the others' sizes and hashes). Spaces already in the
 * manifest keep their entries; spaces added since (e.g. by a trainer) are appended. A catalog without community
 * weights gets its serendipity price calibrated for exactly the spaces it is written with (rank/calibrate.ts).
 */
export async function serializeSnapshot(s: Snapshot, cfg: RankerConfig = defaultConfig.ranker): Promise<Map<string, Uint8Array>> {
  // Each space in the layout that suits it (encoding.ts): sparse half-float rows, int8 dense ones. The snapshot
  // then holds the rows a loader will read, so the calibration below is measured on them. Writing a version-1
  // snapshot again is its migration to version 2.
  const stored = new Map<string, { dtype: SpaceDtype; bytes: Uint8Array }>();
  for (const [name, sp] of s.spaces) {
    const { dtype, bytes, rowsRead } = storeSpace(denseRows(sp), s.items.length, sp.dim);
    stored.set(name, { dtype, bytes });
    s.spaces.set(name, { name: sp.name, dim: sp.dim, data: rowsRead, normalized: sp.normalized, encoder: sp.encoder });
  }
  if (s.community?.learned?.strength === undefined) {
    const calibration = calibrateCatalog(s, cfg);
    s.manifest = { ...s.manifest };
    delete s.manifest.calibration;
    if (calibration) s.manifest.calibration = { serendipity: calibration };
    if (calibration) s.calibration = calibration;
    else delete s.calibration;
  }
  // A delta rebuilds the files of the update that wrote it; once anything rewrites them, it rebuilds nothing.
  const delta = s.manifest.changes?.delta;
  if (delta && !s.blobs.has(delta.file)) {
    const { delta: _stale, ...changes } = s.manifest.changes!;
    s.manifest = { ...s.manifest, changes };
  }
  const out = new Map<string, Uint8Array>();
  const details = writeItems(s.items, s.manifest.items, out);
  const spaces: SpaceInfo[] = [...s.manifest.spaces.filter((i) => s.spaces.has(i.name))];
  for (const sp of s.spaces.values()) {
    if (!spaces.some((i) => i.name === sp.name)) spaces.push({ name: sp.name, dim: sp.dim, dtype: 'float32', file: '', normalized: sp.normalized, encoder: sp.encoder });
  }
  for (const [k, info] of spaces.entries()) {
    const sp = s.spaces.get(info.name)!;
    const { dtype, bytes } = stored.get(info.name)!;
    spaces[k] = { ...info, dim: sp.dim, normalized: sp.normalized, encoder: sp.encoder, dtype, file: `spaces/${info.name}${SPACE_FILE_SUFFIX[dtype]}` };
    out.set(spaces[k].file, bytes);
  }
  for (const [p, b] of s.blobs) out.set(p, b);
  const files: Record<string, FileEntry> = {};
  for (const [p, b] of out) {
    const sha = await sha256Hex(b);
    if (!sha) throw new Error('SHA-256 is unavailable here (needs crypto.subtle)');
    files[p] = { bytes: b.byteLength, sha256: sha };
  }
  const manifest: Manifest = { ...s.manifest, version: SNAPSHOT_VERSION, details, spaces, files, contentHash: (await contentHashOf(files))! };
  s.manifest = manifest;
  out.set('manifest.json', new TextEncoder().encode(JSON.stringify(manifest, null, 2) + '\n'));
  return out;
}
