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
import type { Models } from './models.svelte.ts';
import { messageOf } from './notices.svelte.ts';

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
  private run = 0;
  private index: TitleSearch | null = null;

  constructor(
    private readonly config: ToonpickConfig,
    private readonly catalog: Catalog,
    private readonly models: Models,
  ) {}

  /** The keyword index, built on the first search. */
  private titleSearch(): TitleSearch {
    return (this.index ??= new TitleSearch(this.catalog.snapshot!.items, this.config.search));
  }

  private similar(q: string, inSpace: QueryInSpace): SearchHit[] {
    if (isEmptyVector(inSpace.vector)) return [];
    const idx = this.titleSearch();
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
    const keyword = this.titleSearch().keyword(q, this.config.pageSize);
    if (keyword.length) {
      this.mode = 'keyword';
      this.hits = keyword;
      return;
    }
    // No keyword match: similar wording at once (snapshot only), then meaning once the model is ready.
    const spaces = this.models.textSpaces();
    this.mode = 'lexical';
    this.hits = this.similar(q, spaces.lexical(q));
    this.loadingModel = true;
    try {
      const sts = await spaces.sts(q, (p) => {
        if (mine === this.run) this.progress = p;
      });
      if (mine !== this.run) return;
      this.mode = 'sts';
      this.modelNote = strings.searchSts(sts.model!.modelId, sts.model!.device);
      this.hits = this.similar(q, sts);
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
