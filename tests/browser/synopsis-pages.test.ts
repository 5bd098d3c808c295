/**
 * Synopses kept out of items.json, in pages (manifest.details), in a real browser: the first cards need none of
 * them; a title page downloads the page that holds its synopsis and says so when it cannot (offline, in the
 * reader's language, the file behind Details) and gets it on the next visit; the first search loads every page.
 * The demo snapshot, re-paged at 100 titles a page (10 pages) and re-signed.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cp, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { repageSynopses } from '../unit/helpers/repage.ts';
import { launch, serveDist, trackErrors } from './harness.ts';

let browser: Browser;
let server: Awaited<ReturnType<typeof serveDist>>;
let items: Array<{ id: string; title: string }>;
let synopses: string[];
const PAGE = 100;

beforeAll(async () => {
  [browser, server] = await Promise.all([launch(), serveDist()]);
  const dir = path.join(server.root, 'paged');
  await cp(path.join(server.root, 'snapshot'), dir, { recursive: true });
  items = JSON.parse(await readFile(path.join(dir, 'items.json'), 'utf8'));
  synopses = await repageSynopses(dir, PAGE);
});
afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

describe('synopsis pages', () => {
  it('first cards need no page; a title page gets its own page, says when it cannot, and search loads them all', async () => {
    expect(items.every((t) => !('synopsis' in t))).toBe(true);
    const ctx = await browser.newContext({ locale: 'ko-KR' });
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    const pages: string[] = [];
    ctx.on('requestfinished', (r) => {
      const m = /\/paged\/(details\/[^?]+)/.exec(r.url());
      if (m) pages.push(m[1]);
    });
    // Offline for synopses only: the app still opens and ranks.
    await ctx.route('**/paged/details/**', (route) => route.abort('internetdisconnected'));
    const at = `${server.url}?snapshot=./paged/`;
    await page.goto(`${at}#/`);
    await page.getByTestId('card').first().waitFor();
    const row = 250; // page 2
    await page.goto(`${at}#/title/${encodeURIComponent(items[row].id)}`);
    const failed = page.getByTestId('synopsis-error');
    await failed.waitFor();
    expect(await failed.textContent()).toContain('줄거리를 불러오지 못했습니다');
    await failed.getByTestId('details').locator('summary').click();
    expect(await failed.getByTestId('details').textContent()).toContain('details/synopses-2.json');

    // Back online: the next title of that page shows its synopsis, from that page alone.
    await ctx.unroute('**/paged/details/**');
    expect(pages).toEqual([]); // none arrived while offline
    await page.goto(`${at}#/title/${encodeURIComponent(items[row + 1].id)}`);
    await page.getByTestId('synopsis').waitFor();
    expect(await page.getByTestId('synopsis').textContent()).toBe(synopses[row + 1]);
    expect(pages).toContain('details/synopses-2.json');

    // Search: a word only a synopsis on the last page has.
    const last = synopses.length - 1;
    const word = synopses[last].split(/\s+/).find((w) => w.length >= 3 && synopses.filter((s) => s.includes(w)).length === 1);
    expect(word).toBeTruthy();
    await page.goto(`${at}#/search/${encodeURIComponent(word!)}`);
    await page.locator('[data-testid="search-notice"][data-mode="keyword"][data-loading="false"]').waitFor();
    const ids = await page.getByTestId('search-result').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    expect(ids).toContain(items[last].id);
    expect(new Set(pages).size).toBe(10);
    expect(errors.filter((e) => !/Failed to load resource|ERR_INTERNET_DISCONNECTED/.test(e))).toEqual([]);
    await ctx.close();
  });
});
