/**
 * `npm run bench -- --only stylemap`: time from opening the style map to every cover drawn, in Chromium on the
 * built app (dist/), cold (no service worker, empty cache), with the snapshot's cover sprite (one request) and,
 * as the baseline in the same run, the same snapshot without it (one request per title).
 */
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { launch, serveDist } from '../tests/browser/harness.ts';
import type { BenchRow } from './lib.ts';

const RUNS = 3;

async function timeToDrawn(url: string, expected: number): Promise<number> {
  const browser = await launch();
  try {
    const ctx = await browser.newContext({ serviceWorkers: 'block' });
    // The default resource-timing buffer holds 250 entries: too few for one per cover.
    await ctx.addInitScript(() => performance.setResourceTimingBufferSize(10_000));
    const page = await ctx.newPage();
    await page.goto(`${url}#/`);
    await page.getByTestId('card').first().waitFor();
    const t0 = await page.evaluate(() => performance.now());
    await page.evaluate(() => { location.hash = '#/style-map'; });
    await page.waitForFunction((n) => performance.getEntriesByType('resource').filter((e) => e.name.includes('/covers64/')).length >= n, expected, { timeout: 120_000 });
    // Drawn: the last cover's bytes arrived and the next frame has painted them.
    const end = await page.evaluate(() => new Promise<number>((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => {
      const last = Math.max(...performance.getEntriesByType('resource').filter((e) => e.name.includes('/covers64/')).map((e) => (e as PerformanceResourceTiming).responseEnd));
      resolve(Math.max(last, performance.now()));
    }))));
    await ctx.close();
    return end - t0;
  } finally {
    await browser.close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function styleMapBench(): Promise<BenchRow[]> {
  const server = await serveDist();
  try {
    // The baseline: the same snapshot without its sprite.
    const plain = path.join(server.root, 'plain');
    await cp(path.join(server.root, 'snapshot'), plain, { recursive: true });
    const manifest = JSON.parse(await readFile(path.join(plain, 'manifest.json'), 'utf8'));
    const count = manifest.itemCount as number;
    delete manifest.covers.sprite;
    await writeFile(path.join(plain, 'manifest.json'), JSON.stringify(manifest));
    for (const f of ['manifest.json.br', 'manifest.json.gz']) await rm(path.join(plain, f), { force: true });
    const without: number[] = [];
    const withSprite: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      without.push(await timeToDrawn(`${server.url}?snapshot=./plain/`, count));
      withSprite.push(await timeToDrawn(server.url, 1));
    }
    const base = median(without);
    return [
      { bench: 'style map drawn', case: `${count} covers, one request each (baseline)`, value: base, unit: 'ms', ratio: 1, baseline: 'one request each' },
      { bench: 'style map drawn', case: `${count} covers from one sprite`, value: median(withSprite), unit: 'ms', ratio: median(withSprite) / base, baseline: 'one request each' },
    ];
  } finally {
    await server.dispose();
  }
}
