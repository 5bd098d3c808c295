/**
 * The built app (dist/, `npm run build` first) on synthetic platform-scale catalogs in headless Chromium, served
 * on loopback by scripts/serve.ts: what a reader waits for and what the page's thread does.
 * - first recommendations, cold (nothing cached, HTTP cache off) and warm (the snapshot's files in the file
 *   cache, only manifest.json revalidated): navigation to the first For you card, for a reader with 3 likes;
 * - the longest main-thread task between navigation and those cards (PerformanceObserver `longtask`, ≥ 50 ms;
 *   0 when there was none);
 * - the renderer's peak resident memory (VmHWM of Chromium's renderer processes, which host the page and its
 *   workers), one fresh browser per catalog size.
 * The demo catalog (969 titles) is the baseline of the ratios. `npm run bench -- --only browser --titles 10000,100000`.
 */
import { mkdtemp, readdir, readFile, rm, symlink, cp } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { launch, repoRoot } from '../tests/browser/harness.ts';
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
  // A new document each time (a hash change alone would not load anything again).
  await page.goto('about:blank');
  await page.goto(url);
  await page.getByTestId('card').first().waitFor({ timeout: 120_000 });
  return page.evaluate(() => {
    const at = performance.now();
    const tasks = (window as unknown as { __longTasks: Array<{ start: number; duration: number }> }).__longTasks;
    return { ms: at, longest: Math.max(0, ...tasks.filter((t) => t.start < at).map((t) => t.duration)) };
  });
}

async function measure(snapshotDir: string | null, label: string): Promise<{ label: string; cold: number; warm: number; longest: number; peak: number }> {
  const root = await mkdtemp(path.join(tmpdir(), 'toonpick-browser-bench-'));
  await cp(path.join(repoRoot, 'dist'), root, { recursive: true });
  if (snapshotDir) await symlink(snapshotDir, path.join(root, 'big'));
  const server = await serve(root);
  // This browser's own processes: those that appeared with it and are not a child type (renderer, GPU, …).
  const before = new Set((await processes()).map((p) => p.pid));
  const browser = await launch();
  const browsers = new Set((await processes()).filter((p) => !before.has(p.pid) && p.cmd.includes('chromium') && !p.cmd.includes('--type=')).map((p) => p.pid));
  try {
    const ctx = await browser.newContext({ serviceWorkers: 'block' });
    await ctx.addInitScript(LONG_TASKS);
    const page = await ctx.newPage();
    const q = snapshotDir ? '?snapshot=./big/' : '';
    const items: Array<{ id: string }> = JSON.parse(await readFile(path.join(snapshotDir ?? path.join(root, 'snapshot'), 'items.json'), 'utf8'));
    // A reader with three likes (the title page's button), so For you ranks.
    for (const t of items.slice(1, 4)) {
      await page.goto(`${server.url}${q}#/title/${encodeURIComponent(t.id)}`);
      await page.getByTestId('act-like').click({ timeout: 120_000 });
      await page.locator('[data-testid="act-like"][aria-pressed="true"]').waitFor();
    }
    const warm = await firstCards(page, `${server.url}${q}#/for-you`);
    // Cold: no file cache and no HTTP cache, so every byte comes over loopback again.
    await page.evaluate(() => caches.delete('toonpick-snapshot-files'));
    const cdp = await ctx.newCDPSession(page);
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    const cold = await firstCards(page, `${server.url}${q}#/for-you`);
    return { label, cold: cold.ms, warm: warm.ms, longest: Math.max(cold.longest, warm.longest), peak: await rendererPeakMiB(browsers) };
  } finally {
    await browser.close();
    await server.close();
    await rm(root, { recursive: true, force: true });
  }
}

export async function browserScaleBench(args: Record<string, string | true | undefined> = {}): Promise<BenchRow[]> {
  if (!existsSync(path.join(repoRoot, 'dist/index.html'))) throw new Error('dist/ is missing: run `npm run build` first');
  const sizes = typeof args.titles === 'string' ? args.titles.split(',').map(Number) : [10_000];
  const runs = [await measure(null, 'demo (969 titles)')];
  for (const n of sizes) runs.push(await measure(await syntheticSnapshot(n), `${n.toLocaleString('en')} titles`));
  const base = runs[0];
  const rows: BenchRow[] = [];
  for (const r of runs) {
    const vs = r === base ? {} : { baseline: 'vs demo' };
    rows.push({ bench: 'browser', case: `${r.label}: first recommendations, cold`, value: r.cold, unit: 'ms', ...(r === base ? {} : { ratio: r.cold / base.cold, ...vs }) });
    rows.push({ bench: 'browser', case: `${r.label}: first recommendations, warm`, value: r.warm, unit: 'ms', ...(r === base ? {} : { ratio: r.warm / base.warm, ...vs }) });
    rows.push({ bench: 'browser', case: `${r.label}: longest main-thread task`, value: r.longest, unit: 'ms' });
    rows.push({ bench: 'browser', case: `${r.label}: renderer peak memory`, value: r.peak, unit: 'MiB', ...(r === base ? {} : { ratio: r.peak / base.peak, ...vs }) });
  }
  return rows;
}
