/**
 * The snapshot loader in a Web Worker (comlink): downloads (or takes from the file cache) every file the page
 * needs, checks sizes and SHA-256, decodes the spaces and cuts items.json into its titles here, and transfers the
 * result to the page without a copy, so none of that work lands on the page's thread. The page parses and checks
 * the titles a slice per task (titles.ts TitleSlices) and stops this worker once the load is done: its heap, and the
 * downloads it still holds until that heap is next collected, go at once (at 100k titles 35–90 MiB). Large sparse
 * rows are checked and left in the file cache, and go to the page piece by piece, into its WebAssembly memory
 * (load.ts `rowsOnDisk`), so they are never held twice; the ranking core of the titles goes as soon as items.json is
 * in (titles.ts RankingCore). A thin adapter over src/core/snapshot/load.ts; created by src/app/snapshot-client.ts,
 * one load per worker. The synopsis pages are left to the page (load.ts synopsisPages), which reads them as it needs
 * them.
 */
import * as Comlink from 'comlink';
import { snapshotFileCache, withKeptManifest } from '../src/core/snapshot/file-cache.ts';
import type { Manifest, Title } from '../src/core/snapshot/format.ts';
import type { RankingCore, TitleSlices } from '../src/core/snapshot/titles.ts';
import { httpReader, keptRankingCore, loadSnapshot, SCAN_PIECE, type LoadProgress } from '../src/core/snapshot/load.ts';
import { snapshotMessage } from '../src/core/snapshot/transfer.ts';
import { isSharedBuffer } from '../src/core/math/sparse-scan.ts';
import type { RowsOnDisk } from '../src/core/snapshot/snapshot.ts';
import type { RowsPieceSink, SnapshotLoadRequest, SnapshotWorkerApi } from './protocol.ts';

/** Titles checked whole (items.json could not be cut), until the page has taken each. */
let items: Array<Title | undefined> = [];

/** Pieces of rows on their way to the page at once; the next waits for one to come back. */
const PIECES_OUT = 4;

/**
 * Sends rows to the page piece by piece, each copied into a buffer that is transferred and comes back once the page
 * has taken it in: a few buffers go round, instead of 60 MB of fresh memory whose first touch costs a page fault per
 * 4 KB on each side (at 100k titles ~0.15 s each, measured in Node on a slow machine). Where the page shares room
 * for them (its answer to the rows' announcement, or `shared`), each piece is written there instead, and the page
 * hears once they are all in; the announcement then answers true (load.ts `onRowsPiece`).
 */
function sendPieces(sink: RowsPieceSink, shared?: Uint8Array): (rows: RowsOnDisk, piece?: Uint8Array, at?: number) => Promise<void | boolean> {
  const free: ArrayBuffer[] = [];
  const out: Promise<void>[] = [];
  return async (rows, piece, at) => {
    if (!piece) {
      // The page may answer with shared room for the rows (a cross-origin isolated page): they are written there.
      const room = Promise.resolve(sink(rows)).then((r) => roomFor(rows, r), () => undefined);
      sharedRoom.set(rows.sha256, room);
      return (await room) !== undefined;
    }
    const room = roomFor(rows, shared) ?? (await sharedRoom.get(rows.sha256));
    if (room) {
      room.set(piece, at);
      if (at! + piece.byteLength === rows.bytes) await sink(rows, undefined, rows.bytes);
      return;
    }
    if (!free.length && out.length >= PIECES_OUT) await out.shift();
    const buffer = free.length && free[free.length - 1].byteLength >= piece.byteLength ? free.pop()! : new ArrayBuffer(piece.byteLength);
    const copy = new Uint8Array(buffer, 0, piece.byteLength);
    copy.set(piece);
    out.push(Promise.resolve(sink(rows, Comlink.transfer(copy, [buffer]), at)).then((b) => void (b instanceof ArrayBuffer && free.push(b)), () => undefined));
  };
}

/** Shared room the page gave for a file's rows (by SHA-256): the worker writes their pieces there itself. */
const sharedRoom = new Map<string, Promise<Uint8Array | undefined>>();

/** `room` where it is shared memory of the rows' size. */
const roomFor = (rows: RowsOnDisk, room: unknown) => (room instanceof Uint8Array && isSharedBuffer(room.buffer) && room.byteLength === rows.bytes ? room : undefined);

const api: SnapshotWorkerApi = {
  async load(request: SnapshotLoadRequest, onProgress?: (p: LoadProgress) => void, onRowsPiece?: RowsPieceSink, onRankingCore?: (core: RankingCore) => void) {
    const base = new URL(request.base);
    // The ranking core as soon as the titles are cut (a catalog with a sequence model ranks once its titles are in),
    // heard by the page before the load ends.
    const cache = snapshotFileCache();
    const onTitles = async (titles: TitleSlices, manifest: Manifest) => {
      const core = onRankingCore && !manifest.sequence ? await keptRankingCore(titles, manifest, cache) : undefined;
      if (core) await onRankingCore!(Comlink.transfer(core, [core.idEnds.buffer, core.popularity.buffer, core.genreOf.buffer]));
    };
    const snapshot = await loadSnapshot(withKeptManifest(httpReader(base), base), { profile: request.profile, cache, onProgress, synopses: 'lazy', wasmRows: false, rowsOnDisk: request.rowsOnDisk, ...(onRowsPiece ? { onRowsPiece: sendPieces(onRowsPiece) } : {}), onTitles, titlesBySlice: true });
    items = snapshot.items;
    const { message, transfer } = snapshotMessage(snapshot);
    return Comlink.transfer(message, transfer);
  },
  items(start: number, end: number) {
    // Each title goes to the page once: letting go of the sent ones keeps the worker's copy and the page's from
    // both being whole at the same time (100k titles: ~50 MiB each).
    const slice = items.slice(start, end);
    if (slice.length !== end - start || slice.some((t) => t === undefined)) throw new Error(`titles ${start}–${end - 1} were not loaded, or were sent already`);
    items.fill(undefined, start, end);
    return slice as Title[];
  },
  async keptRows(rows: RowsOnDisk, onRowsPiece: RowsPieceSink, shared?: Uint8Array) {
    const cache = snapshotFileCache();
    const send = sendPieces(onRowsPiece, shared);
    return !!cache?.scan && (await cache.scan({ sha256: rows.sha256, bytes: rows.bytes }, SCAN_PIECE, async (piece, at) => void (await send(rows, piece, at))));
  },
};

Comlink.expose(api);
