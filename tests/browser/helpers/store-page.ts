/**
 * Page side of tests/browser/store.test.ts: bundled (esbuild) together with the real src/store/db.ts,
 * src/store/storage.ts and src/core/history.ts into one ES module that a blank page on 127.0.0.1 imports as
 * `globalThis.__store`. Besides those modules it exports a few raw-IndexedDB helpers (no idb, nothing from
 * src/) so a test can build a database exactly as an older version of the code left it, and read back
 * what is really stored.
 */
export * from '../../../src/store/db.ts';
export * from '../../../src/store/storage.ts';
export { applyAction, exportHistory, parseHistoryFile, mergeHistory, lastTouched } from '../../../src/core/history.ts';

export interface RawStore {
  name: string;
  keyPath?: string | string[] | null;
  autoIncrement?: boolean;
  /** `key` only for stores with out-of-line keys. */
  records?: Array<{ key?: IDBValidKey; value: unknown }>;
}

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

/** Creates database `name` at `version` with these stores and records, by hand, then closes it. */
export function rawCreate(name: string, version: number, stores: RawStore[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(name, version);
    open.onupgradeneeded = () => {
      const db = open.result;
      for (const s of stores) {
        const store = db.createObjectStore(s.name, { keyPath: s.keyPath ?? null, autoIncrement: s.autoIncrement ?? false });
        for (const r of s.records ?? []) if (r.key === undefined) store.put(r.value);
        else store.put(r.value, r.key);
      }
    };
    open.onsuccess = () => {
      open.result.close();
      resolve();
    };
    open.onerror = () => reject(open.error);
    open.onblocked = () => reject(new Error(`rawCreate(${name}, ${version}) was blocked by an open connection`));
  });
}

/**
 * Opens `name` at `version` by hand and keeps the connection open (as a tab running older code would),
 * closing it on `versionchange` exactly as that code did. Answers a handle to inspect and close it.
 */
export async function rawHold(name: string, version: number, stores: RawStore[], closeOnVersionChange = true): Promise<{ db: IDBDatabase; closedByVersionChange: () => boolean }> {
  let closed = false;
  const db = await new Promise<IDBDatabase>((resolve, reject) => {
    const open = indexedDB.open(name, version);
    open.onupgradeneeded = () => {
      for (const s of stores) {
        const store = open.result.createObjectStore(s.name, { keyPath: s.keyPath ?? null, autoIncrement: s.autoIncrement ?? false });
        for (const r of s.records ?? []) if (r.key === undefined) store.put(r.value);
        else store.put(r.value, r.key);
      }
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
  if (closeOnVersionChange)
    db.addEventListener('versionchange', () => {
      closed = true;
      db.close();
    });
  return { db, closedByVersionChange: () => closed };
}

export interface RawDump {
  version: number;
  stores: Record<string, { keyPath: string | string[] | null; autoIncrement: boolean; records: Array<{ key: unknown; value: unknown }> }>;
}

/** What database `name` holds, read without idb or ReaderStore; null when it does not exist (it is not created). */
export async function rawDump(name: string): Promise<RawDump | null> {
  const known = await indexedDB.databases();
  if (!known.some((d) => d.name === name)) return null;
  const db = await req(indexedDB.open(name));
  try {
    const out: RawDump = { version: db.version, stores: {} };
    const names = [...db.objectStoreNames];
    if (!names.length) return out;
    const tx = db.transaction(names, 'readonly');
    for (const n of names) {
      const store = tx.objectStore(n);
      const [keys, values] = await Promise.all([req(store.getAllKeys()), req(store.getAll())]);
      out.stores[n] = {
        keyPath: store.keyPath as string | string[] | null,
        autoIncrement: store.autoIncrement,
        records: keys.map((key, i) => ({ key: plain(key), value: plain(values[i]) })),
      };
    }
    return out;
  } finally {
    db.close();
  }
}

/**
 * A JSON-safe, exact description of a structured-cloneable value, so Node can compare what went in with
 * what came out: typed arrays keep their type and their buffer's size, Dates, Maps, Sets, NaN, ±Infinity,
 * -0 and undefined are tagged.
 */
export function plain(v: unknown): unknown {
  if (v === undefined) return { $undefined: true };
  if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0) ? v : { $number: Object.is(v, -0) ? '-0' : String(v) };
  if (typeof v === 'bigint') return { $bigint: String(v) };
  if (v === null || typeof v !== 'object') return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) {
    const a = v as unknown as ArrayLike<number> & { buffer: ArrayBuffer; constructor: { name: string } };
    return { $typed: a.constructor.name, values: Array.from(a, (x) => plain(x)), bufferBytes: a.buffer.byteLength };
  }
  if (v instanceof ArrayBuffer) return { $arrayBuffer: Array.from(new Uint8Array(v)) };
  if (v instanceof Date) return { $date: v.getTime() };
  if (v instanceof Map) return { $map: [...v].map(([k, x]) => [plain(k), plain(x)]) };
  if (v instanceof Set) return { $set: [...v].map(plain) };
  if (v instanceof RegExp) return { $regexp: String(v) };
  if (Array.isArray(v)) return v.map(plain);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
}

/** Awaits `p` and describes how it settled, so a test can assert on a rejection's type and message. */
export async function settle<T>(p: Promise<T> | (() => Promise<T>)): Promise<{ ok: true; value: unknown } | { ok: false; isError: boolean; name: string; message: string; cause?: string }> {
  try {
    return { ok: true, value: plain(await (typeof p === 'function' ? p() : p)) };
  } catch (e) {
    const cause = (e as { cause?: { name?: string } })?.cause;
    return { ok: false, isError: e instanceof Error, name: (e as Error)?.name, message: (e as Error)?.message ?? String(e), ...(cause ? { cause: cause.name ?? String(cause) } : {}) };
  }
}
