/**
 * The reader: their store (src/store, IndexedDB), their history mirrored from it, their actions, history
 * import/export, the Surprise level (`?serendipity=` or the saved one, clamped) and the browser's storage status.
 */
import type { ToonpickConfig } from '../../core/config.ts';
import { exportHistory, parseHistoryFile, type Action, type HistoryEntry } from '../../core/history.ts';
import { clampLevel } from '../../core/rank/calibrate.ts';
import { ReaderStore, StoreError } from '../../store/db.ts';
import { SentimentClient } from '../../app/sentiment-client.ts';
import { requestPersistence, storageStatus, type StorageStatus } from '../../store/storage.ts';
import { strings } from '../i18n.svelte.ts';
import type { Catalog } from './catalog.svelte.ts';
import { href } from './router.svelte.ts';
import { messageOf, technical, type Notify } from './notices.svelte.ts';

export class Reader {
  /** The store, once open (null before, or when it cannot open: then `error` says why). */
  store: ReaderStore | null = null;
  error = $state<string | null>(null);
  history = $state.raw<HistoryEntry[]>([]);
  /** Stored entries that could not be read (shown as a count on the History page; left in storage unchanged). */
  damaged = $state(0);
  byId = $derived(new Map(this.history.map((e) => [e.id, e])));
  /** The reader's serendipity setting, 0 = closest to taste … 1 = most surprising (kept in the store). */
  serendipity = $state(0);
  private readonly urlSerendipity: number | undefined;
  storage = $state.raw<StorageStatus | null>(null);
  /** What the last removal took out, while it can still be undone (null after `config.undoMs` or an undo). */
  undoable = $state.raw<{ entries: unknown[] } | null>(null);
  private undoTimer: ReturnType<typeof setTimeout> | undefined;
  private sentiment: SentimentClient | undefined;

  constructor(
    private readonly config: ToonpickConfig,
    private readonly catalog: Catalog,
    private readonly notify: Notify,
  ) {
    this.serendipity = config.ranker.serendipity.level;
    // ?serendipity=<0…1> opens For you at that Surprise level (a shared link; clamped, never NaN).
    const params = new URLSearchParams(location.search);
    this.urlSerendipity = params.has('serendipity') ? clampLevel(params.get('serendipity')) : undefined;
    if (this.urlSerendipity !== undefined) this.serendipity = this.urlSerendipity;
  }

  async open(): Promise<void> {
    try {
      this.store = await ReaderStore.open(this.config.databaseName);
      // Another tab liked or imported something: show, rank and export the same history as it does. Listening
      // before the first read, so that no change falls between the two; coming back to the tab reads again too.
      this.store.onHistoryChange(() => void this.reload());
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible') void this.reload();
      });
      await this.readStored();
      const saved = await this.store.getMeta<unknown>('serendipity');
      if (saved !== undefined && this.urlSerendipity === undefined) this.serendipity = clampLevel(saved);
    } catch (e) {
      this.error = messageOf(e);
    }
  }

  /**
   * A new snapshot needs no data migration: history is keyed by title id and kept even for titles a
   * catalog drops. The reader is told what changed.
   */
  async noteCatalogChange(): Promise<void> {
    const snapshot = this.catalog.snapshot;
    if (!this.store || !snapshot) return;
    const m = snapshot.manifest;
    try {
      const seen = await this.store.getMeta<{ contentHash: string; itemCount: number }>('snapshot');
      if (seen && seen.contentHash !== m.contentHash) {
        const missing = this.history.filter((e) => !snapshot.indexOf.has(e.id)).length;
        // The update's own list of changes, when it was made from the version this reader had (else only counts).
        const c = m.changes?.from === seen.contentHash ? m.changes : undefined;
        const text = strings.catalogUpdated(seen.itemCount, m.itemCount, missing) + (c ? ` ${strings.catalogChanges(c.added.length, c.changed.length, c.removed.length)}` : '');
        this.notify(text, 'ok', undefined, { href: href.catalog, label: strings.seeChanges });
      }
      await this.store.setMeta('snapshot', { contentHash: m.contentHash, itemCount: m.itemCount, name: m.name });
    } catch (e) {
      // Bookkeeping only (a full disk, a quota): the next start says "catalog updated" again, nothing is lost.
      console.warn(`toonpick: could not note the catalog version: ${messageOf(e)}`);
    }
  }

  setSerendipity(level: number) {
    this.serendipity = level = clampLevel(level);
    void this.store?.setMeta('serendipity', level).catch(this.notify);
  }

  async refreshStorage() {
    this.storage = await storageStatus();
  }

  async act(id: string, action: Action) {
    if (!this.store) return;
    try {
      const firstLike = action.kind === 'like' && action.on && !this.history.some((e) => e.likedAt !== undefined);
      await this.store.act(id, action);
      await this.readStored();
      // The first like is the first thing worth keeping: ask the browser not to evict it.
      if (firstLike) void requestPersistence().then(() => this.refreshStorage());
    } catch (e) {
      this.notify(e);
    }
  }

  private async readStored(): Promise<void> {
    const { entries, damaged } = await this.store!.readHistory();
    this.history = entries;
    this.damaged = damaged;
  }

  /** The history as stored now (not as this tab last saw it: another tab may have added to it). */
  private async reload(): Promise<void> {
    if (!this.store) return;
    try {
      await this.readStored();
    } catch (e) {
      console.warn(`toonpick: could not read the history again: ${messageOf(e)}`);
    }
  }

  /**
   * Saves the reader's note on a title with how positive it reads (the sentiment worker, started on the first
   * note). A note whose mood cannot be read now is still saved, and the reader is told; it then counts as read.
   */
  async saveNote(id: string, text: string) {
    if (!this.store) return;
    let sentiment: number | undefined;
    if (text.trim()) {
      try {
        this.sentiment ??= new SentimentClient(new URL(this.config.models.sentiment, location.href).href, this.config.workers.sentiment.callMs);
        [sentiment] = await this.sentiment.score([text]);
      } catch (e) {
        this.notify(strings.noteMoodUnavailable, 'error', technical(e));
      }
    }
    await this.act(id, { kind: 'note', text, ...(sentiment !== undefined ? { sentiment } : {}) });
  }

  /** Removes one title from the history, or all of it (`ids` omitted); undoable for `config.undoMs`. */
  async remove(ids?: string[]) {
    if (!this.store) return;
    try {
      const entries = await this.store.removeHistory(ids);
      await this.readStored();
      clearTimeout(this.undoTimer);
      this.undoable = { entries };
      this.undoTimer = setTimeout(() => (this.undoable = null), this.config.undoMs);
    } catch (e) {
      this.notify(e);
    }
  }

  async undo() {
    const removed = this.undoable;
    if (!this.store || !removed) return;
    clearTimeout(this.undoTimer);
    this.undoable = null;
    try {
      await this.store.restoreHistory(removed.entries);
      await this.readStored();
    } catch (e) {
      this.notify(e);
    }
  }

  /** Synchronous, inside the click that asked for it (a download after an await may be blocked); the history is kept current by onHistoryChange. */
  exportFile(): Blob {
    const file = exportHistory(this.history, this.catalog.snapshot?.manifest.name);
    return new Blob([JSON.stringify(file, null, 2)], { type: 'application/json' });
  }

  /** Validates the whole file first; a bad file is refused and nothing is written. */
  async importFile(file: File) {
    if (!this.store) return;
    try {
      const parsed = parseHistoryFile(await file.text(), file.name);
      const { total } = await this.store.importHistory(parsed);
      await this.readStored();
      this.notify(strings.imported(parsed.entries.length, total), 'ok');
    } catch (e) {
      if (e instanceof StoreError) this.notify(e);
      else this.notify(strings.importRefused, 'error', technical(e));
    }
  }
}
