/**
 * Story meaning in For you, in the built app with the tiny fixture model served from our origin: the reader opts
 * in under Settings (after seeing the download size), the text worker embeds the catalog's synopses in batches
 * cached in IndexedDB, and the `sts` space then joins For you and the title page's why chart. A reload uses the
 * cached vectors without starting the text worker; a reload in the middle of the pass resumes it; turning it
 * off takes the space out again and keeps it off.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cp } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launch, repoRoot, serveDist, trackErrors, trackRequests } from './harness.ts';

let browser: Browser;
let server: Awaited<ReturnType<typeof serveDist>>;
const TINY = '?textModel=toonpick/tiny-bert&textDtype=fp32';
const TITLES = 969;

beforeAll(async () => {
  [browser, server] = await Promise.all([launch(), serveDist()]);
  await cp(path.join(repoRoot, 'tests/fixtures/models/toonpick/tiny-bert'), path.join(server.root, 'models/toonpick/tiny-bert'), { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

/** How many records an object store of the app's database holds. */
const idbCount = (page: Page, store: string) =>
  page.evaluate(
    (store) =>
      new Promise<number>((resolve, reject) => {
        const req = indexedDB.open('toonpick');
        req.onsuccess = () => {
          const count = req.result.transaction(store).objectStore(store).count();
          count.onsuccess = () => {
            resolve(count.result);
            req.result.close();
          };
          count.onerror = () => reject(count.error);
        };
        req.onerror = () => reject(req.error);
      }),
    store,
  );

/** Counts the text workers the page starts (the model and every embedding run in one). */
function countTextWorkers(page: Page): { started: number } {
  const c = { started: 0 };
  page.on('worker', (w) => { if (w.url().includes('text.worker')) c.started++; });
  return c;
}

const go = (page: Page, hash: string) => page.evaluate((h) => { location.hash = h; }, hash);
const settings = (page: Page) => page.getByTestId('sts-settings');
const stateIs = (page: Page, state: string, timeout = 30_000) => page.locator(`[data-testid="sts-settings"][data-state="${state}"]`).waitFor({ timeout });
const attr = async (page: Page, name: string) => Number(await settings(page).getAttribute(name));

async function likeFirstTitles(page: Page, n: number) {
  await go(page, '#/');
  await page.getByTestId('card').first().waitFor();
  const ids = (await page.getByTestId('card').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!))).slice(0, n);
  for (const id of ids) {
    await go(page, `#/title/${encodeURIComponent(id)}`);
    await page.getByTestId('act-like').click();
    await page.locator('[data-testid="act-like"][aria-pressed="true"]').waitFor();
  }
}

/** The spaces For you fused for this reader (data-spaces on the page). */
async function forYouSpaces(page: Page, has: string): Promise<string[]> {
  await go(page, '#/for-you');
  const section = page.locator(`[data-testid="for-you"][data-spaces~="${has}"]`);
  await section.waitFor();
  return (await section.getAttribute('data-spaces'))!.split(' ');
}

/** Opts in from Settings: the size is shown first, then the download and the pass start. */
async function optIn(page: Page) {
  await go(page, '#/settings');
  await stateIs(page, 'off');
  await page.getByTestId('sts-enable').click();
  const size = page.getByTestId('sts-size');
  await size.waitFor();
  await page.getByTestId('sts-confirm').click();
  return size;
}

describe('story meaning in For you', () => {
  it('after opting in, sts joins For you and the why chart; a reload reuses the vectors without the model', async () => {
    const ctx = await browser.newContext({ locale: 'en-US' });
    const requests = trackRequests(ctx);
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    const workers = countTextWorkers(page);
    await page.goto(`${server.url}${TINY}`);
    await likeFirstTitles(page, 3);
    const before = await forYouSpaces(page, 'genre');
    expect(before).not.toContain('sts');
    expect(workers.started).toBe(0); // nothing is downloaded or embedded before the reader asks

    // Settings says how much the model weighs before anything is downloaded (the fixture's files, self-hosted).
    await go(page, '#/settings');
    await stateIs(page, 'off');
    await page.getByTestId('sts-enable').click();
    const size = page.getByTestId('sts-size');
    await size.waitFor();
    expect(await size.textContent()).toMatch(/The text model toonpick\/tiny-bert is a [\d.,]+ (kB|MB) download/);
    expect(workers.started).toBe(0);
    await page.getByTestId('sts-confirm').click();
    // Progress: model download, then synopses read, each with a labelled progress bar.
    await page.locator('[data-testid="sts-settings"][data-state="model"], [data-testid="sts-settings"][data-state="catalog"], [data-testid="sts-settings"][data-state="ready"]').first().waitFor();
    await stateIs(page, 'ready', 120_000);
    expect(await attr(page, 'data-embedded')).toBe(TITLES);
    expect(await attr(page, 'data-done')).toBe(TITLES);
    expect(await idbCount(page, 'vectors')).toBe(TITLES);
    expect(workers.started).toBe(1);
    expect(await page.getByTestId('sts-status').textContent()).toContain('story meaning of 969 synopses');

    // For you now fuses the sts space too, and a recommended title's why chart shows it.
    const after = await forYouSpaces(page, 'sts');
    expect(after).toEqual(expect.arrayContaining([...before, 'sts']));
    const top = await page.getByTestId('card').first().getAttribute('data-id');
    await go(page, `#/title/${encodeURIComponent(top!)}`);
    await page.getByTestId('why-chart').waitFor();
    expect(await page.locator('[data-testid="why-value"][data-space="sts"]').count()).toBe(1);
    expect(await page.getByTestId('why-chart').textContent()).toContain('story meaning');

    // A reload: the choice and the vectors are in IndexedDB, so the space is back with no model and no embedding.
    const started = workers.started;
    await page.reload();
    expect(await forYouSpaces(page, 'sts')).toEqual(after);
    await go(page, '#/settings');
    await stateIs(page, 'ready');
    expect(await attr(page, 'data-embedded')).toBe(0);
    expect(await attr(page, 'data-resumed-from')).toBe(TITLES);
    expect(workers.started).toBe(started);
    expect(await idbCount(page, 'vectors')).toBe(TITLES);

    const foreign = requests.filter((u) => !u.startsWith(server.url) && !u.startsWith('blob:') && !u.startsWith('data:'));
    expect(foreign).toEqual([]);
    expect(errors).toEqual([]);
    await ctx.close();
  }, 300_000);

  it('resumes after a reload in the middle of the pass, and stays off once turned off', async () => {
    const ctx = await browser.newContext({ locale: 'en-US' });
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    const workers = countTextWorkers(page);
    // One synopsis per worker call: the pass takes long enough to be interrupted after a few batches.
    await page.goto(`${server.url}${TINY}&textBatch=1`);
    await likeFirstTitles(page, 3);
    await optIn(page);
    await page.waitForFunction(() => Number(document.querySelector('[data-testid="sts-settings"]')?.getAttribute('data-done') || 0) >= 5, undefined, { timeout: 120_000 });
    await page.reload();

    // The reader opted in before: the pass resumes by itself from the batches already cached.
    await stateIs(page, 'ready', 180_000);
    const resumedFrom = await attr(page, 'data-resumed-from');
    expect(resumedFrom).toBeGreaterThanOrEqual(5);
    expect(resumedFrom).toBeLessThan(TITLES);
    expect(await attr(page, 'data-embedded')).toBe(TITLES - resumedFrom);
    expect(await idbCount(page, 'vectors')).toBe(TITLES);
    expect(await forYouSpaces(page, 'sts')).toContain('sts');

    // Turning it off takes sts out of For you, and a reload keeps it out without starting the text worker.
    await go(page, '#/settings');
    await page.getByTestId('sts-disable').click();
    await stateIs(page, 'off');
    expect(await forYouSpaces(page, 'genre')).not.toContain('sts');
    const started = workers.started;
    await page.reload();
    expect(await forYouSpaces(page, 'genre')).not.toContain('sts');
    await go(page, '#/settings');
    await stateIs(page, 'off');
    expect(workers.started).toBe(started);
    expect(errors).toEqual([]);
    await ctx.close();
  }, 300_000);
});
