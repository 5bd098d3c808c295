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
import type { Title } from '../core/snapshot/format.ts';
import { halfFloatTable, type CsrRows } from '../core/snapshot/encoding.ts';
import { snapshotFromMessage } from '../core/snapshot/transfer.ts';
import { titlesOfText, type TitlesText } from '../core/snapshot/titles.ts';
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
    // Sparse rows in the message go into WebAssembly memory before the titles come, a chunk per task: the
    // transferred rows can then go before the titles fill the page's memory (measured: moving them after the
    // titles, or between the slices, raised the renderer's peak by another 20–30 MiB).
    const move = spacesIntoWasm(message.spaces, options.rowChunkBytes);
    const pause = pauseAfter(options.stepBudgetMs);
    while (!move.next().done) await pause();
    // Rows left on disk are read while the titles come (no buffer of them is held twice meanwhile): the worker
    // parses each slice of titles when it is asked for (titles.ts), and need not wait for the rows.
    const titles = takeTitles(handle, message.manifest.itemCount, options.itemSlice, options.slicesAhead, limits);
    titles.catch(() => undefined); // awaited below, unless the rows fail first
    for (const r of message.rowsOnDisk ?? []) message.spaces.set(r.space, { ...message.spaces.get(r.space)!, csr: await (fromDisk.get(r.space) ?? rowsFromDisk(r, options.rowChunkBytes, options.stepBudgetMs)) });
    delete message.rowsOnDisk;
    const { items, indexOf } = await titles;
    // The last slice's message was a task; what the page does with the whole catalog (drawing, ranking) starts in the next.
    await yieldToPage();
    return withSynopsisPages(snapshotFromMessage(message, items, indexOf), base);
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
async function takeTitles(handle: WorkerHandle<SnapshotWorkerApi>, count: number, itemSlice: number, ahead: number, limits: CallLimits): Promise<{ items: Title[]; indexOf: Map<string, number> }> {
  const items: Title[] = [];
  const indexOf = new Map<string, number>();
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
    for (const t of Array.isArray(slice) ? slice : titlesOfText(slice)) indexOf.set(t.id, items.push(t) - 1);
  }
  return { items, indexOf };
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
