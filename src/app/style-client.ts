/**
 * The page's handle on the style worker (workers/style.worker.ts), and the glue that gives the `style` and
 * `gram` spaces of the weights in use (the snapshot itself is never changed):
 * - the shipped weights come with the snapshot (the style space's `encoder.files`);
 * - weights the reader retrained (Settings) are kept in IndexedDB and used instead, until restored;
 * - vectors the snapshot does not hold for the weights in use (all of them after a retrain; a title
 *   without a row) are embedded in the worker and cached in IndexedDB under (weights hash, title id, cover);
 * - the style map is laid out again (in the worker) for retrained weights, and kept in IndexedDB.
 */
import type { ToonpickConfig } from '../core/config.ts';
import type { Space } from '../core/snapshot/format.ts';
import type { Snapshot } from '../core/snapshot/snapshot.ts';
import { GRAM_SPACE, STYLE_DATA_FILE, STYLE_SPACE, STYLE_WEIGHTS_FILE } from '../core/style/style-map.ts';
import type { StyleWeights } from '../core/style/style-encoder.ts';
import type { ReaderStore } from '../store/db.ts';
import {
  tfjsPreference,
  type StyleBackend,
  type StyleModelInfo,
  type StyleTrainProgress,
  type StyleTrainRequest,
  type StyleTrainResult,
  type StyleWorkerApi,
} from '../../workers/protocol.ts';
import { WorkerHandle } from './worker-rpc.ts';

export type { StyleBackend, StyleModelInfo, StyleTrainProgress, StyleTrainResult };

/** IndexedDB meta key of the reader's retrained weights ({ manifest, data }). */
const RETRAINED_KEY = 'styleWeights';
/** IndexedDB meta key of the style map of the retrained weights ({ hash, bytes }): one, the latest. */
const RETRAINED_MAP_KEY = 'styleMap';

/**
 * The style worker on the shared protocol (src/app/worker-rpc.ts). Every new worker — the first, or one
 * started after a crash — picks its backend from config.device and loads the weights last put in use, so a
 * crash costs the call in flight (a training run fails with a message; Settings can start it again) and nothing
 * else.
 */
export class StyleClient {
  private readonly handle: WorkerHandle<StyleWorkerApi>;
  /** The weights last put in use: what a new worker loads. */
  private weights: StyleWeights | null = null;

  constructor(
    device: ToonpickConfig['device'],
    private readonly limits: ToonpickConfig['workers']['style'],
  ) {
    this.handle = new WorkerHandle<StyleWorkerApi>({
      name: 'style',
      spawn: () => new Worker(new URL('../../workers/style.worker.ts', import.meta.url), { type: 'module' }),
      setup: async (remote) => {
        await remote.init(tfjsPreference(device));
        if (this.weights) await remote.load(this.weights);
      },
      setupLimits: () => ({ what: 'starting the style encoder', stallMs: limits.stallMs }),
    });
  }

  /** The backend the worker got (webgpu, wasm or cpu). */
  backend(): Promise<StyleBackend> {
    return this.handle.call((remote) => remote.init(), { what: 'choosing the style backend', timeoutMs: this.limits.stallMs });
  }

  /** Puts these weights in use (checked in the worker: a corrupt file throws and the previous weights stay). */
  async load(weights: StyleWeights): Promise<StyleModelInfo> {
    const info = await this.handle.call((remote) => remote.load(weights), { what: 'loading style weights', timeoutMs: this.limits.stallMs });
    this.weights = weights;
    return info;
  }

  embedCovers(urls: string[]) {
    return this.handle.call((remote, progress) => remote.embedCovers(urls, progress()), {
      what: `embedding ${urls.length} covers`,
      stallMs: this.limits.stallMs,
      timeoutMs: this.limits.callMs,
      retry: true,
    });
  }

  /** The style map of these style vectors (encoded as the snapshot's `style/map.f32`). */
  map(style: Float32Array, dim: number): Promise<Uint8Array> {
    return this.handle.call((remote) => remote.map(style, dim), { what: 'laying out the style map', timeoutMs: this.limits.callMs, retry: true });
  }

  /** Trains a copy of the weights in use; a run whose progress stops for `stallMs` is given up (the worker is replaced). */
  async train(req: StyleTrainRequest, onProgress: (p: StyleTrainProgress) => void): Promise<StyleTrainResult> {
    const result = await this.handle.call((remote, progress) => remote.train(req, progress(onProgress)), { what: 'training the style encoder', stallMs: this.limits.stallMs });
    this.weights = { manifest: result.weights.manifest, data: result.weights.data };
    return result;
  }

  /** Stops a training run in progress; it goes past the worker's queue, straight to the running job. */
  cancel(): Promise<void> {
    return this.handle.direct((remote) => remote.cancel());
  }

  dispose() {
    this.handle.stop();
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

/**
 * The style and gram spaces of the weights in use where they differ from the snapshot's (retrained weights, or
 * titles the snapshot has no row for), and the style map that goes with them. The snapshot itself is never
 * changed: the app's catalog joins these into a new object (src/ui/state/catalog.svelte.ts `ranked`).
 */
export interface StyleVectors {
  spaces: Space[];
  /** The map laid out for retrained weights (encoded as the snapshot's map file); absent: the snapshot's own. */
  map?: Uint8Array;
}

export class StyleSpaces {
  private readonly mapFile: string | undefined;
  private client: StyleClient | null = null;

  constructor(
    private readonly snapshot: Snapshot,
    private readonly store: ReaderStore | null,
    private readonly coverUrl: (i: number) => string | undefined,
    private readonly config: Pick<ToonpickConfig, 'device' | 'workers'>,
  ) {
    this.mapFile = snapshot.manifest.spaces.find((s) => s.name === STYLE_SPACE)?.encoder.files?.map;
  }

  worker(): StyleClient {
    return (this.client ??= new StyleClient(this.config.device, this.config.workers.style));
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
   * keeps them in IndexedDB and embeds the catalog with them.
   */
  async useRetrained(weights: StyleWeights): Promise<{ info: StyleModelInfo; vectors: StyleVectors | null }> {
    const info = await this.worker().load(weights);
    const shipped = this.snapshot.manifest.spaces.find((s) => s.name === STYLE_SPACE);
    if (shipped && (shipped.dim !== info.latent || this.snapshot.spaces.get(GRAM_SPACE)?.dim !== info.gramDim)) {
      const previous = await this.active();
      if (previous) await this.worker().load(previous.weights);
      throw new Error(`these weights give ${info.latent}-d style vectors and ${info.gramDim}-d Gram vectors; this catalog uses ${shipped.dim} and ${this.snapshot.spaces.get(GRAM_SPACE)?.dim}`);
    }
    await this.store?.setMeta(RETRAINED_KEY, weights);
    return { info, vectors: await this.vectors() };
  }

  /** Forgets the retrained weights; the shipped ones and the snapshot's vectors are used again. */
  async restoreShipped(): Promise<StyleVectors | null> {
    await this.store?.setMeta(RETRAINED_KEY, null);
    const shipped = shippedWeights(this.snapshot);
    if (shipped && this.client) await this.client.load(shipped);
    return this.vectors();
  }

  /**
   * The style and gram spaces of the weights in use, when they differ from the snapshot's (null when the snapshot's
   * own rows are all there is to use). Rows are embedded in the worker only when the cache has none.
   */
  async vectors(): Promise<StyleVectors | null> {
    const active = await this.active();
    const style = this.snapshot.spaces.get(STYLE_SPACE);
    const gram = this.snapshot.spaces.get(GRAM_SPACE);
    if (!active || !style || !gram) return null;
    const n = this.snapshot.items.length;
    const hash = weightsHash(active.weights);
    const styleRows = active.retrained ? new Float32Array(n * style.dim) : style.data.slice();
    const gramRows = active.retrained ? new Float32Array(n * gram.dim) : gram.data.slice();
    const empty = (rows: Float32Array, dim: number, i: number) => rows.subarray(i * dim, (i + 1) * dim).every((v) => v === 0);
    const missing = this.snapshot.items.map((_, i) => i).filter((i) => empty(styleRows, style.dim, i) && this.coverUrl(i));
    if (!active.retrained && missing.length === 0) return null;
    if (missing.length) {
      const cover = (i: number) => this.snapshot.items[i].coverSquare!;
      const keys = missing.map((i) => `${this.snapshot.items[i].id}|${cover(i)}`);
      const cachedStyle = (await this.store?.getVectors(`style:${hash}`, '', keys)) ?? new Map();
      const cachedGram = (await this.store?.getVectors(`gram:${hash}`, '', keys)) ?? new Map();
      const todo: number[] = [];
      missing.forEach((i, k) => {
        const s = cachedStyle.get(keys[k]);
        const g = cachedGram.get(keys[k]);
        if (s && g) {
          styleRows.set(s, i * style.dim);
          gramRows.set(g, i * gram.dim);
        } else todo.push(i);
      });
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
    const spaces = [
      { ...style, data: styleRows },
      { ...gram, data: gramRows },
    ];
    return { spaces, map: active.retrained ? await this.retrainedMap(hash, styleRows, style.dim) : undefined };
  }

  /** The style map laid out for retrained weights (cached in IndexedDB: one, the latest). */
  private async retrainedMap(hash: string, styleRows: Float32Array, dim: number): Promise<Uint8Array | undefined> {
    if (!this.mapFile) return undefined;
    const cached = await this.store?.getMeta<{ hash: string; bytes: Uint8Array }>(RETRAINED_MAP_KEY);
    if (cached?.hash === hash) return cached.bytes;
    const bytes = await this.worker().map(styleRows, dim);
    // A cache: a full disk only costs laying the map out again next time.
    await this.store?.setMeta(RETRAINED_MAP_KEY, { hash, bytes }).catch(() => undefined);
    return bytes;
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
