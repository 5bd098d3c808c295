/**
 * <toonpick-recs catalog="…/snapshot/" count="6" lang="ko" theme="light|dark|system">
 *
 * The embeddable widget: a custom element with its own Shadow DOM (no CSS leaks in or out) that loads a
 * catalog snapshot and shows recommendations from the reader's history kept in the HOST origin's
 * IndexedDB under its own database name. It needs no model and no worker: ranking runs on the snapshot's
 * precomputed spaces, because storage is partitioned per site and models would be downloaded again on
 * every host.
 *
 * JS API: `el.addToHistory(id, kind?)`, `el.refresh()`; events `toonpick:ready` and `toonpick:select`
 * (detail: { id, title }), both bubbling and composed. `toonpick:ready`'s detail says `{ count, personal, version }`,
 * and `updated: { from, added, changed, removed }` (counts) the first time it shows a catalog version other than
 * the one it showed last on this site: the operator published an update (its changed files came from the update's
 * delta where the previous version was cached).
 */
import { defaultConfig } from '../core/config.ts';
import type { Action } from '../core/history.ts';
import { popular, recommend } from '../core/ranker.ts';
import type { Title } from '../core/snapshot/format.ts';
import type { Snapshot } from '../core/snapshot/snapshot.ts';
import { httpReader, loadSnapshot } from '../core/snapshot/load.ts';
import { ReaderStore } from '../store/db.ts';
import { snapshotFileCache } from '../core/snapshot/file-cache.ts';
import { WIDGET_CSS } from './styles.ts';
import { WIDGET_STRINGS, widgetLang } from './strings.ts';

export const WIDGET_DATABASE = 'toonpick-widget';

let sheet: CSSStyleSheet | undefined;
function styleSheet(): CSSStyleSheet {
  sheet ??= new CSSStyleSheet();
  if (!sheet.cssRules.length) sheet.replaceSync(WIDGET_CSS);
  return sheet;
}

type Kind = 'read' | 'like' | 'dislike' | 'bookmark';

/** `toonpick:ready`'s `updated`: the version shown last on this site, and (when the update says) what changed. */
interface CatalogUpdate {
  from: string;
  added?: number;
  changed?: number;
  removed?: number;
}

export class ToonpickRecs extends HTMLElement {
  static observedAttributes = ['catalog', 'count', 'lang', 'theme'];

  private root: ShadowRoot;
  private snapshot: Snapshot | null = null;
  private snapshotUrl = '';
  /** The one load of the catalog in flight or done: attribute changes and connectedCallback all share it. */
  private loading: { url: string; snapshot: Promise<Snapshot> } | null = null;
  private store: Promise<ReaderStore> | null = null;
  private renderToken = 0;
  /** The comparison of this load's version with the last one shown on this site: once per load, shared by every refresh. */
  private versionNote: { snapshot: Snapshot; updated: Promise<CatalogUpdate | undefined> } | null = null;

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    this.root.adoptedStyleSheets = [styleSheet()];
  }

  connectedCallback() {
    void this.refresh();
  }

  attributeChangedCallback(name: string, old: string | null, value: string | null) {
    if (old !== value && this.isConnected) {
      if (name === 'catalog') this.snapshot = null;
      // Only a new catalog URL loads again (ensureSnapshot); count, lang and theme just redraw.
      void this.refresh();
    }
  }

  disconnectedCallback() {
    // SPA navigation removes the element: drop in-flight renders; the store stays open for a re-insert.
    this.renderToken++;
  }

  get count(): number {
    const n = Number(this.getAttribute('count') ?? 6);
    return Number.isInteger(n) && n > 0 ? Math.min(n, 50) : 6;
  }

  /** Records a reader action on a title (the host page knows what the reader opened). */
  async addToHistory(id: string, kind: Kind = 'read'): Promise<void> {
    const action: Action = { kind, on: true } as Action;
    await (await this.openStore()).act(id, action);
    await this.refresh();
  }

  private openStore(): Promise<ReaderStore> {
    this.store ??= ReaderStore.open(WIDGET_DATABASE);
    return this.store;
  }

  /**
   * The catalog, loaded once per URL: calls while a load is in flight wait for that same load. Only what the
   * ranker uses is downloaded (the `ranking` profile: no search tables, no style encoder weights or map). A failed
   * load is forgotten, so the next refresh tries again.
   */
  private async ensureSnapshot(): Promise<Snapshot> {
    const attr = this.getAttribute('catalog');
    if (!attr) throw new Error('the "catalog" attribute is missing (the URL of a Toonpick snapshot folder)');
    const url = new URL(attr, document.baseURI).href;
    if (this.loading?.url !== url) {
      const snapshot = loadSnapshot(httpReader(url), { profile: 'ranking', cache: snapshotFileCache() });
      const loading = { url, snapshot };
      this.loading = loading;
      snapshot.catch(() => {
        if (this.loading === loading) this.loading = null;
      });
    }
    const snapshot = await this.loading.snapshot;
    this.snapshotUrl = url;
    this.snapshot = snapshot;
    return snapshot;
  }

  /**
   * Whether this catalog version differs from the one this widget last showed on this site, and if so what the
   * update changed (when it was made from that version: otherwise only the version ids). Bookkeeping only: a store
   * that cannot write costs the next visit the same news again.
   */
  private noteVersion(store: ReaderStore, snapshot: Snapshot): Promise<CatalogUpdate | undefined> {
    if (this.versionNote?.snapshot !== snapshot) this.versionNote = { snapshot, updated: this.compareVersion(store, snapshot) };
    return this.versionNote.updated;
  }

  private async compareVersion(store: ReaderStore, snapshot: Snapshot): Promise<CatalogUpdate | undefined> {
    const m = snapshot.manifest;
    const key = `snapshot:${this.snapshotUrl}`;
    const seen = await store.getMeta<{ contentHash?: string }>(key).catch(() => undefined);
    await store.setMeta(key, { contentHash: m.contentHash }).catch(() => undefined);
    if (!seen?.contentHash || seen.contentHash === m.contentHash) return undefined;
    const c = m.changes?.from === seen.contentHash ? m.changes : undefined;
    return { from: seen.contentHash, ...(c ? { added: c.added.length, changed: c.changed.length, removed: c.removed.length } : {}) };
  }

  /** Loads what is missing and redraws; a newer call supersedes an older one still in flight. */
  async refresh(): Promise<void> {
    const token = ++this.renderToken;
    const s = WIDGET_STRINGS[widgetLang(this.getAttribute('lang'))];
    if (!this.snapshot) this.show(this.status(s.loading));
    try {
      const [snapshot, store] = await Promise.all([this.ensureSnapshot(), this.openStore()]);
      const history = await store.history();
      const updated = await this.noteVersion(store, snapshot);
      if (token !== this.renderToken) return;
      const recs = recommend(snapshot, history, defaultConfig.ranker, this.count);
      const picks = recs
        ? recs.map((r) => ({
            title: snapshot.items[r.index],
            why: r.why.serendipity || r.why.departure ? s.surprise : r.why.closest === undefined ? undefined : s.because(snapshot.items[r.why.closest].title),
          }))
        : popular(snapshot, history, this.count).map((i) => ({ title: snapshot.items[i], why: undefined }));
      this.show(this.list(recs ? s.personal : s.popular, picks, snapshot));
      this.dispatchEvent(new CustomEvent('toonpick:ready', { bubbles: true, composed: true, detail: { count: picks.length, personal: !!recs, version: snapshot.manifest.contentHash, ...(updated ? { updated } : {}) } }));
    } catch (e) {
      if (token !== this.renderToken) return;
      const box = document.createElement('div');
      box.className = 'error';
      box.setAttribute('role', 'alert');
      // The reader's words first; the technical reason (for the site's operator) folded away.
      const text = document.createElement('p');
      text.textContent = s.error;
      const details = document.createElement('details');
      const summary = document.createElement('summary');
      summary.textContent = s.details;
      details.append(summary, String((e as Error)?.message ?? e));
      box.append(text, details);
      this.show(box);
      this.dispatchEvent(new CustomEvent('toonpick:error', { bubbles: true, composed: true, detail: { message: (e as Error).message } }));
    }
  }

  private status(text: string): HTMLElement {
    const p = document.createElement('p');
    p.className = 'status';
    p.setAttribute('role', 'status');
    p.textContent = text;
    return p;
  }

  private list(heading: string, picks: Array<{ title: Title; why?: string }>, snapshot: Snapshot): HTMLElement {
    const section = document.createElement('section');
    const h = document.createElement('h2');
    h.textContent = heading;
    const ul = document.createElement('ul');
    for (const { title, why } of picks) {
      const li = document.createElement('li');
      const card = document.createElement('button');
      card.className = 'card';
      card.type = 'button';
      card.dataset.id = title.id;
      if (title.cover) {
        const img = document.createElement('img');
        img.src = new URL(title.cover, this.snapshotUrl).href;
        img.alt = '';
        img.loading = 'lazy';
        card.append(img);
      }
      // textContent only: catalog text is never interpreted as HTML, on someone else's page least of all.
      const name = document.createElement('span');
      name.className = 'title';
      name.textContent = title.title;
      const meta = document.createElement('span');
      meta.className = 'meta';
      meta.textContent = [title.author, title.genres.join(' · ')].filter(Boolean).join(' — ');
      card.append(name, meta);
      if (why) {
        const w = document.createElement('span');
        w.className = 'why';
        w.textContent = why;
        card.append(w);
      }
      card.addEventListener('click', () => {
        this.dispatchEvent(new CustomEvent('toonpick:select', { bubbles: true, composed: true, detail: { id: title.id, title: title.title, sourceUrl: title.sourceUrl } }));
      });
      li.append(card);
      ul.append(li);
    }
    section.append(h, ul);
    section.setAttribute('aria-label', `${heading} — ${snapshot.manifest.name}`);
    return section;
  }

  private show(content: HTMLElement) {
    const wrap = document.createElement('div');
    wrap.className = 'root';
    wrap.append(content);
    this.root.replaceChildren(wrap);
  }
}

/** Defines the element once, even if the script is included twice. */
export function defineToonpickRecs(name = 'toonpick-recs') {
  if (!customElements.get(name)) customElements.define(name, ToonpickRecs);
}
