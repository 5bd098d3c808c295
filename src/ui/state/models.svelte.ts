/**
 * The models that run on the reader's device beside the snapshot: the text model (free-text search, and story
 * meaning in For you once the reader opts in: sts.svelte.ts), the art-style encoder's weights and vectors, and the
 * sequence model's worker — and `rankOptions`, what the ranker needs from them beside the history.
 */
import type { ToonpickConfig } from '../../core/config.ts';
import type { HistoryEntry } from '../../core/history.ts';
import type { SequenceScores } from '../../core/ranker.ts';
import { TextSpaces } from '../../app/text-spaces.ts';
import { StyleSpaces, type StyleModelInfo, type StyleVectors } from '../../app/style-client.ts';
import type { StyleWeights } from '../../core/style/style-encoder.ts';
import type { Space } from '../../core/snapshot/format.ts';
import { SequenceClient } from '../../app/sequence-client.ts';
import type { Catalog } from './catalog.svelte.ts';
import type { Reader } from './reader.svelte.ts';
import { messageOf, type Notify } from './notices.svelte.ts';
import { StsRanking } from './sts.svelte.ts';

export class Models {
  /**
   * The sequence worker's scores for `history` (snapshots with a sequence model only); `scores` is absent when
   * the worker failed and the page ranks on its own thread.
   */
  sequence = $state.raw<{ history: HistoryEntry[]; scores?: SequenceScores } | null>(null);
  /** The style and gram spaces (and map) of the reader's retrained weights; null: the snapshot's own. */
  style = $state.raw<StyleVectors | null>(null);
  /** Story meaning in For you: the reader's opt-in and the sts space made on this device (sts.svelte.ts). */
  readonly sts: StsRanking;
  private text: TextSpaces | null = null;
  private styleModel: StyleSpaces | null = null;
  private sequenceClient: SequenceClient | null = null;

  constructor(
    private readonly config: ToonpickConfig,
    private readonly catalog: Catalog,
    private readonly reader: Reader,
    private readonly notify: Notify,
  ) {
    this.sts = new StsRanking(() => reader.store, () => catalog.snapshot, () => this.textSpaces());
  }

  /** Text spaces for free-text queries; the text model loads on the first query that needs it. */
  textSpaces(): TextSpaces {
    return (this.text ??= new TextSpaces(this.config, this.catalog.snapshot!, this.reader.store, document.baseURI));
  }

  /** The art-style weights in use and the style/gram vectors that go with them (src/app/style-client.ts). */
  styleSpaces(): StyleSpaces {
    const catalog = this.catalog;
    return (this.styleModel ??= new StyleSpaces(catalog.snapshot!, this.reader.store, (i) => catalog.coverUrl(catalog.snapshot!.items[i], true), this.config));
  }

  /** Weights the reader retrained (Settings) replace the shipped style vectors from the start (cached after the first time). */
  async applyRetrainedStyle(): Promise<void> {
    if (!this.reader.store || !this.catalog.snapshot) return;
    try {
      const spaces = this.styleSpaces();
      if ((await spaces.active())?.retrained) this.style = await spaces.vectors();
    } catch (e) {
      this.notify(e);
    }
  }

  /** Puts retrained or imported weights in use (Settings); the catalog the ranker sees follows. */
  async useStyleWeights(weights: StyleWeights): Promise<StyleModelInfo> {
    const { info, vectors } = await this.styleSpaces().useRetrained(weights);
    this.style = vectors;
    return info;
  }

  /** Back to the snapshot's weights, vectors and map. */
  async restoreShippedStyle(): Promise<void> {
    this.style = await this.styleSpaces().restoreShipped();
  }

  /**
   * Spaces made on this device that the ranker uses instead of, or beside, the snapshot's: the style vectors of
   * retrained weights, and the sts space once the reader opted in (when the snapshot ships none).
   */
  deviceSpaces(): Space[] {
    const sts = this.sts.space;
    const shipsSts = !!sts && !!this.catalog.snapshot?.spaces.has(sts.name);
    return [...(this.style?.spaces ?? []), ...(sts && !shipsSts ? [sts] : [])];
  }

  /**
   * Runs the reader's history through the sequence worker; App.svelte calls this whenever the history changes.
   * Rankings wait for it (`rankOptions`), so the transformer never runs on the page's thread.
   */
  async scoreSequence(history: HistoryEntry[]): Promise<void> {
    const snapshot = this.catalog.snapshot;
    if (!snapshot?.sequence) return;
    this.sequenceClient ??= new SequenceClient(snapshot, this.config.workers.sequence.callMs);
    let scores: SequenceScores | undefined;
    try {
      scores = await this.sequenceClient.scoresFor(history, this.config.ranker);
    } catch (e) {
      console.warn(`ranking on the page: ${messageOf(e)}`);
    }
    if (this.reader.history === history && this.catalog.snapshot === snapshot) this.sequence = { history, scores };
  }

  /** What `recommend` needs beside the history; null while the sequence worker is still on this history. */
  rankOptions(): { sequenceScores?: SequenceScores } | null {
    if (!this.catalog.snapshot?.sequence) return {};
    return this.sequence?.history === this.reader.history ? { sequenceScores: this.sequence.scores } : null;
  }
}
