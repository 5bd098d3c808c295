/**
 * Loads the snapshot in the snapshot worker (workers/snapshot.worker.ts), on the shared worker protocol: the
 * downloads, SHA-256 checks, decoding and the cutting of items.json into its titles all run off the page's thread,
 * and the decoded snapshot is transferred back without a copy; the page parses and checks the titles a slice per
 * task. The worker lives for one load, and is stopped as soon as the page needs nothing more from it. Where a worker
 * cannot run (it fails to start or crashes), the same loader runs on the page, so the app still opens; a broken
 * snapshot is refused with the loader's own message either way.
 */
import * as Comlink from 'comlink';
import type { LoadProgress, SnapshotProfile } from '../core/snapshot/load.ts';
import { httpReader, loadSnapshot, synopsisPages } from '../core/snapshot/load.ts';
import { isSharedBuffer, sharedRowsAvailable, sparseKernelAvailable, spacesIntoWasm, wasmRowsMemory } from '../core/math/sparse-scan.ts';
import { snapshotFileCache, withKeptManifest } from '../core/snapshot/file-cache.ts';
import type { RowsOnDisk, Snapshot } from '../core/snapshot/snapshot.ts';
import { indexItems, type Manifest, type Title } from '../core/snapshot/format.ts';
import type { CsrRows } from '../core/snapshot/encoding.ts';
import { snapshotFromMessage, type SnapshotMessage } from '../core/snapshot/transfer.ts';
import { coreHolds, coreId, TitleSlices, type RankingCore } from '../core/snapshot/titles.ts';
import type { Catalog as RankedCatalog, RankedTitle } from '../core/rank/signals.ts';
import type { RowsPieceSink, SnapshotWorkerApi } from '../../workers/protocol.ts';
import { isWorkerCrash, WorkerHandle } from './worker-rpc.ts';
import { takeEarlyWorker } from './early-worker.ts';
import { pauseAfter, yieldToPage } from './yield.ts';

export interface SnapshotLoad {
  profile?: SnapshotProfile;
  onProgress?: (p: LoadProgress) => void;
  /** Give the load up when no byte arrives and nothing finishes for this long (config.workers.snapshot). */
  stallMs: number;
  /**
   * Titles parsed and checked per task, and, where the worker checked them whole (items.json could not be cut), how
   * many such slices are asked of it at once (config.workers.snapshot).
   */
  itemSlice: number;
  slicesAhead: number;
  /** Bytes of sparse rows moved into WebAssembly memory per step (config.workers.snapshot.rowChunkBytes). */
  rowChunkBytes: number;
  /** The page's thread is given back between those steps once this many ms have passed (config.stepBudgetMs). */
  stepBudgetMs: number;
  /**
   * Given, a large catalog is ranked before its titles come: the ranker's part of every title, read from items.json's
   * bytes as soon as it is in (titles.ts RankingCore), is handed over with the rows as a CatalogPreview, and the
   * titles are taken in only once the promise this returns settles (the page has drawn its first cards by then).
   */
  onPreview?: (preview: CatalogPreview) => Promise<void>;
}

/**
 * A catalog the ranker can rank before the page has its titles (SnapshotLoad.onPreview): the snapshot's spaces and
 * models, and of each title only what the ranker reads. `titlesAt` gives the titles a page shows, checked, while the
 * rest are still being taken in.
 */
export interface CatalogPreview extends RankedCatalog {
  manifest: Manifest;
  titlesAt(rows: number[]): Promise<Title[]>;
  /**
   * The snapshot this preview stands for, set once its titles came and were found to be what the core said
   * (titles.ts coreHolds): a ranking made on the preview is that snapshot's ranking.
   */
  standsFor?: Snapshot;
}

export async function loadSnapshotOffThread(base: URL, options: SnapshotLoad): Promise<Snapshot> {
  const profile = options.profile ?? 'app';
  const handle = new WorkerHandle<SnapshotWorkerApi>({
    name: 'snapshot',
    // The worker the page started before its bundle, if it did (early-worker.ts); else one started now.
    spawn: () => takeEarlyWorker() ?? new Worker(new URL('../../workers/snapshot.worker.ts', import.meta.url), { type: 'module' }),
  });
  let ended = false;
  try {
    const limits = { what: 'loading the snapshot', stallMs: options.stallMs };
    // Rows the worker leaves in the file cache come to the page piece by piece, straight into WebAssembly memory, so
    // that they are never held twice (60 MB at 100k titles): those of a kept file as the worker checks them, while
    // it loads the rest; those it has just downloaded once the load is done (its copy can go meanwhile).
    // A cross-origin isolated page shares that memory with the worker, which then writes the rows into it itself.
    const coming = new Map<string, RowsComing>();
    const touch = pauseAfter(options.stepBudgetMs, true);
    const shared = sharedRowsAvailable();
    const comingFor = (r: RowsOnDisk) => {
      let c = coming.get(r.space);
      if (!c?.of(r)) coming.set(r.space, (c = new RowsComing(r, touch, shared)));
      return c;
    };
    // Told first that rows may come (room is made for them, shared where it can be), then what RowsComing.hear takes.
    const onRowsPiece: RowsPieceSink = (r, piece, at) => (piece || at !== undefined ? coming.get(r.space) : comingFor(r))?.hear(r, piece, at);
    const rowsOnDisk = sparseKernelAvailable();
    // The ranker's part of every title (a first ranking before the titles), as soon as items.json is in: a title
    // object per row is made while the rows come.
    let cored: Promise<PreviewTitles | undefined> | undefined;
    const onRankingCore = (core: RankingCore) => {
      cored = previewTitlesOf(core, pauseAfter(options.stepBudgetMs));
      cored.catch(() => undefined); // awaited below, unless the rows fail first
    };
    // Progress comes on a channel of its own, which may deliver a report after the load's answer: none is heard once
    // the load has ended (a late one would show the bar again over a loaded catalog).
    const onProgress = (p: LoadProgress) => !ended && options.onProgress?.(p);
    const message = await handle.call((remote, progress) => remote.load({ base: base.href, profile, rowsOnDisk }, progress(onProgress), progress(onRowsPiece, true), options.onPreview && progress(onRankingCore)), limits);
    // The titles as the worker cut items.json (none where it could not: it then sends them checked, in slices).
    const slices = message.titles && TitleSlices.fromBytes(message.titles, message.manifest);
    if (message.titles && !slices) throw new Error('the snapshot worker cut items.json into other titles than the manifest lists');
    delete message.titles; // the slices hold the bytes alone, and let go of them after the last
    // With the titles here, the worker has nothing left to do once the rows are in: stopped then, its heap goes at once
    // (at 100k titles a renderer peak 25–45 MiB lower, and a cold visit's download is not held until it is collected).
    const doneWithWorker = () => slices && handle.stop();
    const rowsOf = async (r: RowsOnDisk): Promise<CsrRows> => {
      if (r.sent) return comingFor(r).rows;
      // Read again from the file cache, into the room made for them (unless pieces of a check that failed came there).
      // Shared room the worker was given is its to write again from the start (the same file's bytes).
      const announced = coming.get(r.space);
      const c = announced?.of(r) && (announced.empty || announced.shared) ? announced : new RowsComing(r, touch, shared);
      coming.delete(r.space);
      if (!(await handle.call((remote, progress) => remote.keptRows(r, progress((_, piece, at) => c.hear(r, piece, at), true), c.shared), limits)))
        throw new KeptRowsLost(`the rows of ${r.space} left in the file cache could not be read back`);
      return c.rows;
    };
    // The spaces' rows left on disk, into the message's spaces (once: a second call finds none left).
    const rowsIn = async () => {
      for (const r of message.rowsOnDisk ?? []) message.spaces.set(r.space, { ...message.spaces.get(r.space)!, csr: await rowsOf(r) });
      delete message.rowsOnDisk;
    };
    // Sparse rows in the message go into WebAssembly memory before the titles come, a chunk per task: the
    // transferred rows can then go before the titles fill the page's memory (measured: moving them after the
    // titles, or between the slices, raised the renderer's peak by another 20–30 MiB).
    const move = spacesIntoWasm(message.spaces, options.rowChunkBytes);
    const pause = pauseAfter(options.stepBudgetMs);
    while (!move.next().done) await pause();
    let preview: Preview | undefined;
    if (cored && options.onPreview && !message.sequence && message.rowsOnDisk?.length) {
      // The rows first, then the ranking and its cards: the titles wait (the page's thread is what both need).
      await rowsIn();
      doneWithWorker();
      const titles = await cored;
      preview = titles && slices && previewOf(message, titles, async (rows) => slices.titlesAt(rows));
      if (preview) await options.onPreview(preview).catch(() => undefined);
    }
    // Rows left on disk are read while the titles are taken in (no buffer of them is held twice meanwhile).
    const count = message.manifest.itemCount;
    const next: SliceOf = slices
      ? async (start, end) => {
          await yieldToPage();
          return slices.slice(start, end);
        }
      : (start, end) => handle.call((remote) => remote.items(start, end), limits);
    const titles = takeTitles(next, count, options.itemSlice, slices ? 1 : options.slicesAhead, preview);
    titles.catch(() => undefined); // awaited below, unless the rows fail first
    await rowsIn();
    doneWithWorker();
    const { items, indexOf } = await titles;
    // The last slice was a task; what the page does with the whole catalog (drawing, ranking) starts in the next.
    await yieldToPage();
    const snapshot = withSynopsisPages(snapshotFromMessage(message, items, indexOf), base);
    if (preview && preview.indexOf === indexOf) {
      // Every title was what the core said: the preview is the snapshot, less what the ranker does not read.
      preview.items = items;
      preview.standsFor = snapshot;
    }
    return snapshot;
  } catch (e) {
    if (!isWorkerCrash(e) && !(e instanceof KeptRowsLost)) throw e;
    console.warn(`toonpick: loading the snapshot on the page: ${(e as Error).message}`);
    ended = true;
    const snapshot = await loadSnapshot(withKeptManifest(httpReader(base), base), { profile, onProgress: options.onProgress, cache: snapshotFileCache(), synopses: 'lazy' });
    return withSynopsisPages(snapshot, base);
  } finally {
    ended = true;
    handle.stop();
  }
}

/** Titles `start` to `end` (exclusive), checked: parsed here, or from the worker. */
type SliceOf = (start: number, end: number) => Promise<Title[]>;

/**
 * The titles a slice at a time (one task each), `ahead` slices asked for at once (the worker checks the next ones
 * while the page takes this one in, instead of waiting for each request to cross back).
 */
async function takeTitles(next: SliceOf, count: number, itemSlice: number, ahead: number, preview?: Preview): Promise<{ items: Title[]; indexOf: Map<string, number> }> {
  const items: Title[] = [];
  // A preview's titles are replaced by the real ones as they come, while they are what its core said (then its
  // index by id is theirs too): the page never holds both whole.
  let same = !!preview;
  let indexOf = preview?.indexOf ?? new Map<string, number>();
  const asked: Promise<Title[]>[] = [];
  let from = 0;
  const ask = () => {
    for (; asked.length < Math.max(1, ahead) && from < count; from += itemSlice) asked.push(next(from, Math.min(count, from + itemSlice)));
  };
  for (ask(); asked.length; ask()) {
    const slice = await asked.shift()!;
    for (const t of slice) {
      const i = items.push(t) - 1;
      if (same && coreHolds(preview!.items[i], t)) {
        // The core's id (the index's key) and genre list, equal to the title's: the page keeps one copy of each id,
        // and titles with the same genres share one list (~10 MB less at 100k titles).
        t.id = preview!.items[i].id;
        t.genres = preview!.items[i].genres;
        preview!.items[i] = t;
        continue;
      }
      if (same) {
        // Not what the core said (a ranking made from it will not stand): the titles get an index of their own.
        same = false;
        indexOf = indexItems(items.slice(0, i));
      }
      indexOf.set(t.id, i);
    }
  }
  return { items, indexOf };
}

type Preview = CatalogPreview & { items: RankedTitle[] };
type PreviewTitles = Pick<Preview, 'items' | 'indexOf'>;

/**
 * A title object per row with the ranker's fields of the core (genre lists shared), in steps; undefined where the
 * core repeats an id (the titles' check names it).
 */
async function previewTitlesOf(core: RankingCore, pause: () => Promise<void>): Promise<PreviewTitles | undefined> {
  const n = core.idEnds.length;
  const items = new Array<RankedTitle>(n);
  const indexOf = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    if ((i & 4095) === 0) await pause();
    const id = coreId(core, i);
    items[i] = { id, genres: core.genreSets[core.genreOf[i]], popularity: core.popularity[i] };
    indexOf.set(id, i);
  }
  return indexOf.size === n ? { items, indexOf } : undefined;
}

/** The preview of a snapshot whose rows are in (CatalogPreview), of its titles as the core says. */
function previewOf(message: SnapshotMessage, titles: PreviewTitles, titlesAt: (rows: number[]) => Promise<Title[]>): Preview | undefined {
  if (titles.items.length !== message.manifest.itemCount) return undefined;
  const { manifest, spaces, community, calibration } = message;
  return { manifest, spaces, ...titles, ...(community ? { community } : {}), ...(calibration ? { calibration } : {}), titlesAt };
}

/** Rows left on disk that could not be read back as the worker checked them (the file went, or changed). */
class KeptRowsLost extends Error {}

/**
 * A space's rows arriving from the worker piece by piece (workers/protocol.ts RowsPieceSink), in order, each copied
 * into WebAssembly memory as it comes (a task each) and its buffer given back; `rows` settles once every byte is in.
 * The worker checked them (load.ts `onRowsPiece`): only rows it said passed are used.
 */
class RowsComing {
  readonly rows: Promise<CsrRows>;
  private readonly memory: ReturnType<typeof wasmRowsMemory>;
  private received = 0;
  private done?: (rows: CsrRows) => void;

  constructor(
    private readonly left: RowsOnDisk,
    pause: () => Promise<void>,
    shared: boolean,
  ) {
    this.memory = (shared && wasmRowsMemory(left.rows, left.nnz, left.dim, true)) || wasmRowsMemory(left.rows, left.nnz, left.dim);
    this.rows = this.memory?.image.byteLength === left.bytes ? new Promise((resolve) => (this.done = resolve)) : Promise.reject(new KeptRowsLost(`no memory for the rows of ${left.space}`));
    this.rows.catch(() => undefined); // awaited where the load needs them
    if (this.done) void this.touch(pause);
  }

  /** Whether these are the rows of that file. */
  of(r: RowsOnDisk): boolean {
    return r.sha256 === this.left.sha256 && r.bytes === this.left.bytes && r.nnz === this.left.nnz;
  }

  /** Whether no piece came yet. */
  get empty(): boolean {
    return this.received === 0;
  }

  /** The room, where it is shared memory the worker may write the rows into (the file's image: wasmRowsMemory). */
  get shared(): Uint8Array | undefined {
    const image = this.memory?.image;
    return this.done && isSharedBuffer(image?.buffer) ? image : undefined;
  }

  /**
   * What the worker says of these rows (workers/protocol.ts RowsPieceSink): their next piece (`take`), how far it
   * wrote them into the shared room (`written`), or, with neither, that they may come: answered with that room.
   */
  hear(r: RowsOnDisk, piece?: Uint8Array, at?: number): ArrayBuffer | Uint8Array | undefined {
    return piece ? this.take(r, piece, at!) : at !== undefined ? this.written(r, at) : this.shared;
  }

  /** The worker wrote these rows into the shared room up to byte `at` (they are used once all are there). */
  private written(r: RowsOnDisk, at: number): undefined {
    if (this.shared && this.of(r) && at === this.shared.byteLength) {
      this.received = at;
      this.done!(this.memory!.rows);
    }
    return undefined;
  }

  /** The next piece of these rows (another file's, or one out of order, is not taken). */
  private take(r: RowsOnDisk, piece: Uint8Array, at: number): ArrayBuffer | undefined {
    const image = this.memory?.image;
    if (!this.done || !image || !this.of(r) || at !== this.received || at + piece.byteLength > image.byteLength) return undefined;
    image.set(piece, at);
    this.received += piece.byteLength;
    if (this.received === image.byteLength) this.done(this.memory!.rows);
    const buffer = piece.buffer as ArrayBuffer;
    return Comlink.transfer(buffer, [buffer]);
  }

  /**
   * Writes the memory's pages ahead of the pieces (a zero where none came yet, once per 4 KB), in steps while the
   * page waits for them: the first write to a page is what costs (at 100k titles 60 MB: ~0.15–0.25 s on a slow
   * machine), and a piece's copy into pages already written is ~50× faster.
   */
  private async touch(pause: () => Promise<void>): Promise<void> {
    const image = this.memory!.image;
    if (this.shared) return this.touchShared(pause, new Int32Array(image.buffer, image.byteOffset, image.byteLength >> 2));
    // From the second page: the first holds the dim already (wasmRowsMemory).
    for (let at = 4096; at < image.byteLength; at += 4096) {
      // The time is looked at every 8 pages: a page's first write can take a millisecond or more while the worker's
      // thread also touches fresh memory (measured: 64 pages between looks made one task of 113 ms).
      if ((at & 0x7fff) === 0) await pause();
      if (this.received === image.byteLength) return;
      if (at >= this.received) image[at] = 0;
    }
  }

  /**
   * The same for shared room, from its end backwards while the worker writes from the start (each thread takes part
   * of the page faults): a word of each page ORed with 0, atomically, so that a byte the worker wrote stays as written.
   */
  private async touchShared(pause: () => Promise<void>, words: Int32Array): Promise<void> {
    for (let w = (words.length - 1) & ~1023, n = 0; w > 0; w -= 1024, n++) {
      if ((n & 7) === 0) await pause();
      if (this.received === this.memory!.image.byteLength) return;
      Atomics.or(words, w, 0);
    }
  }
}

/** The synopses stay in their pages until a title page or a search asks (load.ts synopsisPages; the same file cache). */
function withSynopsisPages(snapshot: Snapshot, base: URL): Snapshot {
  snapshot.synopses = synopsisPages(snapshot.manifest, snapshot.items, httpReader(base), snapshotFileCache());
  return snapshot;
}
