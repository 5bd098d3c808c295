/**
 * Reliability in a real browser: hostile snapshots (markup in every text field, foreign and `javascript:` URLs,
 * prototype keys) load as text or are refused, send nothing off the origin and leave the history alone; a full
 * disk (a real quota, set through the DevTools protocol) and a damaged stored entry are told to the reader in
 * their language, with nothing lost.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { cp, readFile, rm, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { contentHashOf } from '../../src/core/snapshot/format.ts';
import { launch, serveDist, trackErrors } from './harness.ts';
import { putRawHistory, storedHistory } from './helpers/raw-history.ts';

let browser: Browser;
let server: Awaited<ReturnType<typeof serveDist>>;
let items: Array<Record<string, unknown> & { id: string; title: string }>;

beforeAll(async () => {
  [browser, server] = await Promise.all([launch(), serveDist()]);
  items = JSON.parse(await readFile(path.join(server.root, 'snapshot/items.json'), 'utf8'));
});
afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

type Json = Record<string, any>;

/**
 * A copy of the demo snapshot under `name/`, its items and manifest edited and re-signed (sizes, SHA-256s and
 * contentHash made consistent again), so that only the loader's own checks stand between it and the reader.
 */
async function hostile(name: string, edit: (manifest: Json, items: Json[]) => void): Promise<string> {
  const dir = path.join(server.root, name);
  await cp(path.join(server.root, 'snapshot'), dir, { recursive: true });
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8'));
  // The demo keeps its synopses in one page (manifest.details): the edit sees them on the items, as a title has them.
  const page: string | undefined = manifest.details?.pages[0];
  const synopses: string[] = page ? JSON.parse(await readFile(path.join(dir, page), 'utf8')) : [];
  const list = (structuredClone(items) as Json[]).map((t, i) => (page ? { ...t, synopsis: synopses[i] } : t));
  edit(manifest, list);
  const write = async (file: string, value: unknown) => {
    const bytes = Buffer.from(JSON.stringify(value));
    await writeFile(path.join(dir, file), bytes);
    // The server prefers a pre-compressed copy: drop the stale ones.
    await Promise.all([`${file}.br`, `${file}.gz`].map((f) => rm(path.join(dir, f), { force: true })));
    if (manifest.files[file]) manifest.files[file] = { bytes: bytes.byteLength, sha256: createHash('sha256').update(bytes).digest('hex') };
  };
  if (page && manifest.details?.pages[0] === page) {
    await write(page, list.map((t) => t.synopsis));
    for (const t of list) delete t.synopsis;
  }
  await write('items.json', list);
  await Promise.all(['manifest.json.br', 'manifest.json.gz'].map((f) => rm(path.join(dir, f), { force: true })));
  manifest.contentHash = await contentHashOf(manifest.files);
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  return `./${name}/`;
}

async function like(page: Page, id: string) {
  await page.goto(`${server.url}#/title/${id}`);
  await page.getByTestId('act-like').click();
  await page.locator('[data-testid="act-like"][aria-pressed="true"]').waitFor();
}

/** Every request the context makes that is not to our own server. */
function offOrigin(ctx: BrowserContext): string[] {
  const out: string[] = [];
  ctx.on('request', (r) => {
    if (new URL(r.url()).origin !== server.url.replace(/\/$/, '')) out.push(r.url());
  });
  return out;
}

const XSS = '<img src=/pwned.png onerror="window.__pwned=1"><script>window.__pwned=2</script>';

describe('hostile snapshots', () => {
  it('shows markup in every text field as text: nothing executes, nothing is fetched from it', async () => {
    const url = await hostile('xss', (m, list) => {
      m.name = `${XSS} catalog`;
      m.description = XSS;
      m.source = `<a href="javascript:window.__pwned=3">${XSS}</a>`;
      for (const t of list.slice(0, 50)) {
        t.title = `${XSS} ${t.title}`;
        t.synopsis = `${XSS} ${t.synopsis}`;
        t.author = XSS;
        t.genres = [...(t.genres as string[]), XSS];
        t.age = XSS;
      }
    });
    const ctx = await browser.newContext();
    const leaving = offOrigin(ctx);
    const pwnedAssets: string[] = [];
    ctx.on('request', (r) => { if (r.url().includes('pwned')) pwnedAssets.push(r.url()); });
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    const dialogs: string[] = [];
    page.on('dialog', (d) => { dialogs.push(d.message()); void d.dismiss(); });
    const target = items[0];
    await page.goto(`${server.url}?snapshot=${url}#/`);
    await page.getByTestId('card').first().waitFor();
    await page.goto(`${server.url}?snapshot=${url}#/title/${target.id}`);
    await page.getByTestId('title-heading').filter({ hasText: '<img src=/pwned.png' }).waitFor();
    await page.getByTestId('act-like').click();
    await page.locator('[data-testid="act-like"][aria-pressed="true"]').waitFor();
    for (const hash of ['#/for-you', '#/history', `#/search?q=${encodeURIComponent('<script>')}`]) {
      await page.goto(`${server.url}?snapshot=${url}${hash}`);
      await page.locator('main').waitFor();
      await page.waitForTimeout(300);
    }
    expect(await page.evaluate(() => (window as { __pwned?: number }).__pwned)).toBeUndefined();
    // The page's own inline script (the head's: it starts the snapshot worker) is the only one.
    expect(await page.locator('img[src="/pwned.png"], body script:not([src])').count()).toBe(0);
    expect(await page.locator('head script:not([src])').allTextContents()).toEqual([expect.stringContaining('snapshot.worker')]);
    expect(pwnedAssets).toEqual([]);
    expect(dialogs).toEqual([]);
    expect(leaving).toEqual([]);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  it('refuses foreign covers, javascript: links and prototype keys, naming file and field, with the history untouched', async () => {
    const cases: Array<[string, (m: Json, list: Json[]) => void, RegExp]> = [
      ['foreign-cover', (_, list) => (list[3].cover = 'https://tracker.example/pixel.webp?u=reader'), /items\.json, item .+, field "cover": must be a path inside the snapshot/],
      ['foreign-origin-list', (m) => (m.coverOrigins = ['javascript:alert(1)']), /manifest\.json, field "coverOrigins\[0\]"/],
      ['javascript-link', (_, list) => (list[5].sourceUrl = 'javascript:alert(document.cookie)'), /field "sourceUrl": must be an http\(s\) URL/],
      ['data-link', (_, list) => (list[6].sourceUrl = 'data:text/html,<script>alert(1)</script>'), /field "sourceUrl": must be an http\(s\) URL/],
      ['foreign-space', (m) => (m.spaces[0].file = 'https://tracker.example/genre.bin'), /field "spaces\[0\]\.file": must be a path inside the snapshot folder/],
      ['proto-key', (m) => (m.files = JSON.parse(`{"__proto__": ${JSON.stringify(m.files['items.json'])}, ${JSON.stringify(m.files).slice(1)}`)), /lists "__proto__", which is not a path inside the snapshot folder/],
      ['constructor-items', (m) => (m.items = 'constructor'), /field "items": must be a path inside the snapshot folder/],
      ['wrong-type', (m) => (m.spaces[0].encoder.params = { vocabulary: 'romance' }), /field "spaces\[0\]\.encoder\.params\.vocabulary": must be an array of strings/],
    ];
    const ctx = await browser.newContext();
    const leaving = offOrigin(ctx);
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    await page.goto(`${server.url}#/`);
    await page.getByTestId('card').first().waitFor();
    await like(page, items[1].id);
    await like(page, items[2].id);
    const before = await storedHistory(page);
    expect(before).toHaveLength(2);
    for (const [name, edit, message] of cases) {
      const url = await hostile(name, edit);
      await page.goto(`${server.url}?snapshot=${url}#/`);
      const err = page.getByTestId('snapshot-error');
      await err.waitFor();
      expect(await err.textContent(), name).toMatch(message);
      expect(await page.getByTestId('card').count(), name).toBe(0);
      expect(await storedHistory(page), name).toEqual(before);
    }
    expect(leaving).toEqual([]);
    // A refused snapshot is an error the page shows, not an exception it throws.
    expect(errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
    await ctx.close();
  });
});

/** Every IndexedDB write request of the page fails as on a full disk. */
function diskFull() {
  const fail = () => {
    throw new DOMException('The quota has been exceeded.', 'QuotaExceededError');
  };
  for (const m of ['put', 'add', 'delete', 'clear'] as const) IDBObjectStore.prototype[m] = fail;
}

describe('storage failures and damage, told in the reader’s language', () => {
  it('a full disk refuses a like and a setting in Korean, with no unhandled error, and loses nothing', async () => {
    const ctx = await browser.newContext({ locale: 'ko-KR' });
    const page = await ctx.newPage();
    const errors = trackErrors(page);
    await page.goto(`${server.url}#/`);
    await page.getByTestId('card').first().waitFor();
    await like(page, items[1].id);
    const before = await storedHistory(page);

    // A full disk. Chromium does not apply a DevTools quota override to IndexedDB writes (measured: 5 MB lands
    // with a 1-byte quota), so the browser's own error is raised where it arises, in every write request.
    await page.evaluate(diskFull);
    await page.goto(`${server.url}#/title/${items[2].id}`);
    await page.getByTestId('act-like').click();
    const notice = page.getByTestId('notice');
    await notice.filter({ hasText: '저장 공간이 가득 차서' }).waitFor();
    expect(await notice.textContent()).toContain('아무것도 바뀌지 않았습니다');
    expect(await page.locator('[data-testid="act-like"][aria-pressed="true"]').count()).toBe(0);
    // A setting fails with the same words, never unhandled.
    await page.goto(`${server.url}#/for-you`);
    const slider = page.getByRole('slider').first();
    await slider.waitFor();
    await slider.press('ArrowRight');
    await notice.filter({ hasText: '설정을 저장하지 못했습니다' }).waitFor();

    await page.reload(); // a fresh page: storage works again, and holds what it held before
    expect(await storedHistory(page)).toEqual(before);
    // Start-up writes (the catalog version, the storage request) fail too: the app still opens, with no unhandled error.
    await ctx.addInitScript(diskFull);
    const full = await ctx.newPage();
    const fullErrors = trackErrors(full);
    await full.goto(`${server.url}#/`);
    await full.getByTestId('card').first().waitFor();
    await full.waitForTimeout(500);
    expect([...errors, ...fullErrors].filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
    await ctx.close();
  });

  it('skips a damaged stored entry, says so on the History page, and shows the rest', async () => {
    const ctx = await browser.newContext({ locale: 'en-US' });
    const page = await ctx.newPage();
    await page.goto(`${server.url}#/`);
    await page.getByTestId('card').first().waitFor();
    await like(page, items[1].id);
    await like(page, items[2].id);
    // What a bug, an extension or a newer version could leave behind: fields of the wrong type, no id.
    await putRawHistory(page, [{ id: 'ghost', likedAt: 'yesterday', rating: 11 }, { id: 'far', readAt: 9e15 }]);
    await page.goto(`${server.url}#/history`);
    await page.reload();
    await page.getByTestId('history-damaged').filter({ hasText: '2 entries in your stored history could not be read' }).waitFor();
    const shown = await page.getByTestId('history-entry').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')).sort());
    expect(shown).toEqual([items[1].id, items[2].id].sort());
    // Left stored as they were (never deleted behind the reader's back); liking the title again replaces one.
    expect((await storedHistory(page)).length).toBe(4);
    await ctx.close();
  });
});
