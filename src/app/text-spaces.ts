/**
 * The text spaces a free-text query can be compared in, best first: `sts` (the synopsis model, in the
 * worker) and `lexical` (from the snapshot alone). The model loads lazily, on the first query that needs
 * it. When the snapshot has no sts space for the configured model, the catalog's synopses are embedded
 * here once and cached in IndexedDB by (model, revision, text hash).
 *
 * The same catalog pass gives "For you" its `sts` space when the reader opts in (Settings): `catalogSpace()`
 * runs it in batches of `embedBatch`, each batch cached as it comes, so a reload resumes where it stopped;
 * when every synopsis already has a cached vector the space is built without loading the model at all.
 */
import { chooseDevice, probeCapabilities } from '../core/capabilities.ts';
import type { ToonpickConfig } from '../core/config.ts';
import { lexicalEncoderOf } from '../core/search.ts';
import type { Space } from '../core/snapshot/format.ts';
import type { Snapshot } from '../core/snapshot/snapshot.ts';
import { MODEL_CACHE, rangeTotal, textModelFileUrls, textModelFiles } from '../core/text/model-files.ts';
import { STS_SPACE, stsEncoderInfo, stsSpaceMatches, synopsisText, textHash } from '../core/text/sts-space.ts';
import type { ReaderStore } from '../store/db.ts';
import { TextClient, type TextLoadProgress, type TextModelInfo, type TextModelRequest } from './text-client.ts';

export type TextSpaceProgress =
  | { phase: 'model'; status?: string; file?: string; loaded?: number; total?: number }
  | { phase: 'catalog'; done: number; total: number };

/** What downloading the text model would cost now. */
export interface TextModelDownload {
  /** Every file of the model is in this browser's cache: nothing to download. */
  cached: boolean;
  /** Bytes still to download; null when a file's size could not be learned. */
  bytes: number | null;
}

export interface QueryInSpace {
  space: Space;
  vector: Float32Array;
  /** Present for the sts space: which model and device made the query vector. */
  model?: TextModelInfo;
}

/**
 * Self-hosted models' folder as the worker must see it. Resolved against the page (the worker would
 * resolve a relative path against its own script URL), and given as a root-relative path when it is on
 * our origin: transformers.js 4.3.1 checks that a file exists (tokenizer_config.json) only for local
 * paths, never for a full URL, so with a URL and remote models off the tokenizer is never found.
 */
function modelPathForWorker(localModelPath: string, baseUrl: string): string {
  const url = new URL(localModelPath, baseUrl);
  return url.origin === new URL(baseUrl).origin ? url.pathname : url.href;
}

export class TextSpaces {
  private catalogSts: Promise<Space> | null = null;
  /** Stops the catalog pass in flight (stop()). */
  private passAbort: AbortController | null = null;
  /** Synopses this page has embedded with the model (not read from the cache): what a reload must not redo. */
  embedded = 0;
  /** Called once the catalog pass has built the sts space, whoever asked for it (search or Settings). */
  onCatalogSpace: ((space: Space) => void) | null = null;
  private readonly client: TextClient;
  private readonly request: TextModelRequest;
  /** Everyone waiting on the one shared load or catalog pass hears its progress. */
  private readonly listeners = new Set<(p: TextSpaceProgress) => void>();
  private readonly progress = (p: TextSpaceProgress) => this.listeners.forEach((l) => l(p));

  constructor(
    private readonly config: ToonpickConfig,
    private readonly snapshot: Snapshot,
    private readonly store: ReaderStore | null,
    private readonly baseUrl: string,
  ) {
    const m = config.models.text;
    this.client = new TextClient({ stallMs: m.stallTimeoutMs, embedMs: m.embedTimeoutMs });
    this.request = {
      model: { ...m, localModelPath: modelPathForWorker(m.localModelPath, baseUrl) },
      device: config.device,
      ...this.snapshotAdapter(),
    };
  }

  /** The snapshot's sts space, when it was made by the configured model. */
  private snapshotSts(): Space | undefined {
    const m = this.config.models.text;
    const s = this.snapshot.spaces.get(STS_SPACE);
    return stsSpaceMatches(s, m.modelId, m.revision) ? s : undefined;
  }

  private snapshotAdapter(): Pick<TextModelRequest, 'adapter'> {
    const s = this.snapshotSts();
    const file = s?.encoder.files?.adapter;
    const bytes = file ? this.snapshot.blobs.get(file) : undefined;
    return s && bytes ? { adapter: { dim: s.dim, bytes } } : {};
  }

  lexical(query: string): QueryInSpace {
    return { space: this.snapshot.spaces.get('lexical')!, vector: lexicalEncoderOf(this.snapshot).embedQuery(query) };
  }

  /** Loads the model if needed and embeds the query; throws TextModelError when the model cannot run. */
  async sts(query: string, onProgress: (p: TextSpaceProgress) => void): Promise<QueryInSpace> {
    this.listeners.add(onProgress);
    try {
      const model = await this.loadModel();
      const space = this.snapshotSts() ?? (await this.startPass());
      const vector = await this.client.embed([query]);
      return { space, vector, model };
    } finally {
      this.listeners.delete(onProgress);
    }
  }

  /**
   * The catalog's sts space made on this device (one shared pass): from cached vectors alone when every synopsis
   * has one, else the model is loaded and the missing synopses are embedded batch by batch.
   */
  async catalogSpace(onProgress?: (p: TextSpaceProgress) => void): Promise<Space> {
    if (onProgress) this.listeners.add(onProgress);
    try {
      return await this.startPass();
    } finally {
      if (onProgress) this.listeners.delete(onProgress);
    }
  }

  /** Stops a catalog pass in flight, and the model load under it (the worker is closed); cached vectors stay. */
  stop(): void {
    if (!this.passAbort) return;
    this.passAbort.abort();
    this.passAbort = null;
    this.catalogSts = null;
    this.client.dispose();
  }

  /** Whether every file of the model is already in this browser's cache (no network: the Cache API only). */
  async modelCached(): Promise<boolean> {
    const m = this.request.model;
    return (await Promise.all([...new Set([m.dtype.wasm, m.dtype.webgpu])].map(async (dtype) => (await this.fileStatus(textModelFiles(dtype), false)).every((f) => f.cached)))).some(Boolean);
  }

  /**
   * What the model would download on this device (its dtype follows the device the worker will choose): files
   * already cached cost nothing; the others' sizes come from a HEAD request to the self-hosted copy, else a
   * one-byte range request to the model hub, as transformers.js reads them.
   */
  async download(): Promise<TextModelDownload> {
    const m = this.request.model;
    const device = chooseDevice(await probeCapabilities(), this.config.device);
    const files = await this.fileStatus(textModelFiles(device === 'webgpu' ? m.dtype.webgpu : m.dtype.wasm), true);
    const cached = files.every((f) => f.cached);
    const bytes = files.reduce<number | null>((sum, f) => (sum === null || f.bytes === undefined ? null : sum + (f.cached ? 0 : f.bytes)), 0);
    return { cached, bytes };
  }

  private async fileStatus(files: string[], sizes: boolean): Promise<Array<{ cached: boolean; bytes?: number }>> {
    const cache = await openModelCache();
    const m = this.request.model;
    return Promise.all(
      files.map(async (file) => {
        const url = textModelFileUrls(m, file, this.baseUrl);
        const hit = cache && ((await cache.match(url.local).catch(() => undefined)) ?? (url.remote ? await cache.match(url.remote).catch(() => undefined) : undefined));
        if (hit) return { cached: true, bytes: 0 };
        return sizes ? { cached: false, bytes: await remoteSize(url) } : { cached: false };
      }),
    );
  }

  private loadModel(): Promise<TextModelInfo> {
    return this.client.load(this.request, (p: TextLoadProgress) => this.progress({ phase: 'model', status: p.status, file: p.file, loaded: p.loaded, total: p.total }));
  }

  private startPass(): Promise<Space> {
    if (this.catalogSts) return this.catalogSts;
    const abort = new AbortController();
    const pass: Promise<Space> = this.embedCatalog(abort.signal).then(
      (space) => {
        if (this.passAbort === abort) this.passAbort = null;
        this.onCatalogSpace?.(space);
        return space;
      },
      (e) => {
        if (this.passAbort === abort) this.passAbort = null;
        if (this.catalogSts === pass) this.catalogSts = null;
        throw e;
      },
    );
    this.passAbort = abort;
    this.catalogSts = pass;
    return pass;
  }

  /** Embeds every synopsis this device has no vector for yet, batch by batch (each batch cached at once). */
  private async embedCatalog(signal: AbortSignal): Promise<Space> {
    const m = this.config.models.text;
    const items = this.snapshot.items;
    await this.snapshot.synopses?.load(); // where the snapshot keeps synopses in pages
    signal.throwIfAborted();
    const texts = items.map(synopsisText);
    const hashes = texts.map(textHash);
    const cached = this.store ? await this.store.getVectors(m.modelId, m.revision, hashes).catch(() => new Map<string, Float32Array>()) : new Map<string, Float32Array>();
    signal.throwIfAborted();
    const first = cached.values().next().value;
    // Everything cached: no model needed (the dtype is the WASM one's, as most devices make them).
    if (first && hashes.every((h) => cached.get(h)?.length === first.length)) {
      const dim = first.length;
      const data = new Float32Array(items.length * dim);
      hashes.forEach((h, i) => data.set(cached.get(h)!, i * dim));
      this.progress({ phase: 'catalog', done: items.length, total: items.length });
      return { name: STS_SPACE, dim, data, normalized: true, encoder: stsEncoderInfo({ modelId: m.modelId, revision: m.revision, dtype: m.dtype.wasm }) };
    }
    const model = await this.loadModel();
    signal.throwIfAborted();
    const data = new Float32Array(items.length * model.dim);
    const todo: number[] = [];
    hashes.forEach((h, i) => {
      const v = cached.get(h);
      if (v && v.length === model.dim) data.set(v, i * model.dim);
      else todo.push(i);
    });
    const step = m.embedBatch;
    this.progress({ phase: 'catalog', done: items.length - todo.length, total: items.length });
    for (let s = 0; s < todo.length; s += step) {
      const rows = todo.slice(s, s + step);
      const out = await this.client.embed(rows.map((i) => texts[i]));
      signal.throwIfAborted();
      this.embedded += rows.length;
      rows.forEach((i, k) => data.set(out.subarray(k * model.dim, (k + 1) * model.dim), i * model.dim));
      // A cache: if storage is full the vectors are still used now, just computed again next time.
      await this.store?.putVectors(model.modelId, model.revision, rows.map((i, k) => ({ hash: hashes[i], vector: out.subarray(k * model.dim, (k + 1) * model.dim) }))).catch(() => undefined);
      signal.throwIfAborted();
      this.progress({ phase: 'catalog', done: items.length - todo.length + Math.min(s + step, todo.length), total: items.length });
    }
    return { name: STS_SPACE, dim: model.dim, data, normalized: true, encoder: stsEncoderInfo(model) };
  }

  dispose(): void {
    this.client.dispose();
  }
}

/** transformers.js' model cache, or null where there is none (no Cache API, or it has never been created). */
async function openModelCache(): Promise<Cache | null> {
  try {
    return typeof caches !== 'undefined' && (await caches.has(MODEL_CACHE)) ? await caches.open(MODEL_CACHE) : null;
  } catch {
    return null;
  }
}

/** A model file's size without downloading it: HEAD on the self-hosted copy, else a one-byte range of the hub's. */
async function remoteSize(url: { local: string; remote?: string }): Promise<number | undefined> {
  try {
    const head = await fetch(url.local, { method: 'HEAD', cache: 'no-store' });
    const n = Number(head.headers.get('content-length'));
    if (head.ok && n > 0) return n;
  } catch {
    // not self-hosted: try the hub
  }
  if (!url.remote) return undefined;
  try {
    const res = await fetch(url.remote, { headers: { Range: 'bytes=0-0' }, cache: 'no-store' });
    const total = rangeTotal(res.headers.get('content-range')) ?? (res.status === 200 ? Number(res.headers.get('content-length')) || undefined : undefined);
    await res.body?.cancel().catch(() => undefined);
    return res.ok ? total : undefined;
  } catch {
    return undefined;
  }
}
