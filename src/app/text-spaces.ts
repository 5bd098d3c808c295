/**
 * The text spaces a free-text query can be compared in, best first: `sts` (the synopsis model, in the
 * worker) and `lexical` (from the snapshot alone). The model loads lazily, on the first query that needs
 * it. When the snapshot has no sts space for the configured model, the catalog's synopses are embedded
 * here once and cached in IndexedDB by (model, revision, text hash).
 */
import type { ToonpickConfig } from '../core/config.ts';
import { lexicalEncoderOf } from '../core/search.ts';
import type { Snapshot, Space } from '../core/snapshot/format.ts';
import { STS_SPACE, stsEncoderInfo, stsSpaceMatches, synopsisText, textHash } from '../core/text/sts-space.ts';
import type { ReaderStore } from '../store/db.ts';
import { TextClient, type TextLoadProgress, type TextModelInfo, type TextModelRequest } from './text-client.ts';

export type TextSpaceProgress =
  | { phase: 'model'; file?: string; loaded?: number; total?: number }
  | { phase: 'catalog'; done: number; total: number };

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
export function modelPathForWorker(localModelPath: string, baseUrl: string): string {
  const url = new URL(localModelPath, baseUrl);
  return url.origin === new URL(baseUrl).origin ? url.pathname : url.href;
}

export class TextSpaces {
  private catalogSts: Promise<Space> | null = null;
  private readonly client: TextClient;
  private readonly request: TextModelRequest;
  /** Everyone waiting on the one shared load or catalog pass hears its progress. */
  private readonly listeners = new Set<(p: TextSpaceProgress) => void>();
  private readonly progress = (p: TextSpaceProgress) => this.listeners.forEach((l) => l(p));

  constructor(
    private readonly config: ToonpickConfig,
    private readonly snapshot: Snapshot,
    private readonly store: ReaderStore | null,
    baseUrl: string,
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
      const model = await this.client.load(this.request, (p: TextLoadProgress) => this.progress({ phase: 'model', file: p.file, loaded: p.loaded, total: p.total }));
      const space = this.snapshotSts() ?? (await (this.catalogSts ??= this.embedCatalog(model, this.progress).catch((e) => {
        this.catalogSts = null;
        throw e;
      })));
      const vector = await this.client.embed([query]);
      return { space, vector, model };
    } finally {
      this.listeners.delete(onProgress);
    }
  }

  /** Embeds every synopsis this device has no vector for yet, batch by batch (each batch cached at once). */
  private async embedCatalog(model: TextModelInfo, onProgress: (p: TextSpaceProgress) => void): Promise<Space> {
    const items = this.snapshot.items;
    const texts = items.map(synopsisText);
    const hashes = texts.map(textHash);
    const cached = this.store ? await this.store.getVectors(model.modelId, model.revision, hashes) : new Map<string, Float32Array>();
    const data = new Float32Array(items.length * model.dim);
    const todo: number[] = [];
    hashes.forEach((h, i) => {
      const v = cached.get(h);
      if (v && v.length === model.dim) data.set(v, i * model.dim);
      else todo.push(i);
    });
    const step = this.config.models.text.embedBatch;
    onProgress({ phase: 'catalog', done: items.length - todo.length, total: items.length });
    for (let s = 0; s < todo.length; s += step) {
      const rows = todo.slice(s, s + step);
      const out = await this.client.embed(rows.map((i) => texts[i]));
      rows.forEach((i, k) => data.set(out.subarray(k * model.dim, (k + 1) * model.dim), i * model.dim));
      // A cache: if storage is full the vectors are still used now, just computed again next time.
      await this.store?.putVectors(model.modelId, model.revision, rows.map((i, k) => ({ hash: hashes[i], vector: out.subarray(k * model.dim, (k + 1) * model.dim) }))).catch(() => undefined);
      onProgress({ phase: 'catalog', done: items.length - todo.length + Math.min(s + step, todo.length), total: items.length });
    }
    return { name: STS_SPACE, dim: model.dim, data, normalized: true, encoder: stsEncoderInfo(model) };
  }

  dispose(): void {
    this.client.dispose();
  }
}
