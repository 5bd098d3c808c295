import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launch, serveDist, trackErrors } from './harness.ts';

let browser: Browser;
let server: Awaited<ReturnType<typeof serveDist>>;
let items: Array<{ id: string; title: string }>;

beforeAll(async () => {
  [browser, server] = await Promise.all([launch(), serveDist()]);
  items = JSON.parse(await readFile(path.join(server.root, 'snapshot/items.json'), 'utf8'));
});
afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

const idOf = (title: string) => items.find((t) => t.title === title)!.id;

/** Waits until a service worker controls the page (it claims the page on first install). */
async function controlled(page: Page) {
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null, undefined, { timeout: 60_000 });
}

async function like(page: Page, base: string, titles: string[]) {
  for (const t of titles) {
    await page.goto(`${base}#/title/${idOf(t)}`);
    await page.getByTestId('title-heading').filter({ hasText: t }).waitFor();
    await page.getByTestId('act-like').click();
    await page.locator('[data-testid="act-like"][aria-pressed="true"]').waitFor();
  }
}

/** What the snapshot file cache holds: OPFS file names, and the hash-keyed Cache Storage entries (not kept manifests). */
function keptFiles(page: Page): Promise<{ opfs: string[]; cacheStorage: string[] }> {
  return page.evaluate(async () => {
    const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('toonpick-snapshot-files', { create: true });
    const opfs: string[] = [];
    for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) opfs.push(name);
    const requests = await (await caches.open('toonpick-snapshot-files')).keys();
    const cacheStorage = requests.map((r) => new URL(r.url).pathname.slice(1)).filter((p) => !p.startsWith('manifest'));
    return { opfs, cacheStorage };
  });
}

describe('offline PWA', () => {
  it('has a web app manifest with icons, and a service worker that precaches the shell (the page keeps the snapshot)', async () => {
    const manifest = JSON.parse(await readFile(path.join(server.root, 'manifest.webmanifest'), 'utf8'));
    expect(manifest.display).toBe('standalone');
    expect(manifest.icons.map((i: { sizes: string }) => i.sizes)).toEqual(expect.arrayContaining(['192x192', '512x512']));
    const sw = await readFile(path.join(server.root, 'sw.js'), 'utf8');
    expect(sw).toContain('"index.html"');
    // Precaching the snapshot too would download it twice on a first visit.
    for (const f of ['snapshot/manifest.json', 'snapshot/items.json', 'snapshot/spaces/lexical.csr16']) expect(sw).not.toContain(`"${f}"`);
    expect(sw).not.toContain('__TOONPICK_PRECACHE__');
  });

  it('downloads each snapshot file once; a second visit of an unchanged snapshot downloads only its manifest', async () => {
    const ctx = await browser.newContext();
    // Counted where downloads really happen: at the server (the page's and the service worker's requests alike).
    const snapshotRequests: string[] = [];
    server.server.on('request', (req) => {
      const rel = (req.url ?? '').slice(1);
      if (rel.startsWith('snapshot/') && !/^snapshot\/covers/.test(rel)) snapshotRequests.push(rel);
    });
    const wire: Array<Promise<number>> = [];
    ctx.on('requestfinished', (r) => wire.push(r.sizes().then((s) => s.responseBodySize + s.responseHeadersSize, () => 0)));
    const page = await ctx.newPage();
    await page.goto(server.url);
    await page.getByTestId('card').first().waitFor();
    await controlled(page);
    const manifest = JSON.parse(await readFile(path.join(server.root, 'snapshot/manifest.json'), 'utf8'));
    const every = ['manifest.json', ...Object.keys(manifest.files)].map((f) => `snapshot/${f}`).sort();
    // The synopsis page comes in the background after the first cards (a catalog this small is kept for offline use).
    await expect.poll(() => every.every((f) => snapshotRequests.includes(f)), { timeout: 15_000 }).toBe(true);
    expect(snapshotRequests.sort()).toEqual(every);
    const bytes = (await Promise.all(wire)).reduce((a, b) => a + b, 0);
    console.log(`first visit: ${wire.length} requests, ${(bytes / 1e6).toFixed(2)} MB on the wire (first cards and the service worker's precache)`);
    expect(bytes).toBeLessThanOrEqual(3e6);

    snapshotRequests.length = 0;
    const again = await ctx.newPage();
    await again.goto(server.url);
    await again.getByTestId('card').first().waitFor();
    expect(snapshotRequests).toEqual(['snapshot/manifest.json']);

    // The files are kept by hash in the origin private file system (file-cache.ts), none in Cache Storage.
    const hashes = Object.values(manifest.files as Record<string, { sha256: string }>).map((f) => f.sha256);
    expect((await keptFiles(again)).opfs.sort()).toEqual([...hashes, 'recent-manifests'].sort());
    expect((await keptFiles(again)).cacheStorage).toEqual([]);

    // A device an older version left its files on in Cache Storage: they are used from there (not downloaded
    // again), moved into the file system, and let go of in Cache Storage.
    const items = manifest.files['items.json'].sha256 as string;
    await again.evaluate(async (sha) => {
      const bytes = await (await fetch('snapshot/items.json')).arrayBuffer();
      await (await caches.open('toonpick-snapshot-files')).put(`https://snapshot-files.toonpick.invalid/${sha}`, new Response(bytes));
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('toonpick-snapshot-files');
      await dir.removeEntry(sha);
    }, items);
    expect((await keptFiles(again)).cacheStorage).toEqual([items]);
    snapshotRequests.length = 0;
    await again.reload();
    await again.getByTestId('card').first().waitFor();
    expect(snapshotRequests).toEqual(['snapshot/manifest.json']);
    await expect.poll(async () => (await keptFiles(again)).cacheStorage).toEqual([]);
    expect((await keptFiles(again)).opfs).toContain(items);

    // A kept file damaged on the device (one byte, same size) fails its checksum: it is downloaded again, never used.
    const lexical = manifest.files['spaces/lexical.csr16'].sha256 as string;
    await again.evaluate(async (sha) => {
      const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('toonpick-snapshot-files');
      const handle = await dir.getFileHandle(sha);
      const size = (await handle.getFile()).size;
      const w = await handle.createWritable({ keepExistingData: true });
      await w.write({ type: 'write', position: size >> 1, data: new Uint8Array([0x5a]) });
      await w.close();
    }, lexical);
    snapshotRequests.length = 0;
    await again.reload();
    await again.getByTestId('card').first().waitFor();
    expect(snapshotRequests.sort()).toEqual(['snapshot/manifest.json', 'snapshot/spaces/lexical.csr16']);
    await ctx.close();
  });

  it('works offline after the first visit: app, history and fresh recommendations', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    await page.goto(server.url);
    await controlled(page);
    await like(page, server.url, ['좀비딸', '데드라이프', '위아더좀비']);
    await page.goto(`${server.url}#/for-you`);
    await page.getByTestId('reason').first().waitFor();
    const online = await page.getByTestId('card').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));

    // Really offline: the browser reports offline and the server is gone.
    await ctx.setOffline(true);
    server.server.closeAllConnections();
    await server.close();
    await page.reload();
    await page.getByTestId('reason').first().waitFor();
    const offline = await page.getByTestId('card').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    expect(offline).toEqual(online);
    // Covers come from the cache too.
    const cover = page.locator('[data-testid="card"] img').first();
    expect(await cover.evaluate(async (img: HTMLImageElement) => { await img.decode(); return img.naturalWidth; })).toBe(120);
    await page.goto(`${server.url}#/history`);
    expect(await page.getByTestId('history-entry').count()).toBe(3);
    // Liking a title offline is stored and changes the recommendations.
    await like(page, server.url, ['조선좀비실록']);
    await page.goto(`${server.url}#/for-you`);
    await page.getByTestId('reason').first().waitFor();
    const after = await page.getByTestId('card').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    expect(after).not.toContain(idOf('조선좀비실록'));
    expect(after).not.toEqual(offline);
    // A free-text search offline, with no sentence model cached: lexical results and a notice saying why.
    await page.goto(`${server.url}#/search/${encodeURIComponent('복수를 꿈꾸는 회귀자')}`);
    await page.locator('[data-testid="search-notice"][data-mode="lexical"]').waitFor();
    await page.getByTestId('search-model-note').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('search-result').count()).toBeGreaterThan(0);
    expect(await page.getByTestId('search-model-note').textContent()).toContain('Searching by meaning is unavailable');
    expect(errors.filter((e) => !/ERR_INTERNET_DISCONNECTED|Failed to load resource|text model|fetch/i.test(e))).toEqual([]);
    await ctx.close();
    server = await serveDist();
  });

  it('announces a new version and applies it only when the reader reloads', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(server.url);
    await controlled(page);
    const first = await page.evaluate(() => navigator.serviceWorker.controller!.scriptURL);
    const version = () =>
      page.evaluate(
        () =>
          new Promise<string>((resolve) => {
            const ch = new MessageChannel();
            ch.port1.onmessage = (e) => resolve(e.data);
            navigator.serviceWorker.controller!.postMessage('VERSION', [ch.port2]);
          }),
      );
    const v1 = await version();

    // Deploy a "new version": a changed sw.js.
    const swPath = path.join(server.root, 'sw.js');
    await writeFile(swPath, (await readFile(swPath, 'utf8')).replace(`"version":"${v1}"`, '"version":"next-version"'));
    await page.evaluate(async () => (await navigator.serviceWorker.getRegistration())!.update());
    await page.getByTestId('update-ready').waitFor({ timeout: 60_000 });
    expect(await version()).toBe(v1); // still the old version mid-session
    await Promise.all([page.waitForEvent('load'), page.getByRole('button', { name: 'Reload to update' }).click()]);
    await controlled(page);
    expect(await version()).toBe('next-version');
    expect(await page.evaluate(() => navigator.serviceWorker.controller!.scriptURL)).toBe(first);
    await ctx.close();
  });
});
