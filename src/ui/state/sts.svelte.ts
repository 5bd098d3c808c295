/**
 * Story meaning in "For you": the reader's opt-in (Settings), the progress of the catalog pass in the text worker,
 * and the `sts` space once every synopsis has a vector. The pass itself is src/app/text-spaces.ts (batched, each
 * batch cached in IndexedDB by model, revision and text hash, so a reload resumes and a second visit builds the
 * space from the cache without loading the model); the choice is kept in the store's `meta`.
 *
 * It starts by itself when the reader opted in before, or has never chosen and the model is already in this
 * browser's cache (they searched by meaning before); "Turn off" stops it and keeps it off.
 */
import type { Space } from '../../core/snapshot/format.ts';
import type { Snapshot } from '../../core/snapshot/snapshot.ts';
import { STS_SPACE } from '../../core/text/sts-space.ts';
import type { TextModelDownload, TextSpaces } from '../../app/text-spaces.ts';
import type { ReaderStore } from '../../store/db.ts';
import { messageOf } from './notices.svelte.ts';

/** The store's `meta` key of the reader's choice: `{ on: boolean, at: epoch ms }`. */
const STS_CHOICE_KEY = 'stsRanking';

export class StsRanking {
  /** The reader's choice; null until they make one. */
  choice = $state<boolean | null>(null);
  /** A catalog pass is running (model download, then synopses). */
  running = $state(false);
  /** Model files' bytes downloaded so far and their total, as transformers.js reports them (files seen so far). */
  download = $state.raw<{ loaded: number; total: number } | null>(null);
  /** Synopses with a vector, of all. */
  progress = $state.raw<{ done: number; total: number } | null>(null);
  /** How many synopses already had a cached vector when this pass started (a resumed pass starts above 0). */
  resumedFrom = $state<number | null>(null);
  /** Synopses this page embedded with the model; 0 after a reload of a finished pass. */
  embedded = $state(0);
  error = $state<string | null>(null);
  /** The space For you ranks with once it is complete (null while off or unfinished). */
  space = $state.raw<Space | null>(null);

  constructor(
    private readonly store: () => ReaderStore | null,
    private readonly snapshot: () => Snapshot | null,
    private readonly textSpaces: () => TextSpaces,
  ) {}

  /** The snapshot ships its own sts space: For you already has it, nothing to opt into. */
  get shipped(): boolean {
    return !!this.snapshot()?.spaces.has(STS_SPACE);
  }

  /** After the store and the snapshot are loaded: resume an opted-in pass, or start one when the model is cached. */
  async start(): Promise<void> {
    if (!this.snapshot() || this.shipped) return;
    const spaces = this.textSpaces();
    // Search may build the space first (a free-text query): For you takes it unless the reader said no.
    spaces.onCatalogSpace = (space) => {
      if (this.choice !== false) this.space = space;
    };
    const saved = await this.store()?.getMeta<{ on?: unknown }>(STS_CHOICE_KEY).catch(() => undefined);
    this.choice = typeof saved?.on === 'boolean' ? saved.on : null;
    if (this.choice === true || (this.choice === null && (await spaces.modelCached()))) await this.run();
  }

  /** What turning it on would download now (the model's files not yet cached). */
  modelDownload(): Promise<TextModelDownload> {
    return this.textSpaces().download();
  }

  async enable(): Promise<void> {
    this.choice = true;
    await this.remember(true);
    await this.run();
  }

  /** Stops a pass in flight and leaves For you without the space; vectors already made stay cached. */
  async disable(): Promise<void> {
    this.choice = false;
    this.space = null;
    this.textSpaces().stop();
    await this.remember(false);
  }

  private async remember(on: boolean) {
    try {
      await this.store()?.setMeta(STS_CHOICE_KEY, { on, at: Date.now() });
    } catch (e) {
      this.error = messageOf(e);
    }
  }

  private async run(): Promise<void> {
    if (this.running) return;
    const spaces = this.textSpaces();
    this.running = true;
    this.error = null;
    this.download = null;
    this.progress = null;
    this.resumedFrom = null;
    const files = new Map<string, { loaded: number; total: number }>();
    try {
      const space = await spaces.catalogSpace((p) => {
        if (p.phase === 'model') {
          if (p.status !== 'progress' || !p.file || !(p.total! > 0)) return;
          files.set(p.file, { loaded: p.loaded ?? 0, total: p.total! });
          let loaded = 0, total = 0;
          for (const f of files.values()) { loaded += f.loaded; total += f.total; }
          this.download = { loaded, total };
        } else {
          this.resumedFrom ??= p.done;
          this.progress = { done: p.done, total: p.total };
          this.embedded = spaces.embedded;
        }
      });
      if (this.choice !== false) this.space = space;
    } catch (e) {
      // Turned off meanwhile: the pass was stopped on purpose.
      if (this.choice !== false) this.error = messageOf(e);
    } finally {
      this.running = false;
      this.embedded = spaces.embedded;
    }
  }
}
