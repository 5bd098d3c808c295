/**
 * The reader's history store read and written directly in the page's IndexedDB, around the app: what a test needs
 * to check what is really stored, or to leave behind what a bug, an extension or a newer version could.
 */
import type { Page } from 'playwright-core';

/** Every history entry exactly as IndexedDB holds it. */
export async function storedHistory(page: Page): Promise<unknown[]> {
  return page.evaluate(
    () =>
      new Promise<unknown[]>((resolve, reject) => {
        const req = indexedDB.open('toonpick');
        req.onsuccess = () => {
          const all = req.result.transaction('history').objectStore('history').getAll();
          all.onsuccess = () => {
            req.result.close();
            resolve(all.result);
          };
          all.onerror = () => reject(all.error);
        };
        req.onerror = () => reject(req.error);
      }),
  );
}

/** Puts these values into the history store as they are, unchecked, in one transaction. */
export async function putRawHistory(page: Page, entries: unknown[]): Promise<void> {
  await page.evaluate(
    (entries) =>
      new Promise<void>((resolve, reject) => {
        const req = indexedDB.open('toonpick');
        req.onsuccess = () => {
          const tx = req.result.transaction('history', 'readwrite');
          for (const e of entries) tx.objectStore('history').put(e);
          tx.oncomplete = () => {
            req.result.close();
            resolve();
          };
          tx.onerror = () => reject(tx.error);
        };
        req.onerror = () => reject(req.error);
      }),
    entries,
  );
}
