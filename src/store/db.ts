/**
 * The reader's data in IndexedDB: the only module that touches it (through idb).
 * One database, a versioned schema with migrations listed below. Every write is one transaction, so a
 * failure (quota, a bad import) rolls back and leaves what the reader had.
 */
import { openDB, type DBSchema, type IDBPDatabase, type IDBPTransaction, type StoreNames } from 'idb';
import { applyAction, mergeHistory, storedHistory, type Action, type History, type HistoryEntry, type HistoryFile } from '../core/history.ts';

interface ReaderSchema extends DBSchema {
  history: { key: string; value: HistoryEntry };
  meta: { key: string; value: unknown };
  vectors: { key: [string, string, string]; value: CachedVector };
}

/** A synopsis vector computed on this device, kept so the catalog is embedded once per model. */
export interface CachedVector {
  model: string;
  revision: string;
  /** textHash() of the embedded text: a changed synopsis gets a new vector. */
  hash: string;
  vector: Float32Array;
}

export const SCHEMA_VERSION = 2;

type UpgradeTx = IDBPTransaction<ReaderSchema, StoreNames<ReaderSchema>[], 'versionchange'>;

/** Migration n upgrades a database at version n-1 to version n. Never drop the reader's stores. */
const migrations: Array<(db: IDBPDatabase<ReaderSchema>, tx: UpgradeTx) => void> = [
  () => {},
  (db) => {
    db.createObjectStore('history', { keyPath: 'id' });
    db.createObjectStore('meta');
  },
  (db) => {
    db.createObjectStore('vectors', { keyPath: ['model', 'revision', 'hash'] });
  },
];

/** What the reader was doing when a store operation failed: the UI says it in their language (strings `storeError`). */
export type StoreDoing = 'open' | 'save' | 'import' | 'clear' | 'setting' | 'vectors';
/** Why: the browser's storage is full, a newer Toonpick's data is here, or anything else (the cause has the detail). */
export type StoreReason = 'quota' | 'newer' | 'failed';

const DOING_EN: Record<StoreDoing, string> = {
  open: 'open your saved reading history',
  save: 'save that',
  import: 'import that history',
  clear: 'clear the history',
  setting: 'save a setting',
  vectors: 'cache the text vectors',
};

/** A failed store operation; `reason` and `doing` let the UI word it, `message` is the English fallback (logs, tests). */
export class StoreError extends Error {
  constructor(
    readonly reason: StoreReason,
    readonly doing: StoreDoing,
    options?: { cause?: unknown },
  ) {
    const cause = options?.cause as Error | undefined;
    super(
      reason === 'quota'
        ? `Storage is full: could not ${DOING_EN[doing]}. Nothing was changed; free some space and try again.`
        : reason === 'newer'
          ? 'This browser holds Toonpick data from a newer version; it was left untouched. Reload to use the newer version.'
          : `Could not ${DOING_EN[doing]} (${cause?.message ?? String(cause)}). Nothing was changed.`,
      options,
    );
    this.name = 'StoreError';
  }
}

function explain(e: unknown, doing: StoreDoing): StoreError {
  const name = (e as DOMException)?.name;
  return new StoreError(name === 'QuotaExceededError' ? 'quota' : name === 'VersionError' ? 'newer' : 'failed', doing, { cause: e });
}

/**
 * Rolls back a write transaction that failed part-way. A request that throws when it is made (a value that
 * cannot be cloned, an invalid key) does not abort the transaction: without this, the writes queued before it
 * would still commit. Also observes `done`, whose rejection is the error already being reported.
 */
function rollBack(tx: { abort(): void; done: Promise<void> } | undefined): void {
  if (!tx) return;
  tx.done.catch(() => {});
  try {
    tx.abort();
  } catch {
    // Already aborted (a failed request aborts it) or finished.
  }
}

export class ReaderStore {
  /** Tells this database's other tabs that the history changed (absent where BroadcastChannel is). */
  private readonly channel: BroadcastChannel | null;

  private constructor(
    private db: IDBPDatabase<ReaderSchema>,
    name: string,
  ) {
    this.channel = typeof BroadcastChannel === 'undefined' ? null : new BroadcastChannel(`toonpick-history:${name}`);
  }

  /**
   * Calls `changed` when another tab of this origin changed the history in this database (a like, an import, a
   * clear), so that every tab shows, ranks and exports the same history. Returns the unsubscribe.
   */
  onHistoryChange(changed: () => void): () => void {
    const channel = this.channel;
    if (!channel) return () => {};
    const listener = () => changed();
    channel.addEventListener('message', listener);
    return () => channel.removeEventListener('message', listener);
  }

  private announce(): void {
    try {
      this.channel?.postMessage('history');
    } catch {
      // A closed channel: other tabs still catch up when they next read.
    }
  }

  /**
   * Opens (and if needed migrates) the reader's database. A failure is reported, never "fixed" by
   * deleting or recreating the database: that would destroy the reader's history.
   */
  static async open(name: string): Promise<ReaderStore> {
    try {
      const db = await openDB<ReaderSchema>(name, SCHEMA_VERSION, {
        upgrade(db, oldVersion, newVersion, tx) {
          for (let v = oldVersion + 1; v <= (newVersion ?? SCHEMA_VERSION); v++) migrations[v](db, tx);
        },
        blocked() {
          // Another tab holds an older version open; it will close on versionchange below.
        },
      });
      // Let a newer tab upgrade instead of being blocked by us.
      db.addEventListener('versionchange', () => db.close());
      return new ReaderStore(db, name);
    } catch (e) {
      throw explain(e, 'open');
    }
  }

  /** The history, in key order; entries that fail the history schema are left out and counted (never deleted). */
  async readHistory(): Promise<{ entries: History; damaged: number }> {
    return storedHistory(await this.db.getAll('history'));
  }

  async history(): Promise<HistoryEntry[]> {
    return (await this.readHistory()).entries;
  }

  async entry(id: string): Promise<HistoryEntry | undefined> {
    return storedHistory([await this.db.get('history', id)].filter((e) => e !== undefined)).entries[0];
  }

  /** Records one action on a title; returns the entry as stored (null when the title was forgotten). */
  async act(id: string, action: Action, now = Date.now()): Promise<HistoryEntry | null> {
    let tx: IDBPTransaction<ReaderSchema, ['history'], 'readwrite'> | undefined;
    try {
      tx = this.db.transaction('history', 'readwrite');
      // A damaged entry is replaced by what the reader does now, as if the title were new.
      const stored = await tx.store.get(id);
      const next = applyAction(stored && storedHistory([stored]).entries[0], id, action, now);
      if (next) await tx.store.put(next);
      else await tx.store.delete(id);
      await tx.done;
      this.announce();
      return next;
    } catch (e) {
      rollBack(tx);
      throw explain(e, 'save');
    }
  }

  /** Merges a validated history file in one transaction: all of it lands, or none of it. */
  async importHistory(file: HistoryFile): Promise<{ total: number }> {
    let tx: IDBPTransaction<ReaderSchema, ['history'], 'readwrite'> | undefined;
    try {
      tx = this.db.transaction('history', 'readwrite');
      const merged = mergeHistory(storedHistory(await tx.store.getAll()).entries, file.entries);
      for (const e of merged) await tx.store.put(e);
      await tx.done;
      this.announce();
      return { total: merged.length };
    } catch (e) {
      rollBack(tx);
      throw explain(e, 'import');
    }
  }

  /**
   * Removes these titles' entries (all entries when `ids` is omitted) in one transaction and gives back exactly
   * what was stored, damaged entries included, so that `restore` can undo it.
   */
  async removeHistory(ids?: readonly string[]): Promise<unknown[]> {
    let tx: IDBPTransaction<ReaderSchema, ['history'], 'readwrite'> | undefined;
    try {
      tx = this.db.transaction('history', 'readwrite');
      const store = tx.store;
      let removed: unknown[];
      if (ids) {
        removed = (await Promise.all(ids.map((id) => store.get(id)))).filter((e) => e !== undefined);
        for (const id of ids) await store.delete(id);
      } else {
        removed = await store.getAll();
        await store.clear();
      }
      await tx.done;
      this.announce();
      return removed;
    } catch (e) {
      rollBack(tx);
      throw explain(e, 'clear');
    }
  }

  async clearHistory(): Promise<void> {
    await this.removeHistory();
  }

  /** Puts back what `removeHistory` gave, except where the title has an entry again since (that one is newer). */
  async restoreHistory(entries: readonly unknown[]): Promise<void> {
    let tx: IDBPTransaction<ReaderSchema, ['history'], 'readwrite'> | undefined;
    try {
      tx = this.db.transaction('history', 'readwrite');
      for (const e of entries) {
        const id = (e as { id?: unknown }).id;
        if (typeof id === 'string' && (await tx.store.getKey(id)) === undefined) await tx.store.put(e as HistoryEntry);
      }
      await tx.done;
      this.announce();
    } catch (e) {
      rollBack(tx);
      throw explain(e, 'save');
    }
  }

  async getMeta<T>(key: string): Promise<T | undefined> {
    return (await this.db.get('meta', key)) as T | undefined;
  }

  async setMeta(key: string, value: unknown): Promise<void> {
    try {
      await this.db.put('meta', value, key);
    } catch (e) {
      throw explain(e, 'setting');
    }
  }

  /** Cached vectors of `model`@`revision` for these text hashes (missing ones are simply absent). */
  async getVectors(model: string, revision: string, hashes: readonly string[]): Promise<Map<string, Float32Array>> {
    const tx = this.db.transaction('vectors');
    const found = await Promise.all(hashes.map((h) => tx.store.get([model, revision, h])));
    await tx.done;
    const out = new Map<string, Float32Array>();
    for (const v of found) if (v) out.set(v.hash, v.vector);
    return out;
  }

  /** Caches vectors in one transaction. A cache: callers may ignore a failure (e.g. storage full). */
  async putVectors(model: string, revision: string, rows: ReadonlyArray<{ hash: string; vector: Float32Array }>): Promise<void> {
    let tx: IDBPTransaction<ReaderSchema, ['vectors'], 'readwrite'> | undefined;
    try {
      tx = this.db.transaction('vectors', 'readwrite');
      const store = tx.store;
      // slice(): a view would be stored with its whole underlying buffer (structured clone copies it all).
      const puts = rows.map((r) => {
        const put = store.put({ model, revision, hash: r.hash, vector: r.vector.slice() });
        put.catch(() => {}); // if a later row throws, Promise.all below is never reached: rollBack reports it
        return put;
      });
      await Promise.all([...puts, tx.done]);
    } catch (e) {
      rollBack(tx);
      throw explain(e, 'vectors');
    }
  }

  close(): void {
    this.db.close();
  }
}
