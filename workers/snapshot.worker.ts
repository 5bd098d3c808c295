/**
 * The snapshot loader in a Web Worker (comlink): downloads (or takes from the file cache) every file the page
 * needs, checks sizes and SHA-256, parses and validates the items and decodes the spaces here, and transfers the
 * result to the page without a copy, so none of that work lands on the page's thread. A thin adapter over
 * src/core/snapshot/load.ts; created by src/app/snapshot-client.ts, one load per worker.
 */
import * as Comlink from 'comlink';
import { snapshotFileCache, withKeptManifest } from '../src/core/snapshot/file-cache.ts';
import { httpReader, loadSnapshot, type LoadProgress } from '../src/core/snapshot/load.ts';
import { snapshotMessage } from '../src/core/snapshot/transfer.ts';
import type { SnapshotLoadRequest, SnapshotWorkerApi } from './protocol.ts';

const api: SnapshotWorkerApi = {
  async load(request: SnapshotLoadRequest, onProgress?: (p: LoadProgress) => void) {
    const base = new URL(request.base);
    const snapshot = await loadSnapshot(withKeptManifest(httpReader(base), base), { profile: request.profile, cache: snapshotFileCache(), onProgress });
    const { message, transfer } = snapshotMessage(snapshot);
    return Comlink.transfer(message, transfer);
  },
};

Comlink.expose(api);
