/**
 * The app's reactive state: the loaded snapshot, the reader's history (mirrored from the store) and the
 * current route. Logic lives in src/core and src/store; this only wires them to Svelte.
 */
import { defaultConfig, withUrlOverrides, type ToonpickConfig } from '../core/config.ts';
import { exportHistory, parseHistoryFile, type Action, type HistoryEntry } from '../core/history.ts';
import { httpReader, loadSnapshot, type LoadProgress } from '../core/snapshot/load.ts';
import type { Title } from '../core/snapshot/format.ts';
import type { Snapshot } from '../core/snapshot/snapshot.ts';
import { ReaderStore } from '../store/db.ts';
import { TitleSearch } from '../core/search.ts';
import { TextSpaces } from '../app/text-spaces.ts';
import { StyleSpaces } from '../app/style-client.ts';
import { requestPersistence, storageStatus, type StorageStatus } from '../store/storage.ts';
import { registerServiceWorker, type PwaHandle } from '../app/pwa.ts';
import { SequenceClient } from '../app/sequence-client.ts';
import type { SequenceScores } from '../core/ranker.ts';
import { clampLevel } from '../core/rank/calibrate.ts';
import { strings } from './i18n.svelte.ts';
import { StsRanking, withSpace } from './sts.svelte.ts';

export type Route = { page: 'browse' } | { page: 'for-you' } | { page: 'history' } | { page: 'style-map' } | { page: 'settings' } | { page: 'title'; id: string } | { page: 'search'; query: string };

export function parseRoute(hash: string): Route {
  // A query may itself contain '/', so everything after the prefix is the query.
  const search = /^#?\/search\/(.*)$/.exec(hash);
  if (search) {
    try {
      return { page: 'search', query: decodeURIComponent(search[1]) };
    } catch {
      return { page: 'search', query: search[1] };
    }
  }
  const [, page, id] = hash.replace(/^#/, '').split('/');
  if (page === 'title' && id) return { page: 'title', id: decodeURIComponent(id) };
  if (page === 'for-you' || page === 'history' || page === 'style-map' || page === 'settings') return { page };
  return { page: 'browse' };
}

export const href = {
  title: (id: string) => `#/title/${encodeURIComponent(id)}`,
  browse: '#/',
  forYou: '#/for-you',
  history: '#/history',
  styleMap: '#/style-map',
  settings: '#/settings',
  search: (query: string) => `#/search/${encodeURIComponent(query)}`,
};

export class AppState {
  config: ToonpickConfig;
  snapshotBase: URL;
  snapshot = $state.raw<Snapshot | null>(null);
  progress = $state.raw<LoadProgress | null>(null);
  snapshotError = $state<string | null>(null);
  storeError = $state<string | null>(null);
  notice = $state<{ kind: 'ok' | 'error'; text: string } | null>(null);
  history = $state.raw<HistoryEntry[]>([]);
  route = $state.raw<Route>(parseRoute(location.hash));
  /** A new app version is installed and waits for the reader's reload. */
  updateReady = $state(false);
  /** The reader's serendipity setting, 0 = closest to taste … 1 = most surprising (kept in the store). */
  serendipity = $state(0);
  private urlSerendipity: number | undefined;
  storage = $state.raw<StorageStatus | null>(null);
  /**
   * The sequence worker's scores for `history` (snapshots with a sequence model only); `scores` is absent when
   * the worker failed and the page ranks on its own thread.
   */
  sequence = $state.raw<{ history: HistoryEntry[]; scores?: SequenceScores } | null>(null);
  private store: ReaderStore | null = null;
  private pwa: PwaHandle | null = null;
  private searchIndex: TitleSearch | null = null;
  private textSpaces: TextSpaces | null = null;
  private styleSpaces: StyleSpaces | null = null;
  private sequenceClient: SequenceClient | null = null;
  /** Story meaning in For you: the reader's opt-in and the sts space made on this device (sts.svelte.ts). */
  readonly sts = new StsRanking(() => this.store, () => this.snapshot, () => this.textSpacesFor());
  private joined: Snapshot | null = null;

  /**
   * What the ranker sees (For you, a title's "why" chart, More like this): the snapshot, plus the `sts` space this
   * device made once the reader opted in — a new catalog object, never the snapshot changed in place.
   */
  get catalog(): Snapshot | null {
    const snap = this.snapshot;
    const sts = this.sts.space;
    if (!snap || !sts || snap.spaces.has(sts.name)) return snap;
    return (this.joined = withSpace(snap, sts, this.joined));
  }

  byId = $derived(new Map(this.history.map((e) => [e.id, e])));

  constructor(config: ToonpickConfig = defaultConfig) {
    this.config = config;
    this.serendipity = config.ranker.serendipity.level;
    try {
      // ?textModel=… and ?textDtype=… (config.ts): a self-hosted text model, for operators and tests.
      this.config = withUrlOverrides(config, location.search);
    } catch (e) {
      this.notice = { kind: 'error', text: (e as Error).message };
    }
    // An operator or a test can point the app at another snapshot: ?snapshot=<url>
    const params = new URLSearchParams(location.search);
    const override = params.get('snapshot');
    this.snapshotBase = new URL(override ?? config.snapshotUrl, document.baseURI);
    // ?serendipity=<0…1> opens For you at that Surprise level (a shared link; clamped, never NaN).
    this.urlSerendipity = params.has('serendipity') ? clampLevel(params.get('serendipity')) : undefined;
    if (this.urlSerendipity !== undefined) this.serendipity = this.urlSerendipity;
    addEventListener('hashchange', () => {
      this.route = parseRoute(location.hash);
      scrollTo(0, 0);
    });
  }

  /** The store and the snapshot load independently: a broken snapshot still leaves the history usable. */
  async init(): Promise<void> {
    this.pwa = registerServiceWorker(() => (this.updateReady = true));
    await Promise.all([this.openStore(), this.loadCatalog()]);
    await this.noteCatalogChange();
    void this.applyRetrainedStyle();
    void this.sts.start();
  }

  /** Weights the reader retrained (Settings) replace the shipped style vectors from the start (cached after the first time). */
  private async applyRetrainedStyle() {
    if (!this.store || !this.snapshot) return;
    const spaces = this.styleSpacesFor();
    try {
      if ((await spaces.active())?.retrained) await spaces.refresh();
    } catch (e) {
      this.notice = { kind: 'error', text: (e as Error).message };
    }
  }

  /**
   * Runs the reader's history through the sequence worker; App.svelte calls this whenever the history changes.
   * Rankings wait for it (`rankOptions`), so the transformer never runs on the page's thread.
   */
  async scoreSequence(history: HistoryEntry[]): Promise<void> {
    const snapshot = this.snapshot;
    if (!snapshot?.sequence) return;
    this.sequenceClient ??= new SequenceClient(snapshot);
    let scores: SequenceScores | undefined;
    try {
      scores = await this.sequenceClient.scoresFor(history, this.config.ranker);
    } catch (e) {
      console.warn(`ranking on the page: ${(e as Error).message}`);
    }
    if (this.history === history && this.snapshot === snapshot) this.sequence = { history, scores };
  }

  /** What `recommend` needs beside the history; null while the sequence worker is still on this history. */
  rankOptions(): { sequenceScores?: SequenceScores } | null {
    if (!this.snapshot?.sequence) return {};
    return this.sequence?.history === this.history ? { sequenceScores: this.sequence.scores } : null;
  }

  setSerendipity(level: number) {
    this.serendipity = level = clampLevel(level);
    void this.store?.setMeta('serendipity', level).catch((e) => (this.notice = { kind: 'error', text: (e as Error).message }));
  }

  applyUpdate() {
    this.pwa?.applyUpdate();
  }

  async refreshStorage() {
    this.storage = await storageStatus();
  }

  /**
   * A new snapshot needs no data migration: history is keyed by title id and kept even for titles a
   * catalog drops. The reader is told what changed.
   */
  private async noteCatalogChange() {
    if (!this.store || !this.snapshot) return;
    const m = this.snapshot.manifest;
    const seen = await this.store.getMeta<{ contentHash: string; itemCount: number }>('snapshot');
    if (seen && seen.contentHash !== m.contentHash) {
      const missing = this.history.filter((e) => !this.snapshot!.indexOf.has(e.id)).length;
      this.notice = {
        kind: 'ok',
        text: strings.catalogUpdated(seen.itemCount, m.itemCount, missing),
      };
    }
    await this.store.setMeta('snapshot', { contentHash: m.contentHash, itemCount: m.itemCount, name: m.name });
  }

  private async openStore() {
    try {
      this.store = await ReaderStore.open(this.config.databaseName);
      this.history = await this.store.history();
      const saved = await this.store.getMeta<unknown>('serendipity');
      if (saved !== undefined && this.urlSerendipity === undefined) this.serendipity = clampLevel(saved);
    } catch (e) {
      this.storeError = (e as Error).message;
    }
  }

  private async loadCatalog() {
    try {
      this.snapshot = await loadSnapshot(httpReader(this.snapshotBase), (p) => (this.progress = p));
    } catch (e) {
      this.snapshotError = (e as Error).message;
    } finally {
      this.progress = null;
    }
  }

  /** The keyword index, built on the first search. */
  titleSearch(): TitleSearch {
    return (this.searchIndex ??= new TitleSearch(this.snapshot!.items, this.config.search));
  }

  /** Text spaces for free-text queries; the text model loads on the first query that needs it. */
  textSpacesFor(): TextSpaces {
    return (this.textSpaces ??= new TextSpaces(this.config, this.snapshot!, this.store, document.baseURI));
  }

  /** The art-style weights in use and the style/gram vectors that go with them (src/app/style-client.ts). */
  styleSpacesFor(): StyleSpaces {
    return (this.styleSpaces ??= new StyleSpaces(this.snapshot!, this.store, (i) => this.coverUrl(this.snapshot!.items[i], true)));
  }

  coverUrl(t: Title, square = false): string | undefined {
    const p = square ? t.coverSquare : t.cover;
    return p ? new URL(p, this.snapshotBase).href : undefined;
  }

  titleOf(id: string): Title | undefined {
    const i = this.snapshot?.indexOf.get(id);
    return i === undefined ? undefined : this.snapshot!.items[i];
  }

  async act(id: string, action: Action) {
    if (!this.store) return;
    try {
      const firstLike = action.kind === 'like' && action.on && !this.history.some((e) => e.likedAt !== undefined);
      await this.store.act(id, action);
      this.history = await this.store.history();
      // The first like is the first thing worth keeping: ask the browser not to evict it.
      if (firstLike) void requestPersistence().then(() => this.refreshStorage());
    } catch (e) {
      this.notice = { kind: 'error', text: (e as Error).message };
    }
  }

  exportFile(): Blob {
    const file = exportHistory(this.history, this.snapshot?.manifest.name);
    return new Blob([JSON.stringify(file, null, 2)], { type: 'application/json' });
  }

  /** Validates the whole file first; a bad file is refused and nothing is written. */
  async importFile(file: File) {
    if (!this.store) return;
    try {
      const parsed = parseHistoryFile(await file.text(), file.name);
      const { total } = await this.store.importHistory(parsed);
      this.history = await this.store.history();
      this.notice = { kind: 'ok', text: strings.imported(parsed.entries.length, total) };
    } catch (e) {
      this.notice = { kind: 'error', text: strings.importRefused((e as Error).message) };
    }
  }

  async clear() {
    if (!this.store) return;
    await this.store.clearHistory();
    this.history = [];
  }
}
