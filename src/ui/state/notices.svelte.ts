/**
 * The one notice bar under the header (App.svelte, data-testid="notice"), and the one way to put something in it:
 * `notify(error | message, kind)`. An Error (or anything thrown) shows its message; a string shows as it is.
 */
import { DataError } from '../../core/errors.ts';
import { StoreError } from '../../store/db.ts';
import { strings } from '../i18n.svelte.ts';

type NoticeKind = 'ok' | 'error';

/** A link the notice offers (e.g. "See what changed" → the catalog page). */
export interface NoticeAction {
  href: string;
  label: string;
}

/** What a module that can tell the reader something is handed: `notify(e)` for an error, `notify(text, 'ok')` for news. */
export type Notify = (what: unknown, kind?: NoticeKind, detail?: string, action?: NoticeAction) => void;

/**
 * The message of anything a `catch` receives (an Error, a DOMException, or a thrown string). A store failure is
 * worded in the reader's language (its English message is for logs).
 */
export function messageOf(e: unknown): string {
  if (e instanceof StoreError) return strings.storeError(e.reason, e.doing);
  return technical(e);
}

/** The runtime's or the validator's own words (English): the detail behind a message's toggle. */
export function technical(e: unknown): string {
  return typeof e === 'object' && e !== null && 'message' in e ? String(e.message) : String(e);
}

/** What the reader is told about an error, from the string tables, and its technical detail. */
export function explain(e: unknown): { text: string; detail?: string } {
  if (e instanceof StoreError) return { text: strings.storeError(e.reason, e.doing), detail: e.message };
  if (e instanceof DataError) return { text: strings.dataProblem, detail: e.message };
  return { text: strings.somethingFailed, detail: technical(e) };
}

export class Notices {
  /** What the bar shows; null when there is nothing (or the reader dismissed it). */
  current = $state<{ kind: NoticeKind; text: string; detail?: string; action?: NoticeAction } | null>(null);

  /** A string is shown as it is (with `detail` behind a toggle); anything thrown is explained (explain()). */
  readonly notify: Notify = (what, kind = 'error', detail, action) => {
    this.current = typeof what === 'string' ? { kind, text: what, ...(detail ? { detail } : {}), ...(action ? { action } : {}) } : { kind, ...explain(what) };
  };

  dismiss() {
    this.current = null;
  }
}
