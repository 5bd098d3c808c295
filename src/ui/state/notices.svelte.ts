/**
 * The one notice bar under the header (App.svelte, data-testid="notice"), and the one way to put something in it:
 * `notify(error | message, kind)`. An Error (or anything thrown) shows its message; a string shows as it is.
 */
import { StoreError } from '../../store/db.ts';
import { strings } from '../i18n.svelte.ts';

type NoticeKind = 'ok' | 'error';

/** What a module that can tell the reader something is handed: `notify(e)` for an error, `notify(text, 'ok')` for news. */
export type Notify = (what: unknown, kind?: NoticeKind) => void;

/**
 * The message of anything a `catch` receives (an Error, a DOMException, or a thrown string). A store failure is
 * worded in the reader's language (its English message is for logs).
 */
export function messageOf(e: unknown): string {
  if (e instanceof StoreError) return strings.storeError(e.reason, e.doing);
  return typeof e === 'object' && e !== null && 'message' in e ? String(e.message) : String(e);
}

export class Notices {
  /** What the bar shows; null when there is nothing (or the reader dismissed it). */
  current = $state<{ kind: NoticeKind; text: string } | null>(null);

  readonly notify: Notify = (what, kind = 'error') => {
    this.current = { kind, text: typeof what === 'string' ? what : messageOf(what) };
  };

  dismiss() {
    this.current = null;
  }
}
