/**
 * The app: one object that composes the state modules, each owning one concern — the route (router), the snapshot
 * (catalog), the reader's history and settings (reader), search, the on-device models (models), the notice bar
 * (notices) and app updates (update) — and starts them in order. Logic lives in src/core, src/store and src/app;
 * these modules only wire them to Svelte.
 */
import { defaultConfig, withUrlOverrides, type ToonpickConfig } from '../../core/config.ts';
import { tick, untrack } from 'svelte';
import { moreLikeThisInSteps, popular, readerRankingInSteps, type Catalog as RankedCatalog, type ReaderRanking, type Recommendation } from '../../core/ranker.ts';
import type { HistoryEntry } from '../../core/history.ts';
import type { CatalogPreview } from '../../app/snapshot-client.ts';
import { pauseAfter, yieldToPage } from '../../app/yield.ts';
import { Catalog } from './catalog.svelte.ts';
import { Models } from './models.svelte.ts';
import { Notices } from './notices.svelte.ts';
import { Reader } from './reader.svelte.ts';
import { Router } from './router.svelte.ts';
import { Search } from './search.svelte.ts';
import { AppUpdate } from './update.svelte.ts';

/** Titles in a title page's "More like this". */
const SIMILAR_SHOWN = 12;

export class AppState {
  readonly config: ToonpickConfig;
  readonly notices = new Notices();
  readonly router = new Router();
  readonly update = new AppUpdate();
  readonly catalog: Catalog;
  readonly reader: Reader;
  readonly models: Models;
  readonly search: Search;

  /**
   * The reader's ranking, shared by For you and the title page: computed again when the history, the catalog or
   * the models change (`rank`), never when the Surprise slider moves (that only reorders a shortlist). undefined
   * while the catalog or the sequence worker is not ready, or the ranking is being computed; null for a reader with
   * no positive signal yet.
   */
  ranking = $state.raw<ReaderRanking | null | undefined>(undefined);
  private rankRun = 0;
  /** What the ranking shown was made from: a ranking of a preview stands once its snapshot is in (`rank`). */
  private rankedFrom: { catalog: RankedCatalog; history: HistoryEntry[]; sequence: unknown } | null = null;
  /** Settles the preview's wait (CatalogPreview): its first ranking was published, or given up. */
  private previewShown: (() => void) | null = null;
  /** More like this lists kept (similarTo), for one catalog. */
  private similar: { catalog: RankedCatalog | null; lists: Map<number, Promise<Recommendation[]>> } = { catalog: null, lists: new Map() };

  constructor(config: ToonpickConfig = defaultConfig) {
    this.config = config;
    try {
      // ?textModel=…, ?textDtype=… and ?textBatch=… (config.ts): a self-hosted text model, for operators and tests.
      this.config = withUrlOverrides(config, location.search);
    } catch (e) {
      this.notices.notify(e);
    }
    const notify = this.notices.notify;
    this.catalog = new Catalog(this.config, () => this.models.deviceSpaces());
    this.reader = new Reader(this.config, this.catalog, notify);
    this.models = new Models(this.config, this.catalog, this.reader, notify);
    this.search = new Search(this.config, this.catalog, this.models);
    // A notice is about the page it was given on: moving to another page clears it.
    addEventListener('hashchange', () => this.notices.dismiss());
  }

  /**
   * Ranks the reader's history on the current catalog (App.svelte runs it whenever what it reads changes). The work
   * is cut into steps, one space's scan each, with the page's thread given back between them (readerRankingInSteps):
   * on a 100k-title catalog no step is a long task, and a like or a scroll is never held up behind a whole ranking.
   */
  rank(): void {
    const preview = this.catalog.preview;
    const catalog = this.catalog.ranked ?? preview;
    const options = this.models.rankOptions();
    const history = this.reader.history;
    // The snapshot a preview's ranking was made for, found to be what the preview said: that ranking stands.
    const from = this.rankedFrom;
    if (catalog && options && from && from.history === history && from.sequence === options.sequenceScores && (from.catalog === catalog || (from.catalog as CatalogPreview).standsFor === catalog)) return;
    const run = ++this.rankRun;
    this.ranking = undefined;
    this.rankedFrom = null;
    if (!catalog || !options) return;
    const first = { level: untrack(() => this.reader.serendipity), k: this.config.pageSize };
    const start = performance.now();
    readerRankingInSteps(catalog, history, this.config.ranker, options, pauseAfter(this.config.stepBudgetMs), first)
      .then(async (ranking) => {
        // A preview's cards need their titles first (and those their reasons name), from the snapshot worker.
        // Should the worker fail, For you asks again, and waits for the titles meanwhile.
        if (catalog === preview) await this.catalog.fetchPreviewTitles(ranking ? shownRows(ranking.list(first.level, first.k)) : popular(catalog, history, first.k)).catch(() => undefined);
        if (run !== this.rankRun) return;
        this.ranking = ranking;
        this.rankedFrom = { catalog, history, sequence: options.sequenceScores };
        // For a profiler or the browser bench: how long the ranking took, and which tasks ran meanwhile.
        performance.measure('toonpick:ranking', { start });
      })
      .catch((e: unknown) => {
        if (run === this.rankRun) this.notices.notify(e);
      })
      .finally(() => {
        if (catalog === preview) this.previewShown?.();
      });
  }

  /**
   * On For you, a large catalog's first cards come before its titles (SnapshotLoad.onPreview): the load waits
   * until the preview's ranking is drawn, or given up, then takes the titles in.
   */
  private async previewDrawn(): Promise<void> {
    await new Promise<void>((resolve) => (this.previewShown = resolve));
    this.previewShown = null;
    await tick();
    // The frame that draws the cards, before the titles' messages take the page's thread.
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve)));
  }

  /**
   * "More like this" for a title of the catalog the ranker sees (the title page), in steps like the reader's ranking
   * (at 100k titles, one task of 69–91 ms on every title page opened). The last `config.similarKept`
   * titles' lists are kept, for this catalog only.
   */
  similarTo(catalog: RankedCatalog, index: number): Promise<Recommendation[]> {
    if (this.similar.catalog !== catalog) this.similar = { catalog, lists: new Map() };
    const lists = this.similar.lists;
    let list = lists.get(index);
    if (list) lists.delete(index); // kept again as the newest
    else {
      list = moreLikeThisInSteps(catalog, index, this.config.ranker, SIMILAR_SHOWN, pauseAfter(this.config.stepBudgetMs));
      list.catch(() => lists.get(index) === list && lists.delete(index)); // a failure is not kept: the next visit tries again
    }
    lists.set(index, list);
    for (const oldest of lists.keys()) if (lists.size > this.config.similarKept) lists.delete(oldest);
    return list;
  }

  /** The store and the snapshot load independently: a broken snapshot still leaves the history usable. */
  async init(): Promise<void> {
    this.update.start();
    // The first mount is a task of its own; the loads start in the next (a worker to start, a request to send).
    await yieldToPage();
    const onPreview = this.router.route.page === 'for-you' ? () => this.previewDrawn() : undefined;
    await Promise.all([this.reader.open(), this.catalog.load(onPreview)]);
    await this.reader.noteCatalogChange();
    void this.models.applyRetrainedStyle();
    this.synopsesAhead();
    void this.models.sts.start();
    this.catalog.watchForUpdates();
  }

  /** The reader asked for the catalog's new version: load it, and say what changed (the history stays as it is). */
  async loadNewCatalog(): Promise<void> {
    await this.catalog.load();
    await this.reader.noteCatalogChange();
    this.synopsesAhead();
  }

  /** A small catalog's synopsis pages, in the background, so its title pages and search also work offline later. */
  private synopsesAhead(): void {
    if ((this.catalog.snapshot?.items.length ?? Infinity) > this.config.synopsesAheadUpTo) return;
    this.catalog.loadSynopses().catch(() => undefined); // offline: a title page or a search asks again
  }
}

/** The rows a list of recommendations shows: its titles, and those its reasons name. */
export function shownRows(list: readonly Recommendation[]): number[] {
  return list.flatMap((r) => (r.why.closest === undefined ? [r.index] : [r.index, r.why.closest]));
}
