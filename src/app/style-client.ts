/**
 * The page's handle on the style worker (workers/style.worker.ts), and the glue that keeps the snapshot's
 * `style` and `gram` spaces in step with the weights in use:
 * - the shipped weights come with the snapshot (the style space's `encoder.files`);
 * - weights the reader retrained (Settings) are kept in IndexedDB and used instead, until restored;
 * - vectors the snapshot does not hold for the weights in use (all of them after a retrain; a title
 *   without a row) are embedded in the worker and cached in IndexedDB under (weights hash, title id, cover);
 * - the style map is laid out again (in the worker) for retrained weights, and kept in IndexedDB.
 */
import * as Comlink from 'comlink';
import type { Snapshot } from '../core/snapshot/snapshot.ts';
import { GRAM_SPACE, STYLE_DATA_FILE, STYLE_SPACE, STYLE_WEIGHTS_FILE } from '../core/style/style-map.ts';
import type { StyleWeights } from '../core/style/style-encoder.ts';
import type { ReaderStore } from '../store/db.ts';
import type { StyleBackend, StyleModelInfo, StyleTrainProgress, StyleTrainRequest, StyleTrainResult, StyleWorkerApi } from '../../workers/style.worker.ts';

export type { StyleBackend, StyleModelInfo, StyleTrainProgress, StyleTrainResult };

/** IndexedDB meta key of the reader's retrained weights ({ manifest, data }). */
const RETRAINED_KEY = 'styleWeights';
/** IndexedDB meta key of the style map of the retrained weights ({ hash, bytes }): one, the latest. */
const RETRAINED_MAP_KEY = 'styleMap';

export class StyleClient {
  private readonly worker: Worker;
  private readonly remote: Comlink.Remote<StyleWorkerApi>;

  constructor() {
    // Inline `new URL(…, import.meta.url)`: Vite then emits the worker as its own module chunk.
    this.worker = new Worker(new URL('../../workers/style.worker.ts', import.meta.url), { type: 'module' });
    this.remote = Comlink.wrap<StyleWorkerApi>(this.worker);
  }

  /** The backend the worker got (webgpu, wasm or cpu). */
  backend(): Promise<StyleBackend> {
    return this.remote.init();
  }

  load(weights: StyleWeights): Promise<StyleModelInfo> {
    return this.remote.load(weights);
  }

  embedCovers(urls: string[]) {
    return this.remote.embedCovers(urls);
  }

  /** The style map of these style vectors (encoded as the snapshot's `style/map.f32`). */
  map(style: Float32Array, dim: number): Promise<Uint8Array> {
    return this.remote.map(style, dim);
  }

  train(req: StyleTrainRequest, onProgress: (p: StyleTrainProgress) => void): Promise<StyleTrainResult> {
    return this.remote.train(req, Comlink.proxy(onProgress));
  }

  cancel(): Promise<void> {
    return this.remote.cancel();
  }

  dispose() {
    this.remote[Comlink.releaseProxy]();
    this.worker.terminate();
  }
}

/** The weights shipped in the snapshot, or null when it has none. */
function shippedWeights(snapshot: Snapshot): StyleWeights | null {
  const files = snapshot.manifest.spaces.find((s) => s.name === STYLE_SPACE)?.encoder.files;
  const json = files?.weights && snapshot.blobs.get(files.weights ?? STYLE_WEIGHTS_FILE);
  const bin = files?.data && snapshot.blobs.get(files.data ?? STYLE_DATA_FILE);
  if (!json || !bin) return null;
  // The file's bytes as they are: the manifest says how they store the values (float32, float16 or int8).
  return { manifest: JSON.parse(new TextDecoder().decode(json)), data: bin.slice() };
}

function weightsHash(w: StyleWeights): string {
  return String((w.manifest as { hash?: unknown }).hash ?? '');
}

export class StyleSpaces {
  /** The snapshot's own rows and map, kept so that restoring the shipped weights restores them. */
  private readonly shippedRows: Map<string, Float32Array>;
  private readonly mapFile: string | undefined;
  private readonly shippedMap: Uint8Array | undefined;
  private client: StyleClient | null = null;

  constructor(
    private readonly snapshot: Snapshot,
    private readonly store: ReaderStore | null,
    private readonly coverUrl: (i: number) => string | undefined,
  ) {
    this.shippedRows = new Map([STYLE_SPACE, GRAM_SPACE].flatMap((n) => (snapshot.spaces.has(n) ? [[n, snapshot.spaces.get(n)!.data] as const] : [])));
    this.mapFile = snapshot.manifest.spaces.find((s) => s.name === STYLE_SPACE)?.encoder.files?.map;
    this.shippedMap = this.mapFile ? snapshot.blobs.get(this.mapFile) : undefined;
  }

  worker(): StyleClient {
    return (this.client ??= new StyleClient());
  }

  /** The reader's retrained weights if any, else the shipped ones. */
  async active(): Promise<{ weights: StyleWeights; retrained: boolean } | null> {
    const mine = await this.store?.getMeta<StyleWeights>(RETRAINED_KEY);
    if (mine) return { weights: mine, retrained: true };
    const shipped = shippedWeights(this.snapshot);
    return shipped && { weights: shipped, retrained: false };
  }

  /**
   * Checks `weights` in the worker (a corrupt or wrong-shape file throws there and the weights in use stay),
   * keeps them in IndexedDB and re-embeds the catalog with them.
   */
  async useRetrained(weights: StyleWeights): Promise<StyleModelInfo> {
    const info = await this.worker().load(weights);
    const shipped = this.snapshot.manifest.spaces.find((s) => s.name === STYLE_SPACE);
    if (shipped && (shipped.dim !== info.latent || this.snapshot.spaces.get(GRAM_SPACE)?.dim !== info.gramDim)) {
      const previous = await this.active();
      if (previous) await this.worker().load(previous.weights);
      throw new Error(`these weights give ${info.latent}-d style vectors and ${info.gramDim}-d Gram vectors; this catalog uses ${shipped.dim} and ${this.snapshot.spaces.get(GRAM_SPACE)?.dim}`);
    }
    await this.store?.setMeta(RETRAINED_KEY, weights);
    await this.refresh();
    return info;
  }

  /** Forgets the retrained weights; the shipped ones and the snapshot's vectors are used again. */
  async restoreShipped(): Promise<void> {
    await this.store?.setMeta(RETRAINED_KEY, null);
    const shipped = shippedWeights(this.snapshot);
    if (shipped && this.client) await this.client.load(shipped);
    await this.refresh();
  }

  /** Makes the snapshot's style and gram spaces hold the vectors of the weights in use. */
  async refresh(): Promise<void> {
    const active = await this.active();
    if (!active) return;
    const style = this.snapshot.spaces.get(STYLE_SPACE);
    const gram = this.snapshot.spaces.get(GRAM_SPACE);
    if (!style || !gram) return;
    const n = this.snapshot.items.length;
    const hash = weightsHash(active.weights);
    const styleRows = active.retrained ? new Float32Array(n * style.dim) : this.shippedRows.get(STYLE_SPACE)!.slice();
    const gramRows = active.retrained ? new Float32Array(n * gram.dim) : this.shippedRows.get(GRAM_SPACE)!.slice();
    const empty = (rows: Float32Array, dim: number, i: number) => rows.subarray(i * dim, (i + 1) * dim).every((v) => v === 0);
    const missing = this.snapshot.items.map((_, i) => i).filter((i) => empty(styleRows, style.dim, i) && this.coverUrl(i));
    if (missing.length) {
      const cover = (i: number) => this.snapshot.items[i].coverSquare!;
      const ids = missing.map((i) => this.snapshot.items[i].id);
      const cachedStyle = (await this.store?.getVectors(`style:${hash}`, '', ids.map((id, k) => `${id}|${cover(missing[k])}`))) ?? new Map();
      const cachedGram = (await this.store?.getVectors(`gram:${hash}`, '', ids.map((id, k) => `${id}|${cover(missing[k])}`))) ?? new Map();
      const todo: number[] = [];
      for (const i of missing) {
        const key = `${this.snapshot.items[i].id}|${cover(i)}`;
        const s = cachedStyle.get(key);
        const g = cachedGram.get(key);
        if (s && g) {
          styleRows.set(s, i * style.dim);
          gramRows.set(g, i * gram.dim);
        } else todo.push(i);
      }
      if (todo.length) {
        await this.worker().load(active.weights);
        const out = await this.worker().embedCovers(todo.map((i) => this.coverUrl(i)!));
        const rowsS: { hash: string; vector: Float32Array }[] = [];
        const rowsG: { hash: string; vector: Float32Array }[] = [];
        todo.forEach((i, k) => {
          if (out.failed.includes(k)) return;
          const s = normalise(out.style.subarray(k * style.dim, (k + 1) * style.dim));
          const g = out.gram.subarray(k * gram.dim, (k + 1) * gram.dim);
          styleRows.set(s, i * style.dim);
          gramRows.set(g, i * gram.dim);
          const key = `${this.snapshot.items[i].id}|${cover(i)}`;
          rowsS.push({ hash: key, vector: s });
          rowsG.push({ hash: key, vector: g });
        });
        // A cache: a full disk only costs a re-embedding next time.
        await Promise.all([this.store?.putVectors(`style:${hash}`, '', rowsS), this.store?.putVectors(`gram:${hash}`, '', rowsG)]).catch(() => undefined);
      }
    }
    this.snapshot.spaces.set(STYLE_SPACE, { ...style, data: styleRows });
    this.snapshot.spaces.set(GRAM_SPACE, { ...gram, data: gramRows });
    await this.refreshMap(active.retrained ? hash : null, styleRows, style.dim);
  }

  /** The style map of the weights in use: the shipped one, or one laid out for the retrained weights (cached). */
  private async refreshMap(retrainedHash: string | null, styleRows: Float32Array, dim: number): Promise<void> {
    if (!this.mapFile || !this.shippedMap) return;
    if (retrainedHash === null) {
      this.snapshot.blobs.set(this.mapFile, this.shippedMap);
      return;
    }
    const cached = await this.store?.getMeta<{ hash: string; bytes: Uint8Array }>(RETRAINED_MAP_KEY);
    let bytes = cached?.hash === retrainedHash ? cached.bytes : undefined;
    if (!bytes) {
      bytes = await this.worker().map(styleRows, dim);
      // A cache: a full disk only costs laying the map out again next time.
      await this.store?.setMeta(RETRAINED_MAP_KEY, { hash: retrainedHash, bytes }).catch(() => undefined);
    }
    this.snapshot.blobs.set(this.mapFile, bytes);
  }

  dispose() {
    this.client?.dispose();
    this.client = null;
  }
}

function normalise(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
  return Float32Array.from(v, (x) => x * inv);
}
