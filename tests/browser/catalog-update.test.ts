/**
 * A catalog that changes, in a real browser: a snapshot built from 120 real webtoons and updated twice with
 * `npm run snapshot -- --update` (titles added, edited, removed). The open app notices the new version and loads
 * it from the update's delta (never items.json or a space again); the reader's history keeps every title, and the
 * removed ones say "no longer in the catalog"; #/catalog pages, sorts and filters the titles and lists the changes;
 * the widget on a foreign page tells its host what the update changed.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cp, mkdir, mkdtemp, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launch, serveDist, trackErrors } from './harness.ts';
import { serve, type Served } from '../../scripts/serve.ts';
import { makeSnapshot } from '../../scripts/snapshot.ts';
import { updateSnapshot } from '../../scripts/update-snapshot.ts';
import type { Manifest } from '../../src/core/snapshot/format.ts';

const webtoons = path.resolve(import.meta.dirname, '../../../shared/data/webtoons');
type Line = { id: string; title: string; synopsis: string; genres: string[]; cover: string; likes?: number };

let browser: Browser;
let server: Awaited<ReturnType<typeof serveDist>>;
let host: Served;
let work: string;
let all: Line[];
const versions: string[] = [];
const manifests: Manifest[] = [];

async function source(dir: string, lines: Line[]) {
  await mkdir(path.join(dir, 'thumbnails'), { recursive: true });
  for (const l of lines) await cp(path.join(webtoons, l.cover), path.join(dir, l.cover));
  await writeFile(path.join(dir, 'catalog.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
}

/**
 * Publishes a version at the served snapshot URL as an operator's deploy does: at once (a link renamed over the old
 * one), so that no request finds the folder half copied (a copy over the old folder let any request in that window,
 * a cover of a title both versions have, answer 404).
 */
async function publish(k: number) {
  const link = path.join(server.root, 'weekly');
  await rm(`${link}.next`, { force: true });
  await symlink(versions[k], `${link}.next`);
  await rename(`${link}.next`, link);
}

beforeAll(async () => {
  [browser, server] = await Promise.all([launch(), serveDist()]);
  work = await mkdtemp(path.join(tmpdir(), 'toonpick-weekly-'));
  all = (await readFile(path.join(webtoons, 'catalog.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Line);
  const week1 = all.slice(0, 120);
  // Week 2: titles 3 and 7 end, title 0's synopsis and title 1's cover change, three new titles, counts move.
  const week2: Line[] = week1.filter((_, i) => i !== 3 && i !== 7).map((l) => ({ ...l, likes: (l.likes ?? 0) + 5 }));
  week2[0] = { ...week2[0], synopsis: `${week2[0].synopsis} 2부 연재 시작!` };
  week2[1] = { ...week2[1], cover: all[130].cover };
  week2.push(...all.slice(120, 123));
  // Week 3: one more title ends, one is new.
  const week3 = [...week2.filter((l) => l.id !== all[10].id), all[123]];
  for (const [k, lines] of [week1, week2, week3].entries()) await source(path.join(work, `src${k + 1}`), lines);
  versions.push(path.join(work, 'v1'), path.join(work, 'v2'), path.join(work, 'v3'));
  await makeSnapshot({ source: path.join(work, 'src1'), out: versions[0] });
  await updateSnapshot({ snapshot: versions[0], source: path.join(work, 'src2'), out: versions[1] });
  await updateSnapshot({ snapshot: versions[1], source: path.join(work, 'src3'), out: versions[2] });
  for (const v of versions) manifests.push(JSON.parse(await readFile(path.join(v, 'manifest.json'), 'utf8')));
  await publish(0);
  // The widget's host: another origin.
  const hostDir = path.join(work, 'host');
  await mkdir(hostDir);
  const origin = server.url.replace(/\/$/, '');
  await writeFile(path.join(hostDir, 'host.js'), `window.__events = []; document.addEventListener('toonpick:ready', (e) => window.__events.push(e.detail));`);
  await writeFile(
    path.join(hostDir, 'index.html'),
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><script type="module" src="host.js"></script><script type="module" src="${origin}/widget/toonpick-widget.js"></script></head>` +
      `<body><toonpick-recs catalog="${origin}/weekly/" count="4" lang="en"></toonpick-recs></body></html>`,
  );
  host = await serve(hostDir);
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.dispose();
  await host?.close();
  await rm(work, { recursive: true, force: true });
});

/** Snapshot files the page itself downloaded (not the service worker), with their sizes. */
function snapshotRequests(ctx: BrowserContext): Array<{ path: string; bytes: Promise<number> }> {
  const seen: Array<{ path: string; bytes: Promise<number> }> = [];
  ctx.on('response', (r) => {
    const url = r.url();
    if (!url.includes('/weekly/') || r.request().serviceWorker() || r.status() === 304) return;
    seen.push({ path: url.slice(url.indexOf('/weekly/') + '/weekly/'.length), bytes: r.body().then((b) => b.byteLength, () => 0) });
  });
  return seen;
}

const notCovers = (paths: string[]) => paths.filter((p) => !p.startsWith('covers'));

async function like(page: Page, id: string) {
  await page.goto(`${server.url}?snapshot=weekly/#/title/${id}`);
  await page.getByTestId('act-like').click();
  await page.locator('[data-testid="act-like"][aria-pressed="true"]').waitFor();
}

describe('a catalog updated twice', () => {
  it('is noticed by the open app, loaded from the delta, and keeps the reader\'s history', async () => {
    const ctx = await browser.newContext({ locale: 'en-US' });
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    const requests = snapshotRequests(ctx);
    // Every 404, from the start: after each publish, until the page has the new version, it may still draw a cover
    // of a title that version removed or changed, which the server no longer has (how often depends on timing).
    const notFound: string[] = [];
    ctx.on('response', (r) => {
      if (r.status() === 404) notFound.push(new URL(r.url()).pathname);
    });
    await page.goto(`${server.url}?snapshot=weekly/#/`);
    await page.getByTestId('card').first().waitFor();
    await like(page, all[3].id); // ends in week 2
    await like(page, all[5].id);
    expect(notCovers(requests.map((r) => r.path))).toContain('items.json');

    // The operator publishes week 2; the reader comes back to the tab.
    await publish(1);
    requests.length = 0;
    await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    await page.getByTestId('catalog-new-version').waitFor();
    await page.getByTestId('catalog-load-new').click();
    const notice = page.getByTestId('notice');
    await notice.waitFor();
    expect(await notice.textContent()).toContain('The catalog was updated (120 → 121 titles). 1 titles in your history are no longer listed');
    expect(await notice.textContent()).toContain('This update: 3 new, 2 changed, 2 removed.');
    const fetched = notCovers(requests.map((r) => r.path));
    // manifest.json (the check, and the load) and the delta: no items.json, no space, no encoder file again.
    const delta = manifests[1].changes!.delta!.file;
    expect(fetched.filter((p) => p !== 'manifest.json')).toEqual([delta]);
    // Covers are counted apart: how many new cards get drawn before the check depends on timing, not on the update.
    const sizes = await Promise.all(requests.map(async (r) => ({ cover: r.path.startsWith('covers'), bytes: await r.bytes })));
    const sum = (cover: boolean) => sizes.filter((s) => s.cover === cover).reduce((a, s) => a + s.bytes, 0);
    const bytes = sum(false);
    const changedFiles = Object.keys(manifests[1].changes!.delta!.patches).reduce((s, p) => s + manifests[1].files[p].bytes, 0);
    console.log(`update 1: ${(bytes / 1024).toFixed(1)} KiB on the wire (manifest and delta; plus ${(sum(true) / 1024).toFixed(1)} KiB of ${requests.length - fetched.length} new covers) instead of ${(changedFiles / 1024).toFixed(1)} KiB of changed files`);
    expect(bytes).toBeLessThan(changedFiles / 3);

    // The history keeps both titles; the one that ended says so, by name.
    await notice.getByTestId('notice-action').click();
    await page.getByTestId('catalog-page').waitFor();
    await page.goto(`${server.url}?snapshot=weekly/#/history`);
    const gone = page.locator(`[data-testid="history-entry"][data-id="${all[3].id}"]`);
    await gone.getByTestId('gone').waitFor();
    expect(await gone.textContent()).toContain(all[3].title);
    await page.locator(`[data-testid="history-entry"][data-id="${all[5].id}"] a`).waitFor();

    // Up to here only covers may have been missing (of the titles week 2 removed, or whose cover it changed).
    expect(notFound.filter((p) => !p.startsWith('/weekly/covers/'))).toEqual([]);
    // Week 3, opened in a new visit: the notice names this update's changes, and the delta is all it downloads.
    // Until the page has the new version it shows week 2's titles, whose covers the server may no longer have: a
    // cover of the title this update removed may answer 404; nothing else may.
    const before = notFound.length;
    await publish(2);
    requests.length = 0;
    await page.goto(`${server.url}?snapshot=weekly/#/for-you`);
    await page.reload();
    await notice.waitFor();
    expect(await notice.textContent()).toContain('This update: 1 new, 0 changed, 1 removed.');
    expect(notCovers(requests.map((r) => r.path)).filter((p) => p !== 'manifest.json')).toEqual([manifests[2].changes!.delta!.file]);
    expect(notFound.slice(before).filter((p) => !(p.includes('/weekly/covers') && p.includes(all[10].id)))).toEqual([]);
    // The page's only errors are those 404s.
    const missing = 'Failed to load resource: the server responded with a status of 404 (Not Found)';
    expect(errors.filter((e) => e !== missing)).toEqual([]);
    expect(errors.length).toBeLessThanOrEqual(notFound.length);
    await ctx.close();
  }, 120_000);

  it('lists the titles on #/catalog with paging, sorting and filters, and what the last update changed', async () => {
    await publish(1);
    const ctx = await browser.newContext({ locale: 'ko-KR' });
    const page = await ctx.newPage();
    await page.goto(`${server.url}?snapshot=weekly/#/catalog`);
    await page.getByTestId('catalog-page').waitFor();
    const changes = page.getByTestId('catalog-changes');
    expect(await changes.getByTestId('changes-added').locator('li').allTextContents()).toEqual(all.slice(120, 123).map((l) => l.title));
    expect(await changes.getByTestId('changes-changed').locator('li').allTextContents()).toEqual([all[0].title, all[1].title]);
    expect(await changes.getByTestId('changes-removed').locator('li').allTextContents()).toEqual([all[3].title, all[7].title]);
    expect(await page.getByTestId('catalog-version').textContent()).toBe(manifests[1].contentHash.slice(0, 12));

    // 121 titles, 50 a page.
    const rows = page.getByTestId('catalog-row');
    expect(await rows.count()).toBe(50);
    expect(await page.getByTestId('catalog-page-number').textContent()).toBe('3쪽 중 1쪽');
    await page.getByTestId('catalog-next').click();
    await page.getByTestId('catalog-next').click();
    expect(await rows.count()).toBe(21);
    expect(await page.getByTestId('catalog-next').isDisabled()).toBe(true);

    // New and changed first, with their badges; then only the new ones; then a text filter.
    await page.getByTestId('catalog-sort').selectOption('new-first');
    expect(await page.getByTestId('catalog-page-number').textContent()).toBe('3쪽 중 1쪽');
    const first = await rows.evaluateAll((els) => els.slice(0, 5).map((e) => e.getAttribute('data-id')));
    expect(first).toEqual([...all.slice(120, 123), all[0], all[1]].map((l) => l.id));
    expect(await page.getByTestId('badge-new').count()).toBe(3);
    expect(await page.getByTestId('badge-changed').count()).toBe(2);
    await page.getByTestId('catalog-show').selectOption('new');
    expect(await rows.count()).toBe(3);
    await page.getByTestId('catalog-show').selectOption('all');
    await page.getByTestId('catalog-sort').selectOption('title');
    const titles = await rows.evaluateAll((els) => els.map((e) => e.querySelector('a')!.textContent!));
    expect(titles).toEqual([...titles].sort((a, b) => a.localeCompare(b, 'ko')));
    await page.getByTestId('catalog-filter').fill(all[50].title);
    expect(await rows.evaluateAll((els) => els.map((e) => e.getAttribute('data-id')))).toContain(all[50].id);
    await page.getByTestId('catalog-filter').fill('');
    const genre = all[50].genres[0];
    await page.getByTestId('catalog-genre').selectOption(genre);
    const count = await page.getByTestId('catalog-count').textContent();
    const expected = all.slice(0, 123).filter((l, i) => i !== 3 && i !== 7 && l.genres.includes(genre)).length;
    expect(count).toContain(`${expected}개 중`);
    // The footer links here from every page.
    await page.goto(`${server.url}?snapshot=weekly/#/`);
    await page.getByTestId('catalog-link').click();
    await page.getByTestId('catalog-page').waitFor();
    await ctx.close();
  }, 60_000);

  it('tells the widget\'s host page what the update changed, and rebuilds its files from the delta', async () => {
    await publish(1);
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const requests = snapshotRequests(ctx);
    await page.goto(`${host.url}index.html`);
    await page.waitForFunction(() => (window as any).__events?.length > 0);
    const ready1 = await page.evaluate(() => (window as any).__events[0]);
    expect(ready1).toMatchObject({ count: 4, version: manifests[1].contentHash });
    expect(ready1.updated).toBeUndefined();

    await publish(2);
    requests.length = 0;
    await page.reload();
    await page.waitForFunction(() => (window as any).__events?.length > 0);
    const ready2 = await page.evaluate(() => (window as any).__events[0]);
    expect(ready2).toMatchObject({ version: manifests[2].contentHash, updated: { from: manifests[1].contentHash, added: 1, changed: 0, removed: 1 } });
    expect(notCovers(requests.map((r) => r.path)).sort()).toEqual(['manifest.json', manifests[2].changes!.delta!.file].sort());
    await ctx.close();
  }, 60_000);
});
