/**
 * Search: the keyword index (BM25F over titles, authors, genres and synopses, built on the first search) and the
 * query on the search page — keyword matches, else similar wording at once (the snapshot's lexical space), then
 * meaning once the text model is ready.
 */
import type { ToonpickConfig } from '../../core/config.ts';
import { isEmptyVector, lexicalFallback, similarTitles, TitleSearch, type SearchHit } from '../../core/search.ts';
import type { QueryInSpace, TextSpaceProgress } from '../../app/text-spaces.ts';
import { strings } from '../i18n.svelte.ts';
import type { Catalog } from './catalog.svelte.ts';
import type { Snapshot } from '../../core/snapshot/snapshot.ts';
import type { Models } from './models.svelte.ts';
import { messageOf } from './notices.svelte.ts';
import { pauseAfter, yieldToPage } from '../../app/yield.ts';

export class Search {
  /** keyword: BM25F matches; lexical / sts: the similarity fallback in that space. */
  mode = $state<'keyword' | 'lexical' | 'sts'>('keyword');
  hits = $state.raw<SearchHit[]>([]);
  loadingModel = $state(false);
  /** Which model answered, or why none could. */
  modelNote = $state<string | null>(null);
  /** Why the model could not answer, in the runtime's words (behind the note's details toggle). */
  modelDetail = $state<string | null>(null);
  progress = $state.raw<TextSpaceProgress | null>(null);
  /** The keyword index is being built (its synopsis pages downloading, on a catalog that keeps them apart). */
  preparing = $state(false);
  /** How far the keyword index is (titles read of twice the catalog: it reads each title twice), while it is made. */
  indexing = $state.raw<{ done: number; total: number } | null>(null);
  /** Why there is no index to search (a synopsis page that could not be downloaded), in the runtime's words. */
  failure = $state<string | null>(null);
  private run = 0;
  private index: { snapshot: Snapshot; search: Promise<TitleSearch> } | null = null;

  constructor(
    private readonly config: ToonpickConfig,
    private readonly catalog: Catalog,
    private readonly models: Models,
  ) {}

  /** The keyword index, built on the first search (after the synopsis pages, where the snapshot keeps synopses apart). */
  private titleSearch(): Promise<TitleSearch> {
    const snapshot = this.catalog.snapshot!;
    // Built again for a new version of the catalog (an update loaded while the page is open).
    if (this.index?.snapshot !== snapshot) {
      // Indexed in steps, the page's thread given back every few milliseconds (a 100k-title catalog takes seconds).
      const onProgress = (done: number, total: number) => (this.indexing = { done, total });
      const search = this.catalog
        .loadSynopses()
        .then(() => TitleSearch.build(snapshot.items, this.config.search, pauseAfter(this.config.stepBudgetMs), onProgress))
        .finally(() => (this.indexing = null));
      const index = { snapshot, search };
      // A page that failed to download is tried again on the next search.
      index.search.catch(() => {
        if (this.index === index) this.index = null;
      });
      this.index = index;
    }
    return this.index.search;
  }

  private similar(idx: TitleSearch, q: string, inSpace: QueryInSpace): SearchHit[] {
    if (isEmptyVector(inSpace.vector)) return [];
    const hits = inSpace.space.name === 'lexical' ? lexicalFallback(idx, inSpace.space, inSpace.vector, q, this.config.pageSize) : similarTitles(inSpace.space, inSpace.vector, this.config.pageSize);
    return hits.map((h) => ({ ...h, spans: idx.highlight(h.index, q) }));
  }

  /** Searches for `q`; a later call supersedes one still waiting for the model. */
  async query(q: string): Promise<void> {
    const mine = ++this.run;
    this.loadingModel = false;
    this.modelNote = null;
    this.modelDetail = null;
    this.progress = null;
    if (!q.trim()) {
      this.mode = 'keyword';
      this.hits = [];
      return;
    }
    let idx: TitleSearch;
    this.failure = null;
    this.preparing = true;
    try {
      idx = await this.titleSearch();
      // The query in a task of its own (the index's last step, or a keystroke's redraw, may have just run).
      await yieldToPage();
    } catch (e) {
      if (mine === this.run) {
        this.hits = [];
        this.failure = messageOf(e);
      }
      return;
    } finally {
      if (mine === this.run) this.preparing = false;
    }
    if (mine !== this.run) return;
    const keyword = idx.keyword(q, this.config.pageSize);
    if (keyword.length) {
      this.mode = 'keyword';
      this.hits = keyword;
      return;
    }
    // No keyword match: similar wording at once (snapshot only), then meaning once the model is ready.
    const spaces = this.models.textSpaces();
    this.mode = 'lexical';
    this.hits = this.similar(idx, q, spaces.lexical(q));
    this.loadingModel = true;
    try {
      const sts = await spaces.sts(q, (p) => {
        if (mine === this.run) this.progress = p;
      });
      if (mine !== this.run) return;
      this.mode = 'sts';
      this.modelNote = strings.searchSts(sts.model!.modelId, sts.model!.device);
      this.hits = this.similar(idx, q, sts);
    } catch (e) {
      if (mine === this.run) {
        this.modelNote = strings.searchModelFailed;
        this.modelDetail = messageOf(e);
      }
    } finally {
      if (mine === this.run) {
        this.loadingModel = false;
        this.progress = null;
      }
    }
  }
}
