/**
 * Loads the snapshot in the snapshot worker (workers/snapshot.worker.ts), on the shared worker protocol: the
 * downloads, SHA-256 checks, JSON parsing, validation and decoding all run off the page's thread, and the decoded
 * snapshot is transferred back without a copy, its titles in slices. The worker lives for one load. Where a worker cannot run (it fails
 * to start or crashes), the same loader runs on the page, so the app still opens; a broken snapshot is refused
 * with the loader's own message either way.
 */
import type { LoadProgress, SnapshotProfile } from '../core/snapshot/load.ts';
import { httpReader, loadSnapshot, synopsisPages } from '../core/snapshot/load.ts';
import { sparseKernelAvailable, spacesIntoWasm, wasmRowsMemory } from '../core/math/sparse-scan.ts';
import { keptFile, readKeptFile, snapshotFileCache, withKeptManifest } from '../core/snapshot/file-cache.ts';
import type { RowsOnDisk, Snapshot } from '../core/snapshot/snapshot.ts';
import { indexItems, type Manifest, type Title } from '../core/snapshot/format.ts';
import { halfFloatTable, type CsrRows } from '../core/snapshot/encoding.ts';
import { snapshotFromMessage, type SnapshotMessage } from '../core/snapshot/transfer.ts';
import { coreHolds, titlesOfText, type RankingCore, type TitlesText } from '../core/snapshot/titles.ts';
import type { Catalog as RankedCatalog, RankedTitle } from '../core/rank/signals.ts';
import type { SnapshotWorkerApi } from '../../workers/protocol.ts';
import { isWorkerCrash, WorkerHandle, type CallLimits } from './worker-rpc.ts';
import { pauseAfter, yieldToPage } from './yield.ts';

export interface SnapshotLoad {
  profile?: SnapshotProfile;
  onProgress?: (p: LoadProgress) => void;
  /** Give the load up when no byte arrives and nothing finishes for this long (config.workers.snapshot). */
  stallMs: number;
  /** Titles per message from the worker, and how many such messages are asked for at once (config.workers.snapshot). */
  itemSlice: number;
  slicesAhead: number;
  /** Bytes of sparse rows moved into WebAssembly memory per step (config.workers.snapshot.rowChunkBytes). */
  rowChunkBytes: number;
  /** The page's thread is given back between those steps once this many ms have passed (config.stepBudgetMs). */
  stepBudgetMs: number;
  /**
   * Given, a large catalog is ranked before its titles come: once the rows are in, the ranker's part of every title
   * is read from items.json's bytes (titles.ts RankingCore) and handed over as a CatalogPreview, and the titles are
   * taken in only once the promise this returns settles (the page has drawn its first cards by then).
   */
  onPreview?: (preview: CatalogPreview) => Promise<void>;
}

/**
 * A catalog the ranker can rank before the page has its titles (SnapshotLoad.onPreview): the snapshot's spaces and
 * models, and of each title only what the ranker reads. `titlesAt` asks the snapshot worker for the titles a page
 * shows, checked, while the load runs.
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
    spawn: () => new Worker(new URL('../../workers/snapshot.worker.ts', import.meta.url), { type: 'module' }),
  });
  try {
    const limits = { what: 'loading the snapshot', stallMs: options.stallMs };
    // Rows the worker leaves in the file cache are read from disk straight into WebAssembly memory, a slice at a
    // time, so that they are never held twice (60 MB at 100k titles); the worker says so as soon as it has checked
    // them, and the page reads them while the worker parses the titles.
    const fromDisk = new Map<string, Promise<CsrRows>>();
    const onRowsOnDisk = (r: RowsOnDisk) => {
      const reading = rowsFromDisk(r, options.rowChunkBytes, options.stepBudgetMs);
      reading.catch(() => undefined); // awaited below, unless the load fails first
      fromDisk.set(r.space, reading);
    };
    const rowsOnDisk = sparseKernelAvailable();
    const message = await handle.call((remote, progress) => remote.load({ base: base.href, profile, rowsOnDisk }, progress(options.onProgress), progress(onRowsOnDisk)), limits);
    // The spaces' rows left on disk, into the message's spaces (once: a second call finds none left).
    const rowsIn = async () => {
      for (const r of message.rowsOnDisk ?? []) message.spaces.set(r.space, { ...message.spaces.get(r.space)!, csr: await (fromDisk.get(r.space) ?? rowsFromDisk(r, options.rowChunkBytes, options.stepBudgetMs)) });
      delete message.rowsOnDisk;
    };
    // The ranker's part of every title (a first ranking before the titles): read in the worker while the rows go in.
    const core = options.onPreview && !message.sequence && message.rowsOnDisk?.length ? handle.call((remote) => remote.core(), limits) : undefined;
    core?.catch(() => undefined); // awaited below, unless the rows fail first
    // Sparse rows in the message go into WebAssembly memory before the titles come, a chunk per task: the
    // transferred rows can then go before the titles fill the page's memory (measured: moving them after the
    // titles, or between the slices, raised the renderer's peak by another 20–30 MiB).
    const move = spacesIntoWasm(message.spaces, options.rowChunkBytes);
    const pause = pauseAfter(options.stepBudgetMs);
    while (!move.next().done) await pause();
    let preview: Preview | undefined;
    if (core && options.onPreview) {
      // The rows first, then the ranking and its cards: the titles wait (the page's thread is what both need).
      await rowsIn();
      const c = await core;
      preview = c && (await previewOf(message, c, (rows) => handle.call((remote) => remote.titlesAt(rows), limits), pause));
      if (preview) await options.onPreview(preview).catch(() => undefined);
    }
    // Rows left on disk are read while the titles come (no buffer of them is held twice meanwhile): the worker
    // parses each slice of titles when it is asked for (titles.ts), and need not wait for the rows.
    const titles = takeTitles(handle, message.manifest.itemCount, options.itemSlice, options.slicesAhead, limits, preview);
    titles.catch(() => undefined); // awaited below, unless the rows fail first
    await rowsIn();
    const { items, indexOf } = await titles;
    // The last slice's message was a task; what the page does with the whole catalog (drawing, ranking) starts in the next.
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
    const snapshot = await loadSnapshot(withKeptManifest(httpReader(base), base), { profile, onProgress: options.onProgress, cache: snapshotFileCache(), synopses: 'lazy' });
    return withSynopsisPages(snapshot, base);
  } finally {
    handle.stop();
  }
}

/**
 * The titles from the worker, a slice at a time (one message, one task each), `ahead` slices asked for at once: the
 * worker parses and checks the next ones (titles.ts TitleSlices) while the page takes this one in, instead of
 * waiting for each request to cross back. A slice comes as its checked JSON (titles.ts TitlesText), parsed here.
 */
async function takeTitles(handle: WorkerHandle<SnapshotWorkerApi>, count: number, itemSlice: number, ahead: number, limits: CallLimits, preview?: Preview): Promise<{ items: Title[]; indexOf: Map<string, number> }> {
  const items: Title[] = [];
  // A preview's titles are replaced by the real ones as they come, while they are what its core said (then its
  // index by id is theirs too): the page never holds both whole.
  let same = !!preview;
  let indexOf = preview?.indexOf ?? new Map<string, number>();
  const asked: Promise<Title[] | TitlesText>[] = [];
  let from = 0;
  const ask = () => {
    for (; asked.length < Math.max(1, ahead) && from < count; from += itemSlice) {
      const start = from;
      asked.push(handle.call<Title[] | TitlesText>((remote) => remote.items(start, Math.min(count, start + itemSlice)), limits));
    }
  };
  for (ask(); asked.length; ask()) {
    const slice = await asked.shift()!;
    for (const t of Array.isArray(slice) ? slice : titlesOfText(slice)) {
      const i = items.push(t) - 1;
      if (same && coreHolds(preview!.core, i, t)) {
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

type Preview = CatalogPreview & { core: RankingCore; items: RankedTitle[] };

/**
 * The preview of a snapshot whose rows are in (CatalogPreview): a title object per row with the ranker's fields of
 * the core (genre lists shared), in steps; undefined where the core repeats an id (the titles' check names it).
 */
async function previewOf(message: SnapshotMessage, core: RankingCore, titlesAt: (rows: number[]) => Promise<Title[]>, pause: () => Promise<void>): Promise<Preview | undefined> {
  const n = core.ids.length;
  if (n !== message.manifest.itemCount) return undefined;
  const items = new Array<RankedTitle>(n);
  const indexOf = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    if ((i & 4095) === 0) await pause();
    items[i] = { id: core.ids[i], genres: core.genreSets[core.genreOf[i]], popularity: core.popularity[i] };
    indexOf.set(core.ids[i], i);
  }
  if (indexOf.size !== n) return undefined;
  const { manifest, spaces, community, calibration } = message;
  return { manifest, spaces, items, indexOf, ...(community ? { community } : {}), ...(calibration ? { calibration } : {}), titlesAt, core };
}

/** Rows left on disk that could not be read back as the worker checked them (the file went, or changed). */
class KeptRowsLost extends Error {}

/**
 * A space's rows from its kept file straight into WebAssembly memory. The worker checked the rows (load.ts
 * `rowsOnDisk`); the file's checksum, checked again here, says these are the same bytes.
 */
async function rowsFromDisk(left: RowsOnDisk, sliceBytes: number, budgetMs: number): Promise<CsrRows> {
  // The half-float table, then the memory (its garbage collection), each in a task of its own.
  halfFloatTable();
  await yieldToPage();
  const memory = wasmRowsMemory(left.rows, left.nnz, left.dim);
  const file = await keptFile(left.sha256, left.bytes);
  if (!memory || !file || memory.image.byteLength !== left.bytes || !(await readKeptFile(file, memory.image, sliceBytes, pauseAfter(budgetMs, true))))
    throw new KeptRowsLost(`the rows of ${left.space} left in the file cache could not be read back`);
  return memory.rows;
}

/** The synopses stay in their pages until a title page or a search asks (load.ts synopsisPages; the same file cache). */
function withSynopsisPages(snapshot: Snapshot, base: URL): Snapshot {
  snapshot.synopses = synopsisPages(snapshot.manifest, snapshot.items, httpReader(base), snapshotFileCache());
  return snapshot;
}
