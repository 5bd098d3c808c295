/**
 * The snapshot loader in a Web Worker (comlink): downloads (or takes from the file cache) every file the page
 * needs, checks sizes and SHA-256, parses and validates the items and decodes the spaces here, and transfers the
 * result to the page without a copy, so none of that work lands on the page's thread; the titles follow in slices
 * (transfer.ts says why), each parsed and checked as the page asks for it (titles.ts TitleSlices), so that the page
 * takes one in while the next is parsed. Large sparse rows are checked and left in the file cache, for the page to
 * read into WebAssembly memory (load.ts `rowsOnDisk`), so they are never held twice. A thin adapter over
 * src/core/snapshot/load.ts; created by src/app/snapshot-client.ts, one load per worker. The synopsis pages are
 * left to the page (load.ts synopsisPages), which reads them as it needs them.
 */
import * as Comlink from 'comlink';
import { snapshotFileCache, withKeptManifest } from '../src/core/snapshot/file-cache.ts';
import type { Title } from '../src/core/snapshot/format.ts';
import type { TitleSlices } from '../src/core/snapshot/titles.ts';
import { httpReader, loadSnapshot, type LoadProgress } from '../src/core/snapshot/load.ts';
import { snapshotMessage } from '../src/core/snapshot/transfer.ts';
import type { RowsOnDisk } from '../src/core/snapshot/snapshot.ts';
import type { SnapshotLoadRequest, SnapshotWorkerApi } from './protocol.ts';

let items: Array<Title | undefined> = [];
let titles: TitleSlices | undefined;

const api: SnapshotWorkerApi = {
  async load(request: SnapshotLoadRequest, onProgress?: (p: LoadProgress) => void, onRowsOnDisk?: (rows: RowsOnDisk) => void) {
    const base = new URL(request.base);
    const snapshot = await loadSnapshot(withKeptManifest(httpReader(base), base), { profile: request.profile, cache: snapshotFileCache(), onProgress, synopses: 'lazy', wasmRows: false, rowsOnDisk: request.rowsOnDisk, onRowsOnDisk, titlesBySlice: true });
    items = snapshot.items;
    titles = snapshot.titles;
    const { message, transfer } = snapshotMessage(snapshot);
    return Comlink.transfer(message, transfer);
  },
  items(start: number, end: number) {
    if (titles) {
      const text = titles.sliceText(start, end);
      return Comlink.transfer(text, [text.json.buffer]);
    }
    // Each title goes to the page once: letting go of the sent ones keeps the worker's copy and the page's from
    // both being whole at the same time (100k titles: ~50 MiB each).
    const slice = items.slice(start, end);
    if (slice.length !== end - start || slice.some((t) => t === undefined)) throw new Error(`titles ${start}–${end - 1} were not loaded, or were sent already`);
    items.fill(undefined, start, end);
    return slice as Title[];
  },
  core() {
    const core = titles?.core();
    return core && Comlink.transfer(core, [core.popularity.buffer, core.genreOf.buffer]);
  },
  titlesAt(rows: number[]) {
    if (!titles) throw new Error('the titles were not cut into slices');
    return titles.titlesAt(rows);
  },
};

Comlink.expose(api);
