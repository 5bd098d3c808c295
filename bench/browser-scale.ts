/**
 * The built app (dist/, `npm run build` first) on synthetic platform-scale catalogs in headless Chromium, served
 * on loopback by scripts/serve.ts: what a reader waits for and what the page's thread does.
 * - first recommendations, cold (nothing cached, HTTP cache off) and warm (the snapshot's files in the file
 *   cache, only manifest.json revalidated): navigation to the first For you card, for a reader with 3 likes;
 * - the longest main-thread task between navigation and those cards (PerformanceObserver `longtask`, ≥ 50 ms;
 *   0 when there was none);
 * - the renderer's peak resident memory (VmHWM of Chromium's renderer processes, which host the page and its
 *   workers) during one visit: each visit (the reader's likes, then the warm one, then the cold one) is a fresh
 *   browser on the same profile folder, so a peak is one visit's, not the sum of every load before it in a reused
 *   renderer.
 * The demo catalog (969 titles) is the baseline of the ratios. `npm run bench -- --only browser --titles 10000,100000
 * [--visits N]`: N warm and N cold visits per catalog (default 1), times as medians, longest task and peak as maxima.
 * Two rows first say how dear fresh memory is on this machine (in Node): 256 MiB touched for the first time, against
 * the same memory touched again. Where each page fault is slow (a virtual machine's), a browser that starts, loads
 * and draws runs slower for it, and these visits with it (README, Benchmarks).
 */
import { mkdtemp, readdir, readFile, rm, symlink, cp } from 'node:fs/promises';
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
`;

/** Navigates to For you and answers ms to the first card and the longest task before it. */
async function firstCards(page: Page, url: string): Promise<{ ms: number; longest: number }> {
  await page.goto(url);
  await page.getByTestId('card').first().waitFor({ timeout: 120_000 });
  return page.evaluate(() => {
    const at = performance.now();
    const tasks = (window as unknown as { __longTasks: Array<{ start: number; duration: number }> }).__longTasks;
    return { ms: at, longest: Math.max(0, ...tasks.filter((t) => t.start < at).map((t) => t.duration)) };
  });
}

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

async function measure(snapshotDir: string | null, label: string, visits: number): Promise<{ label: string; cold: number; warm: number; longest: number; peak: number }> {
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
      return firstCards(page, forYou);
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
    const all = [...warm, ...cold];
    return { label, cold: median(cold.map((v) => v.ms)), warm: median(warm.map((v) => v.ms)), longest: Math.max(...all.map((v) => v.longest)), peak: Math.max(...all.map((v) => v.peak)) };
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
    rows.push({ bench: 'browser', case: `${r.label}: longest main-thread task`, value: r.longest, unit: 'ms' });
    rows.push({ bench: 'browser', case: `${r.label}: renderer peak memory`, value: r.peak, unit: 'MiB', ...(r === base ? {} : { ratio: r.peak / base.peak, ...vs }) });
  }
  return rows;
}
