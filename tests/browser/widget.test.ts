import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, writeFile, readFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launch, serveDist, trackErrors } from './harness.ts';
import { serve, type Served } from '../../scripts/serve.ts';

// The widget is served from the app's origin; the host page from a second port (another origin), with a
// strict CSP (no inline scripts or styles, no eval) and deliberately aggressive CSS.
let browser: Browser;
let app: Awaited<ReturnType<typeof serveDist>>;
let host: Served;
let hostDir: string;
let items: Array<{ id: string; title: string }>;

function hostPage(widgetOrigin: string, catalog: string, extra = '') {
  const csp = [
    "default-src 'self'",
    `script-src 'self' ${widgetOrigin}`,
    `connect-src 'self' ${widgetOrigin}`,
    `img-src 'self' ${widgetOrigin}`,
    "style-src 'self'",
  ].join('; ');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<link rel="stylesheet" href="host.css">
<script type="module" src="host.js"></script>
<script type="module" src="${widgetOrigin}/widget/toonpick-widget.js"></script></head>
<body><h1 class="title">A webtoon fan site</h1><button class="card" id="host-button">host button</button>
<toonpick-recs id="recs" catalog="${catalog}" count="6" lang="ko" ${extra}></toonpick-recs>
<p id="after">content after the widget</p></body></html>`;
}

const HOST_CSS = `
* { color: rgb(255, 0, 0) !important; text-transform: uppercase !important; letter-spacing: 5px !important; }
img { display: none !important; }
button, .card { background: rgb(255, 255, 0) !important; font-size: 30px !important; }
ul, li { border: 5px solid rgb(0, 0, 255) !important; }
.title { font-size: 40px; }
`;

// Listening before the widget's module runs (module scripts run in document order): a catalog that fails at once
// would otherwise report its error before a later listener exists.
const HOST_JS = `
window.__events = [];
for (const type of ['toonpick:ready', 'toonpick:select', 'toonpick:error'])
  document.addEventListener(type, (e) => window.__events.push({ type, detail: e.detail }));
`;

beforeAll(async () => {
  [browser, app] = await Promise.all([launch(), serveDist()]);
  hostDir = await mkdtemp(path.join(tmpdir(), 'toonpick-host-'));
  await writeFile(path.join(hostDir, 'host.css'), HOST_CSS);
  await writeFile(path.join(hostDir, 'host.js'), HOST_JS);
  const origin = app.url.replace(/\/$/, '');
  await writeFile(path.join(hostDir, 'index.html'), hostPage(origin, `${origin}/snapshot/`));
  await writeFile(path.join(hostDir, 'bad.html'), hostPage(origin, `${origin}/no-such-snapshot/`));
  host = await serve(hostDir);
  items = JSON.parse(await readFile(path.join(app.root, 'snapshot/items.json'), 'utf8'));
});
afterAll(async () => {
  await browser?.close();
  await app?.dispose();
  await host?.close();
  await rm(hostDir, { recursive: true, force: true });
});

async function events(page: Page, type: string) {
  return page.evaluate((t) => (window as any).__events.filter((e: any) => e.type === t), type);
}

describe('the widget on a foreign page', () => {
  it('renders recommendations inside its shadow root, isolated from the page CSS both ways', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    const before = await (async () => {
      const p = await ctx.newPage();
      await p.goto(`${host.url}index.html`);
      const s = await p.locator('#host-button').evaluate((el) => getComputedStyle(el).cssText || [getComputedStyle(el).fontSize, getComputedStyle(el).padding, getComputedStyle(el).borderRadius].join());
      await p.close();
      return s;
    })();
    await page.goto(`${host.url}index.html`);
    await page.waitForFunction(() => (window as any).__events?.some((e: any) => e.type === 'toonpick:ready'));
    const cards = page.locator('toonpick-recs button.card');
    expect(await cards.count()).toBe(6);
    expect(await page.locator('toonpick-recs h2').textContent()).toBe('인기 작품');

    // Page CSS does not reach in: colours, images, fonts, borders are the widget's own.
    const look = await cards.first().evaluate((el) => {
      const title = el.querySelector('.title')!;
      const img = el.querySelector('img')!;
      const li = el.closest('li')!;
      return {
        color: getComputedStyle(title).color,
        transform: getComputedStyle(title).textTransform,
        spacing: getComputedStyle(title).letterSpacing,
        size: getComputedStyle(title).fontSize,
        img: getComputedStyle(img).display,
        bg: getComputedStyle(el).backgroundColor,
        border: getComputedStyle(li).borderTopWidth,
      };
    });
    expect(look.color).not.toBe('rgb(255, 0, 0)');
    expect(look.transform).toBe('none');
    expect(look.spacing).toBe('normal');
    expect(look.size).toBe('14px');
    expect(look.img).toBe('block');
    expect(look.bg).not.toBe('rgb(255, 255, 0)');
    expect(look.border).toBe('0px');

    // Widget CSS does not leak out: the page's own .card and .title keep the page's styles.
    const after = await page.locator('#host-button').evaluate((el) => getComputedStyle(el).cssText || [getComputedStyle(el).fontSize, getComputedStyle(el).padding, getComputedStyle(el).borderRadius].join());
    expect(after).toBe(before);
    expect(await page.locator('h1.title').evaluate((el) => getComputedStyle(el).fontSize)).toBe('40px');
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('loads its snapshot once, only the files it ranks with, and shows its first cards after ≤ 1.5 MB', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const fetched: Array<{ url: string; bytes: Promise<number> }> = [];
    page.on('response', (r) => {
      if (r.url().startsWith(app.url)) fetched.push({ url: r.url().slice(app.url.length), bytes: r.body().then((b) => b.byteLength, () => 0) });
    });
    await page.goto(`${host.url}index.html`);
    await page.waitForFunction(() => (window as any).__events?.some((e: any) => e.type === 'toonpick:ready'));
    // The element's four attributes and its connection each asked for the catalog: one load served them all.
    const files = fetched.map((f) => f.url).filter((u) => u.startsWith('snapshot/') && !/^snapshot\/covers/.test(u));
    expect(files.length).toBe(new Set(files).size);
    const manifest = JSON.parse(await readFile(path.join(app.root, 'snapshot/manifest.json'), 'utf8'));
    const ranking = [manifest.items, ...manifest.spaces.map((s: { file: string }) => s.file)];
    expect(files.sort()).toEqual(['snapshot/manifest.json', ...ranking.map((f: string) => `snapshot/${f}`)].sort());
    // Not the search tables, the style encoder's weights or its map.
    for (const s of manifest.spaces) for (const f of Object.values(s.encoder.files ?? {})) expect(files).not.toContain(`snapshot/${f}`);
    const bytes = (await Promise.all(fetched.map((f) => f.bytes))).reduce((a, b) => a + b, 0);
    console.log(`widget: ${fetched.length} requests, ${(bytes / 1e6).toFixed(2)} MB (uncompressed) to its first cards`);
    expect(bytes).toBeLessThanOrEqual(1.5e6);
    await ctx.close();
  });

  it('keeps its files on the host origin: a second load downloads only the manifest, also where OPFS cannot be written', async () => {
    for (const writable of [true, false]) {
      const ctx = await browser.newContext();
      // Older Safari has OPFS but no createWritable on a page (the widget has no worker): its files go to Cache Storage.
      if (!writable) await ctx.addInitScript(() => { delete (FileSystemFileHandle.prototype as { createWritable?: unknown }).createWritable; });
      const page = await ctx.newPage();
      const snapshotFiles: string[] = [];
      page.on('request', (r) => {
        const rel = r.url().slice(app.url.length);
        if (r.url().startsWith(app.url) && rel.startsWith('snapshot/') && !/^snapshot\/covers/.test(rel)) snapshotFiles.push(rel);
      });
      const ready = () => page.waitForFunction(() => (window as any).__events?.some((e: any) => e.type === 'toonpick:ready'));
      await page.goto(`${host.url}index.html`);
      await ready();
      expect(snapshotFiles.length).toBeGreaterThan(1);
      const where = await page.evaluate(async () => {
        const dir = await (await navigator.storage.getDirectory()).getDirectoryHandle('toonpick-snapshot-files', { create: true });
        let opfs = 0;
        for await (const name of (dir as unknown as { keys(): AsyncIterable<string> }).keys()) if (name !== 'recent-manifests') opfs++;
        const cacheStorage = (await (await caches.open('toonpick-snapshot-files')).keys()).filter((r) => !new URL(r.url).pathname.startsWith('/manifest')).length;
        return { opfs, cacheStorage };
      });
      expect(where).toEqual(writable ? { opfs: snapshotFiles.length - 1, cacheStorage: 0 } : { opfs: 0, cacheStorage: snapshotFiles.length - 1 });
      snapshotFiles.length = 0;
      await page.reload();
      await ready();
      expect(snapshotFiles).toEqual(['snapshot/manifest.json']);
      await ctx.close();
    }
  });

  it('fires toonpick:select on click and personalises after addToHistory, stored in the host origin', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${host.url}index.html`);
    await page.waitForFunction(() => (window as any).__events?.some((e: any) => e.type === 'toonpick:ready'));
    const first = page.locator('toonpick-recs button.card').first();
    const id = await first.getAttribute('data-id');
    await first.click();
    const selected = await events(page, 'toonpick:select');
    expect(selected).toHaveLength(1);
    expect(selected[0].detail.id).toBe(id);
    expect(selected[0].detail.title).toBe(items.find((t) => t.id === id)!.title);

    const liked = items.find((t) => t.title === '좀비딸')!.id;
    await page.evaluate((i) => (document.getElementById('recs') as any).addToHistory(i, 'like'), liked);
    await page.locator('toonpick-recs h2', { hasText: '당신을 위한 추천' }).waitFor();
    const ids = await page.locator('toonpick-recs button.card').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
    expect(ids).not.toContain(liked);
    expect(await page.locator('toonpick-recs .why').first().textContent()).toContain('좀비딸');
    const dbs = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
    expect(dbs).toContain('toonpick-widget');
    await ctx.close();
  });

  it('shows an inline error for a bad catalog URL and leaves the page working', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${host.url}bad.html`);
    const err = page.locator('toonpick-recs [role="alert"]');
    await err.waitFor();
    // The reader's words first, in the widget's language; the technical reason behind a toggle.
    expect(await err.locator('p').textContent()).toBe('지금은 추천을 불러올 수 없습니다.');
    expect(await err.locator('details').getAttribute('open')).toBeNull();
    expect(await err.textContent()).toContain('manifest.json');
    expect(await err.textContent()).toContain('HTTP 404');
    expect(await page.locator('#after').isVisible()).toBe(true);
    await page.locator('#host-button').click();
    expect((await events(page, 'toonpick:error')).length).toBe(1);
    await ctx.close();
  });
});

describe('widget build', () => {
  it('is one ES module file', async () => {
    const file = path.join(app.root, 'widget/toonpick-widget.js');
    expect((await stat(file)).size).toBeGreaterThan(1000);
    expect(await readFile(file, 'utf8')).not.toMatch(/\bimport\s*\(/);
  });
});
