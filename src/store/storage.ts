/**
 * Browser storage management (StorageManager): persistence and usage. IndexedDB is best-effort until
 * persistence is granted, and some browsers evict unused sites; asking once the reader has something
 * worth keeping (their first like) is when browsers are most willing to grant it.
 */
export interface StorageStatus {
  persisted: boolean;
  usage?: number;
  quota?: number;
}

export async function storageStatus(): Promise<StorageStatus> {
  const sm = globalThis.navigator?.storage;
  if (!sm) return { persisted: false };
  const [persisted, estimate] = await Promise.all([sm.persisted?.() ?? false, sm.estimate?.() ?? Promise.resolve(undefined)]);
  return { persisted, usage: estimate?.usage, quota: estimate?.quota };
}

/** Asks for persistent storage once; answers whether storage is persistent now. */
export async function requestPersistence(): Promise<boolean> {
  const sm = globalThis.navigator?.storage;
  if (!sm?.persist) return false;
  if (await sm.persisted()) return true;
  try {
    return await sm.persist();
  } catch {
    return false;
  }
}
