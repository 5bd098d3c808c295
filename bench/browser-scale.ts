/**
 * The built app (dist/, `npm run build` first) on synthetic platform-scale catalogs in headless Chromium, served
 * on loopback by scripts/serve.ts: what a reader waits for and what the page's thread does.
 * - first recommendations, cold (nothing cached, HTTP cache off) and warm (the snapshot's files in the file
 *   cache, only manifest.json revalidated): navigation to the frame that draws the first For you card, for a reader
 *   with 3 likes;
 * - the longest main-thread task between navigation and those cards (PerformanceObserver `longtask`, ≥ 50 ms;
 *   0 when there was none), and the longest of those that began while the reader's ranking was computed (the app's
 *   `toonpick:ranking` measure, from the start of the ranking to its first list; the tasks before it are the page's
 *   start-up and the snapshot's load);
 * - the renderer's peak resident memory (VmHWM of Chromium's renderer processes, which host the page and its
 *   workers) during one visit: each visit (the reader's likes, then the warm one, then the cold one) is a fresh
 *   browser on the same profile folder, so a peak is one visit's, not the sum of every load before it in a reused
 *   renderer.
 * - the same: the page those cards were on, saved as static HTML (its scripts taken out, its style sheet kept) and
 *   opened in a fresh browser: what the browser itself takes to draw those cards, with none of the app's work — the
 *   floor under the app's longest task (on this machine, a first layout of two dozen cards of Korean text is one
 *   task of 55–120 ms: the fonts for Hangul are looked up and shaped, character by character).
 * The demo catalog (969 titles) is the baseline of the ratios. `npm run bench -- --only browser --titles 10000,100000
 * [--visits N]`: N warm and N cold visits per catalog (default 1), times as medians, longest task and peak as maxima.
 * Two rows first say how dear fresh memory is on this machine (in Node): 256 MiB touched for the first time, against
 * the same memory touched again. Where each page fault is slow (a virtual machine's), a browser that starts, loads
 * and draws runs slower for it, and these visits with it (README, Benchmarks).
 */
import { mkdtemp, readdir, readFile, rm, symlink, cp, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { clearSnapshotFiles, launchPersistent, repoRoot } from '../tests/browser/harness.ts';
import { serve } from '../scripts/serve.ts';
import { syntheticSnapshot } from './scale.ts';
import type { BenchRow } from './lib.ts';

interface Proc { pid: number; ppid: number; cmd: string; hwmKiB: number }

async function processes(): Promise<Proc[]> {
  const out: Proc[] = [];
  for (const pid of await readdir('/proc').catch(() => [])) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const ppid = Number(/PPid:\s+(\d+)/.exec(status)?.[1] ?? 0);
    out.push({ pid: Number(pid), ppid, cmd, hwmKiB: Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? 0) });
  }
  return out;
}

/** Peak resident memory (MiB) of the renderer processes under the browser processes in `browsers`. */
async function rendererPeakMiB(browsers: ReadonlySet<number>): Promise<number> {
  const all = await processes();
  const parent = new Map(all.map((p) => [p.pid, p.ppid]));
  const ours = (pid: number) => {
    for (let p = pid, hops = 0; p > 1 && hops < 16; p = parent.get(p) ?? 0, hops++) if (browsers.has(p)) return true;
    return false;
  };
  const peaks = all.filter((p) => p.cmd.includes('--type=renderer') && ours(p.pid)).map((p) => p.hwmKiB / 1024);
  return Math.max(0, ...peaks);
}

const LONG_TASKS = `
  window.__longTasks = [];
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longTasks.push({ start: e.startTime, duration: e.duration }); })
    .observe({ type: 'longtask', buffered: true });
  // The frame that draws the first For you card: the page's thread may be busy long after it (the titles coming in
  // behind the first cards), so a check from outside the page would come late.
  new MutationObserver((_, seen) => {
    if (!document.querySelector('[data-testid="for-you"] [data-testid="card"]')) return;
    seen.disconnect();
    requestAnimationFrame(() => (window.__firstCardAt = performance.now()));
  }).observe(document, { subtree: true, childList: true });
`;

/**
 * Navigates to For you and answers ms to the frame that drew the first card, the longest task before it, and the longest task while
 * the reader's ranking was computed (the app's `toonpick:ranking` measure: its steps on the page's thread).
 */
async function firstCards(page: Page, url: string): Promise<{ ms: number; longest: number; rankingLongest: number }> {
  await page.goto(url);
  await page.getByTestId('card').first().waitFor({ timeout: 120_000 });
  await page.waitForFunction('window.__firstCardAt !== undefined');
  // A string, not a function: the bench runs under tsx, whose helpers (__name) do not exist in the page.
  return page.evaluate(`(() => {
    const at = window.__firstCardAt;
    const tasks = window.__longTasks.filter((t) => t.start < at);
    const ranking = performance.getEntriesByName('toonpick:ranking').filter((m) => m.startTime < at);
    // Tasks that began after the ranking did: the one that started it (a redraw as the catalog arrives) is not its work.
    const during = ranking.flatMap((m) => tasks.filter((t) => t.start >= m.startTime && t.start < m.startTime + m.duration));
    return { ms: at, longest: Math.max(0, ...tasks.map((t) => t.duration)), rankingLongest: Math.max(0, ...during.map((t) => t.duration)) };
  })()`);
}

/**
 * What the reader does once the cards are there, measured in the page from the event to the frame after the page
 * answered it, with the longest task meanwhile:
 * - the Surprise slider moved to each of `levels` in turn (the ranking is kept: only a shortlist is reordered): the
 *   input event to the cards re-ranked, updated and laid out (Svelte's update, then a forced layout), without the
 *   wait for the next frame;
 * - the first card's title page opened: the hash change to the frame after the one that drew its "More like this";
 * - a like on that title page, then For you again: the history is written, the whole catalog ranked
 *   again (in steps on the page's thread) and the new first cards drawn, none of them the liked title: the click to
 *   the frame after the one that drew them;
 * - a search for the first new card's title, the first on this page: the hash change to the frame after the
 *   results (the synopses are downloaded, where the catalog keeps them apart, and the keyword index is made);
 * - Browse, its filter typed into (the first two characters of that title), each keystroke's input event to the
 *   list updated and laid out, as for the slider.
 */
async function interactions(page: Page, levels: number[]): Promise<{ slider: number[]; title: number; titleLongest: number; like: number; search: number; searchLongest: number; typing: number[]; typingLongest: number; longest: number }> {
  // A string, not a function: the bench runs under tsx, whose helpers (__name) do not exist in the page.
  return page.evaluate(`(${INTERACTIONS})(${JSON.stringify(levels)})`);
}

const INTERACTIONS = `async (levels) => {
  const frame = () => new Promise((r) => requestAnimationFrame(() => r()));
  const task = () => new Promise((r) => { const c = new MessageChannel(); c.port1.onmessage = () => r(); c.port2.postMessage(0); });
  const shown = () => [...document.querySelectorAll('[data-testid="for-you"] [data-testid="card"]')].map((e) => e.getAttribute('data-id'));
  const until = async (ok, what) => {
    for (const limit = performance.now() + 120000; !ok(); await frame()) if (performance.now() > limit) throw new Error('timed out waiting for ' + what);
  };
  // The cards at that Surprise level drawn (For you's data-level: a list computed off the page's thread arrives after
  // the input event). A build from before data-level re-ranked within the input event's task.
  const levelShown = (level) => new Promise((resolve) => {
    const section = document.querySelector('[data-testid="for-you"]');
    if (!section.hasAttribute('data-level')) return task().then(resolve);
    const ok = () => Math.abs(Number(section.getAttribute('data-level')) - level) < 1e-9;
    if (ok()) return resolve();
    const watch = new MutationObserver(() => ok() && (watch.disconnect(), resolve()));
    watch.observe(section, { attributes: true, attributeFilter: ['data-level'] });
  });
  const longestSince = (from, to) => Math.max(0, ...window.__longTasks.filter((t) => t.start + t.duration > from && t.start < to).map((t) => t.duration));
  const t0 = performance.now();
  const slider = [];
  for (const level of levels) {
    const input = document.querySelector('[data-testid="serendipity"]');
    if (!input) throw new Error('no Surprise slider on For you');
    const start = performance.now();
    input.value = String(level);
    input.dispatchEvent(new Event('input', { bubbles: true }));
    await levelShown(level);
    void document.body.offsetHeight;
    slider.push(performance.now() - start);
    await frame();
  }
  const liked = shown()[0];
  if (!liked) throw new Error('no card on For you');
  const openAt = performance.now();
  location.hash = '#/title/' + encodeURIComponent(liked);
  await until(() => !!document.querySelector('section[aria-labelledby="similar-heading"] [data-testid="card"]'), 'More like this');
  await frame();
  await frame();
  const title = performance.now() - openAt;
  const likeAt = performance.now();
  document.querySelector('[data-testid="act-like"]').click();
  location.hash = '#/for-you';
  await until(() => shown().length > 0 && !shown().includes(liked), 'For you without the liked title');
  await frame();
  await frame();
  const like = performance.now() - likeAt;
  const query = document.querySelector('[data-testid="for-you"] [data-testid="card-title"]').textContent.trim();
  const searchAt = performance.now();
  location.hash = '#/search/' + encodeURIComponent(query);
  await until(() => document.querySelector('[data-testid="search-notice"][data-loading="false"]') && document.querySelector('[data-testid="search-result"]'), 'search results');
  await frame();
  await frame();
  const search = performance.now() - searchAt;
  location.hash = '#/';
  await until(() => document.querySelector('[data-testid="title-filter"]'), 'Browse');
  await new Promise((r) => setTimeout(r, 1000)); // Browse prepares its titles in steps as it opens
  const filter = document.querySelector('[data-testid="title-filter"]');
  const typed = query.slice(0, 2);
  const typing = [];
  const typeAt = performance.now();
  for (let n = 1; n <= typed.length; n++) {
    const start = performance.now();
    filter.value = typed.slice(0, n);
    filter.dispatchEvent(new Event('input', { bubbles: true }));
    await task();
    void document.body.offsetHeight;
    typing.push(performance.now() - start);
    await frame();
  }
  const typeEnd = performance.now();
  await new Promise((r) => setTimeout(r, 100)); // the longtask observer reports a task after it ends
  return { slider, title, like, search, typing, titleLongest: longestSince(openAt, openAt + title), searchLongest: longestSince(searchAt, searchAt + search), typingLongest: longestSince(typeAt, typeEnd), longest: longestSince(t0, searchAt) };
}`;

/** Where the page that showed the first cards is saved as static HTML (in the served copy of dist/). */
const STATIC_PAGE = 'first-cards.html';

/** The page as it is drawn now, as static HTML: no script (the app does not start), the same style sheet and text. */
const STATIC_HTML = `(() => {
  const page = document.documentElement.cloneNode(true);
  for (const e of page.querySelectorAll('script, link[rel="modulepreload"], link[rel="manifest"]')) e.remove();
  return '<!doctype html>' + page.outerHTML;
})()`;

/** One visit in a fresh browser on the reader's profile: `run` gets its page; answers its result and the renderers' peak. */
async function visit<T>(profile: string, run: (page: Page, ctx: BrowserContext) => Promise<T>): Promise<T & { peak: number }> {
  const before = new Set((await processes()).map((p) => p.pid));
  const ctx = await launchPersistent(profile, { serviceWorkers: 'block' });
  const browsers = new Set((await processes()).filter((p) => !before.has(p.pid) && p.cmd.includes('chromium') && !p.cmd.includes('--type=')).map((p) => p.pid));
  try {
    await ctx.addInitScript(LONG_TASKS);
    const result = await run(ctx.pages()[0] ?? (await ctx.newPage()), ctx);
    return { ...result, peak: await rendererPeakMiB(browsers) };
  } finally {
    await ctx.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

interface Measured {
  label: string;
  cold: number;
  warm: number;
  longest: number;
  /** The longest task while the first list was ranked (largest). */
  rankingLongest: number;
  peak: number;
  /** The first page as static HTML: navigation to the frame that drew its first card (median), and its longest task (largest). */
  staticPage: number;
  staticLongest: number;
  /** Surprise slider: input event to the cards updated and laid out (median of every move). */
  slider: number;
  /** A title page opened: hash change to the frame after its More like this (median). */
  title: number;
  /** The longest task while a title page opened (largest). */
  titleLongest: number;
  /** A like, then For you: click to the frame after the new first cards (median). */
  like: number;
  /** The first search of a page: hash change to the frame after its results (median). */
  search: number;
  /** The longest task during that search (largest). */
  searchLongest: number;
  /** A keystroke in Browse's filter: input event to the list updated and laid out (median). */
  typing: number;
  /** The longest task while typing (largest). */
  typingLongest: number;
  /** The longest task while the reader moved the slider, opened a title and liked it (largest). */
  actLongest: number;
}

async function measure(snapshotDir: string | null, label: string, visits: number): Promise<Measured> {
  const root = await mkdtemp(path.join(tmpdir(), 'toonpick-browser-bench-'));
  const profile = await mkdtemp(path.join(tmpdir(), 'toonpick-browser-profile-'));
  await cp(path.join(repoRoot, 'dist'), root, { recursive: true });
  if (snapshotDir) await symlink(snapshotDir, path.join(root, 'big'));
  const server = await serve(root);
  try {
    const q = snapshotDir ? '?snapshot=./big/' : '';
    const forYou = `${server.url}${q}#/for-you`;
    const items: Array<{ id: string }> = JSON.parse(await readFile(path.join(snapshotDir ?? path.join(root, 'snapshot'), 'items.json'), 'utf8'));
    // The reader: three likes (the title page's button); then For you once, which leaves the files in the file cache.
    await visit(profile, async (page) => {
      for (const t of items.slice(1, 4)) {
        await page.goto(`${server.url}${q}#/title/${encodeURIComponent(t.id)}`);
        await page.getByTestId('act-like').click({ timeout: 120_000 });
        await page.locator('[data-testid="act-like"][aria-pressed="true"]').waitFor();
      }
      const first = await firstCards(page, forYou);
      await writeFile(path.join(root, STATIC_PAGE), await page.evaluate(STATIC_HTML));
      return first;
    });
    // Each visit first opens a small file of the origin, so that the browser's own start-up is not counted.
    const warmVisit = () =>
      visit(profile, async (page) => {
        await page.goto(`${server.url}manifest.webmanifest`);
        return firstCards(page, forYou);
      });
    // Cold: no file cache and no HTTP cache, so every byte comes over loopback again.
    const coldVisit = () =>
      visit(profile, async (page, ctx) => {
        await page.goto(`${server.url}manifest.webmanifest`);
        await clearSnapshotFiles(page);
        const cdp = await ctx.newCDPSession(page);
        await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
        return firstCards(page, forYou);
      });
    // `--visits N`: N of each, warm and cold in turn (a cold visit leaves the files cached again); times are medians.
    const warm = [], cold = [];
    for (let i = 0; i < visits; i++) {
      warm.push(await warmVisit());
      cold.push(await coldVisit());
    }
    const still = [];
    for (let i = 0; i < visits; i++) still.push(await visit(profile, async (page) => (await page.goto(`${server.url}manifest.webmanifest`), firstCards(page, server.url + STATIC_PAGE))));
    const all = [...warm, ...cold];
    // Then, in warm visits of their own (their likes add to the history, and their peaks are not the load's), what
    // the reader does on the cards: the slider from the default level to each end and back, and a like.
    const acts = [];
    // They begin once the whole catalog is in (the footer's link to it): a large catalog's first cards come before its titles.
    for (let i = 0; i < visits; i++) acts.push(await visit(profile, async (page) => (await firstCards(page, forYou), await page.getByTestId('catalog-link').waitFor({ timeout: 120_000 }), interactions(page, [0, 1, 0.5, 0]))));
    return {
      label,
      cold: median(cold.map((v) => v.ms)),
      warm: median(warm.map((v) => v.ms)),
      longest: Math.max(...all.map((v) => v.longest)),
      rankingLongest: Math.max(...all.map((v) => v.rankingLongest)),
      peak: Math.max(...all.map((v) => v.peak)),
      staticPage: median(still.map((v) => v.ms)),
      staticLongest: Math.max(...still.map((v) => v.longest)),
      slider: median(acts.flatMap((a) => a.slider)),
      title: median(acts.map((a) => a.title)),
      titleLongest: Math.max(...acts.map((a) => a.titleLongest)),
      like: median(acts.map((a) => a.like)),
      search: median(acts.map((a) => a.search)),
      searchLongest: Math.max(...acts.map((a) => a.searchLongest)),
      typing: median(acts.flatMap((a) => a.typing)),
      typingLongest: Math.max(...acts.map((a) => a.typingLongest)),
      actLongest: Math.max(...acts.map((a) => a.longest)),
    };
  } finally {
    await server.close();
    await rm(root, { recursive: true, force: true });
    await rm(profile, { recursive: true, force: true });
  }
}

/** Milliseconds to write one byte in every 4 KiB page of 256 MiB of fresh memory, then again (medians of 3). */
function memoryTouch(): { first: number; again: number } {
  const bytes = 256 * 2 ** 20;
  const first: number[] = [];
  const again: number[] = [];
  const touch = (memory: Uint8Array) => {
    const t0 = performance.now();
    for (let i = 0; i < bytes; i += 4096) memory[i] = 1;
    return performance.now() - t0;
  };
  for (let run = 0; run < 3; run++) {
    const memory = new Uint8Array(bytes); // allocated zeroed by the system, its pages given on first touch
    first.push(touch(memory));
    again.push(touch(memory));
  }
  const mid = (xs: number[]) => xs.sort((a, b) => a - b)[1];
  return { first: mid(first), again: mid(again) };
}

export async function browserScaleBench(args: Record<string, string | true | undefined> = {}): Promise<BenchRow[]> {
  if (!existsSync(path.join(repoRoot, 'dist/index.html'))) throw new Error('dist/ is missing: run `npm run build` first');
  const sizes = typeof args.titles === 'string' ? args.titles.split(',').map(Number) : [10_000];
  const visits = typeof args.visits === 'string' ? Math.max(1, Number(args.visits)) : 1;
  const runs = [await measure(null, 'demo (969 titles)', visits)];
  for (const n of sizes) runs.push(await measure(await syntheticSnapshot(n), `${n.toLocaleString('en')} titles`, visits));
  const base = runs[0];
  const memory = memoryTouch();
  const rows: BenchRow[] = [
    { bench: 'browser', case: 'this machine: 256 MiB of memory touched again', value: memory.again, unit: 'ms' },
    { bench: 'browser', case: 'this machine: 256 MiB of fresh memory touched', value: memory.first, unit: 'ms', ratio: memory.first / memory.again, baseline: 'vs again' },
  ];
  for (const r of runs) {
    const vs = r === base ? {} : { baseline: 'vs demo' };
    rows.push({ bench: 'browser', case: `${r.label}: first recommendations, cold`, value: r.cold, unit: 'ms', ...(r === base ? {} : { ratio: r.cold / base.cold, ...vs }) });
    rows.push({ bench: 'browser', case: `${r.label}: first recommendations, warm`, value: r.warm, unit: 'ms', ...(r === base ? {} : { ratio: r.warm / base.warm, ...vs }) });
    rows.push({ bench: 'browser', case: `${r.label}: the same first page as static HTML, drawn`, value: r.staticPage, unit: 'ms', info: true });
    rows.push({ bench: 'browser', case: `${r.label}: longest main-thread task, static HTML`, value: r.staticLongest, unit: 'ms' });
    rows.push({ bench: 'browser', case: `${r.label}: longest main-thread task`, value: r.longest, unit: 'ms', ...(r.staticLongest > 0 ? { ratio: r.longest / r.staticLongest, baseline: 'vs static HTML' } : {}) });
    rows.push({ bench: 'browser', case: `${r.label}: longest main-thread task while ranking`, value: r.rankingLongest, unit: 'ms' });
    rows.push({ bench: 'browser', case: `${r.label}: renderer peak memory`, value: r.peak, unit: 'MiB', ...(r === base ? {} : { ratio: r.peak / base.peak, ...vs }) });
    rows.push({ bench: 'browser', case: `${r.label}: Surprise slider, cards re-ranked and laid out`, value: r.slider, unit: 'ms', ...(r === base ? {} : { ratio: r.slider / base.slider, ...vs }) });
    rows.push({ bench: 'browser', case: `${r.label}: a title page with More like this`, value: r.title, unit: 'ms', ...(r === base ? {} : { ratio: r.title / base.title, ...vs }) });
    rows.push({ bench: 'browser', case: `${r.label}: longest main-thread task opening it`, value: r.titleLongest, unit: 'ms' });
    rows.push({ bench: 'browser', case: `${r.label}: a like, For you ranked and drawn again`, value: r.like, unit: 'ms', ...(r === base ? {} : { ratio: r.like / base.like, ...vs }) });
    rows.push({ bench: 'browser', case: `${r.label}: longest main-thread task in those`, value: r.actLongest, unit: 'ms' });
    rows.push({ bench: 'browser', case: `${r.label}: a first search, its results drawn`, value: r.search, unit: 'ms', ...(r === base ? {} : { ratio: r.search / base.search, ...vs }) });
    rows.push({ bench: 'browser', case: `${r.label}: longest main-thread task in it`, value: r.searchLongest, unit: 'ms' });
    rows.push({ bench: 'browser', case: `${r.label}: a keystroke in Browse's filter`, value: r.typing, unit: 'ms', ...(r === base ? {} : { ratio: r.typing / base.typing, ...vs }) });
    rows.push({ bench: 'browser', case: `${r.label}: longest main-thread task typing`, value: r.typingLongest, unit: 'ms' });
  }
  return rows;
}
