/**
 * Loads the snapshot in the snapshot worker (workers/snapshot.worker.ts), on the shared worker protocol: the
 * downloads, SHA-256 checks, JSON parsing, validation and decoding all run off the page's thread, and the decoded
 * snapshot is transferred back without a copy. The worker lives for one load. Where a worker cannot run (it fails
 * to start or crashes), the same loader runs on the page, so the app still opens; a broken snapshot is refused
 * with the loader's own message either way.
 */
import type { LoadProgress, SnapshotProfile } from '../core/snapshot/load.ts';
import { httpReader, loadSnapshot } from '../core/snapshot/load.ts';
import { snapshotFileCache, withKeptManifest } from '../core/snapshot/file-cache.ts';
import type { Snapshot } from '../core/snapshot/snapshot.ts';
import { snapshotFromMessage } from '../core/snapshot/transfer.ts';
import type { SnapshotWorkerApi } from '../../workers/protocol.ts';
import { isWorkerCrash, WorkerHandle } from './worker-rpc.ts';

export interface SnapshotLoad {
  profile?: SnapshotProfile;
  onProgress?: (p: LoadProgress) => void;
  /** Give the load up when no byte arrives and nothing finishes for this long (config.workers.snapshot). */
  stallMs: number;
}

export async function loadSnapshotOffThread(base: URL, options: SnapshotLoad): Promise<Snapshot> {
  const profile = options.profile ?? 'app';
  const handle = new WorkerHandle<SnapshotWorkerApi>({
    name: 'snapshot',
    spawn: () => new Worker(new URL('../../workers/snapshot.worker.ts', import.meta.url), { type: 'module' }),
  });
  try {
    const message = await handle.call((remote, progress) => remote.load({ base: base.href, profile }, progress(options.onProgress)), {
      what: 'loading the snapshot',
      stallMs: options.stallMs,
    });
    return snapshotFromMessage(message);
  } catch (e) {
    if (!isWorkerCrash(e)) throw e;
    console.warn(`toonpick: loading the snapshot on the page: ${(e as Error).message}`);
    return loadSnapshot(withKeptManifest(httpReader(base), base), { profile, onProgress: options.onProgress, cache: snapshotFileCache() });
  } finally {
    handle.stop();
  }
}
