/**
 * The catalog: the snapshot (loaded once from `config.snapshotUrl`, or `?snapshot=<url>`), its loading progress or
 * error, cover URLs, and the catalog the ranker sees — the snapshot plus the spaces made on this device (story
 * meaning, the style vectors of retrained weights: models.svelte.ts) once there are any.
 */
import type { ToonpickConfig } from '../../core/config.ts';
import type { LoadProgress } from '../../core/snapshot/load.ts';
import type { Space, Title } from '../../core/snapshot/format.ts';
import type { Snapshot } from '../../core/snapshot/snapshot.ts';
import { messageOf } from './notices.svelte.ts';
import { loadSnapshotOffThread, type CatalogPreview } from '../../app/snapshot-client.ts';

export class Catalog {
  readonly snapshotBase: URL;
  snapshot = $state.raw<Snapshot | null>(null);
  progress = $state.raw<LoadProgress | null>(null);
  error = $state<string | null>(null);
  /** The operator published another version while this page was open (checked when the tab comes back). */
  newVersion = $state(false);
  /** Counts synopsis pages arrived: read it to show a synopsis once its page is in (titles change in place). */
  synopsesLoaded = $state(0);
  /**
   * A large catalog before its titles (snapshot-client.ts CatalogPreview): For you ranks and draws from it while the
   * titles come; null once the snapshot is in, or when the load gives none.
   */
  preview = $state.raw<CatalogPreview | null>(null);
  /** The preview's titles the page has asked for (For you's cards and the titles their reasons name), by row. */
  previewTitles = $state.raw(new Map<number, Title>());
  private joined: Snapshot | null = null;

  /** `deviceSpaces`: spaces this device made for the ranker; each replaces the snapshot's of that name, or joins it. */
  constructor(
    private readonly config: ToonpickConfig,
    private readonly deviceSpaces: () => Space[],
  ) {
    // An operator or a test can point the app at another snapshot: ?snapshot=<url>
    const override = new URLSearchParams(location.search).get('snapshot');
    this.snapshotBase = new URL(override ?? config.snapshotUrl, document.baseURI);
  }

  /**
   * What the ranker sees (For you, a title's "why" chart, More like this): the snapshot with the spaces this device
   * made — a new catalog object, never the snapshot changed in place.
   */
  get ranked(): Snapshot | null {
    const snap = this.snapshot;
    const spaces = this.deviceSpaces();
    if (!snap || spaces.length === 0) return snap;
    return (this.joined = withSpaces(snap, spaces, this.joined));
  }

  /** `onPreview`: as SnapshotLoad's, with the preview shown (`preview`) meanwhile. */
  async load(onPreview?: (preview: CatalogPreview) => Promise<void>): Promise<void> {
    this.newVersion = false;
    const showPreview = onPreview && ((p: CatalogPreview) => ((this.preview = p), onPreview(p)));
    try {
      this.snapshot = await loadSnapshotOffThread(this.snapshotBase, { onProgress: (p) => (this.progress = p), ...this.config.workers.snapshot, stepBudgetMs: this.config.stepBudgetMs, ...(showPreview ? { onPreview: showPreview } : {}) });
    } catch (e) {
      this.error = messageOf(e);
    } finally {
      this.progress = null;
      this.preview = null;
      this.previewTitles = new Map();
    }
  }

  /** The title at a row of the catalog For you draws from: the snapshot's, or one the preview gave (previewTitles). */
  titleAt(row: number): Title | undefined {
    return this.snapshot ? this.snapshot.items[row] : this.previewTitles.get(row);
  }

  /** Asks the preview for the titles at these rows that the page does not have yet (previewTitles). */
  async fetchPreviewTitles(rows: number[]): Promise<void> {
    const preview = this.preview;
    const missing = [...new Set(rows)].filter((r) => !this.previewTitles.has(r));
    if (!preview || !missing.length) return;
    const titles = await preview.titlesAt(missing);
    if (this.preview !== preview) return;
    const next = new Map(this.previewTitles);
    missing.forEach((r, k) => next.set(r, titles[k]));
    this.previewTitles = next;
  }

  /**
   * Looks for a new version of the snapshot whenever the tab becomes visible again: one small request for
   * manifest.json (revalidated, never from a stale cache). Loading it is the reader's choice (`load()` again:
   * unchanged files come from the device, changed ones from the update's delta when it applies).
   */
  watchForUpdates(): void {
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible') void this.checkForUpdate();
    });
  }

  async checkForUpdate(): Promise<boolean> {
    const current = this.snapshot?.manifest.contentHash;
    if (!current || this.progress) return false;
    try {
      const res = await fetch(new URL('manifest.json', this.snapshotBase), { cache: 'no-cache' });
      const hash = res.ok ? ((await res.json()) as { contentHash?: unknown }).contentHash : undefined;
      this.newVersion = typeof hash === 'string' && hash !== this.snapshot?.manifest.contentHash;
    } catch {
      // Offline or a broken file: the version open now stays, and the next visit checks again.
    }
    return this.newVersion;
  }

  /** A file of the snapshot (a path the manifest gives, e.g. the cover sprite) as a URL. */
  fileUrl(p: string): string {
    return new URL(p, this.snapshotBase).href;
  }

  coverUrl(t: Title, square = false): string | undefined {
    const p = square ? t.coverSquare : t.cover;
    return p ? new URL(p, this.snapshotBase).href : undefined;
  }

  /** The name of a title the last update removed (the history keeps it, marked "no longer in the catalog"). */
  removedTitle(id: string): string | undefined {
    return this.snapshot?.manifest.changes?.removed.find((r) => r.id === id)?.title;
  }

  /**
   * Loads the synopses of these rows (every title's when none are given) where the snapshot keeps them in pages
   * (load.ts synopsisPages): a title page, search and the story-meaning pass ask before they read `synopsis`.
   */
  async loadSynopses(rows?: Iterable<number>): Promise<void> {
    const pages = this.snapshot?.synopses;
    if (!pages) return;
    await pages.load(rows);
    this.synopsesLoaded++;
  }

  titleOf(id: string): Title | undefined {
    const i = this.snapshot?.indexOf.get(id);
    return i === undefined ? undefined : this.snapshot!.items[i];
  }
}

/**
 * The snapshot with spaces made on this device, as a NEW object with its own copy of the spaces map — never the
 * snapshot changed in place, since the ranker memoizes per catalog and per space (calibration, popularity, category
 * similarity in WeakMaps). `previous` is reused while nothing changed.
 */
function withSpaces(snapshot: Snapshot, spaces: Space[], previous: Snapshot | null): Snapshot {
  const next = new Map(snapshot.spaces);
  for (const s of spaces) next.set(s.name, s);
  if (previous && previous.items === snapshot.items && previous.spaces.size === next.size && [...next].every(([n, s]) => previous.spaces.get(n) === s)) {
    return previous;
  }
  return { ...snapshot, spaces: next };
}
