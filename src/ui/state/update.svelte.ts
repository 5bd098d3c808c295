/** A new app version (service worker, src/app/pwa.ts): announced, and applied only when the reader asks. */
import { registerServiceWorker, type PwaHandle } from '../../app/pwa.ts';

export class AppUpdate {
  /** A new app version is installed and waits for the reader's reload. */
  ready = $state(false);
  private pwa: PwaHandle | null = null;

  start() {
    this.pwa = registerServiceWorker(() => (this.ready = true));
  }

  apply() {
    this.pwa?.applyUpdate();
  }
}
