import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launch, serveDist, repoRoot } from './harness.ts';

// Screenshots of the main pages at phone and desktop widths (written to .cache/screenshots for a person
// to look at), with layout facts asserted so regressions fail: no horizontal overflow, cards visible,
// every control named, text contrast at WCAG AA in light and dark mode.
let browser: Browser;
let server: Awaited<ReturnType<typeof serveDist>>;
let zombie: string;
const shots = path.join(repoRoot, '.cache/screenshots');

beforeAll(async () => {
  [browser, server] = await Promise.all([launch(), serveDist()]);
  const items = JSON.parse(await readFile(path.join(server.root, 'snapshot/items.json'), 'utf8')) as Array<{ id: string; title: string }>;
  zombie = items.find((t) => t.title === '좀비딸')!.id;
  await mkdir(shots, { recursive: true });
});
afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

const VIEWPORTS = { phone: { width: 375, height: 740 }, desktop: { width: 1280, height: 860 } };

async function layoutFacts(page: Page) {
  return page.evaluate(() => {
    const doc = document.documentElement;
    const cards = [...document.querySelectorAll('[data-testid="card"]')];
    const firstCard = cards[0]?.getBoundingClientRect();
    const unnamed = [...document.querySelectorAll('button, a[href], input, select')]
      .filter((el) => (el as HTMLElement).offsetParent !== null || el.getAttribute('type') === 'file')
      .filter((el) => {
        const label = el.getAttribute('aria-label') || (el as HTMLElement).innerText?.trim() || el.getAttribute('title');
        const labelled = (el as HTMLInputElement).labels?.length;
        return !label && !labelled;
      })
      .map((el) => el.outerHTML.slice(0, 80));
    return {
      overflow: doc.scrollWidth - doc.clientWidth,
      cards: cards.length,
      firstCardVisible: !!firstCard && firstCard.width > 50 && firstCard.right <= doc.clientWidth + 1,
      unnamed,
    };
  });
}

/** WCAG contrast of every visible text element against its nearest opaque background. */
async function worstContrast(page: Page) {
  return page.evaluate(() => {
    const parse = (c: string) => (c.match(/[\d.]+/g) ?? []).map(Number);
    const lum = ([r, g, b]: number[]) => {
      const f = (v: number) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
    };
    const background = (el: Element | null): number[] => {
      for (; el; el = el.parentElement) {
        const c = parse(getComputedStyle(el).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] === 1)) return c.slice(0, 3);
      }
      return [255, 255, 255];
    };
    let worst = { ratio: 99, text: '' };
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const el = n.parentElement!;
      if (!n.textContent!.trim() || el.offsetParent === null || el.closest('.visually-hidden')) continue;
      const fg = parse(getComputedStyle(el).color).slice(0, 3);
      const [a, b] = [lum(fg), lum(background(el))].sort((x, y) => y - x);
      const ratio = (a + 0.05) / (b + 0.05);
      if (ratio < worst.ratio) worst = { ratio, text: n.textContent!.trim().slice(0, 40) };
    }
    return worst;
  });
}

describe('layout at phone and desktop widths', () => {
  for (const [name, viewport] of Object.entries(VIEWPORTS)) {
    for (const scheme of ['light', 'dark'] as const) {
      it(`${name}, ${scheme}: browse, for you, title and history pages fit, are labelled and readable`, async () => {
        const ctx = await browser.newContext({ viewport, colorScheme: scheme });
        const page = await ctx.newPage();
        const pages: Array<[string, string]> = [
          ['browse', ''],
          ['title', `/title/${zombie}`],
          ['for-you', '/for-you'],
          ['history', '/history'],
        ];
        for (const [label, hash] of pages) {
          await page.goto(`${server.url}#${hash}`);
          await page.getByRole('heading').first().waitFor();
          if (label !== 'history') await page.getByTestId('card').first().waitFor();
          if (label === 'title') {
            await page.getByTestId('act-like').click();
            await page.locator('[data-testid="act-like"][aria-pressed="true"]').waitFor();
          }
          await page.evaluate(() => document.fonts.ready);
          await page.screenshot({ path: path.join(shots, `${name}-${scheme}-${label}.png`) });
          const facts = await layoutFacts(page);
          expect(facts.overflow, `${label}: horizontal overflow`).toBeLessThanOrEqual(0);
          if (label !== 'history') {
            expect(facts.cards, `${label}: cards`).toBeGreaterThan(0);
            expect(facts.firstCardVisible, `${label}: first card visible`).toBe(true);
          }
          expect(facts.unnamed, `${label}: controls without an accessible name`).toEqual([]);
          const contrast = await worstContrast(page);
          expect(contrast.ratio, `${label}: contrast of “${contrast.text}”`).toBeGreaterThanOrEqual(4.5);
        }
        await ctx.close();
      });
    }
  }

  it('phone (390×844): a one-row header, search from an icon, the language in Settings, notices that stay on their page', async () => {
    const ctx = await browser.newContext({ viewport: { width: 390, height: 844 }, locale: 'ko-KR' });
    const page = await ctx.newPage();
    await page.goto(`${server.url}#/`);
    await page.getByTestId('card').first().waitFor();
    const header = await page.locator('header').boundingBox();
    expect(header!.height).toBeLessThanOrEqual(56); // was 178 px (21 % of the screen)
    expect(await page.getByTestId('header-search').isVisible()).toBe(false);
    expect(await page.getByTestId('language').isVisible()).toBe(false);
    await page.getByTestId('search-toggle').click();
    await page.getByTestId('header-search').fill('좀비');
    await page.getByTestId('header-search').press('Enter');
    await page.getByTestId('search-result').first().waitFor();
    // One search box on the search page.
    expect(await page.locator('input[type="search"]:visible').count()).toBe(1);
    // The language, from Settings.
    await page.goto(`${server.url}#/settings`);
    await page.getByTestId('settings-language').selectOption('en');
    await page.getByRole('heading', { name: 'Settings' }).waitFor();
    // A notice belongs to the page it was given on.
    await page.goto(`${server.url}#/history`);
    await page.getByTestId('import').setInputFiles({ name: 'junk.json', mimeType: 'application/json', buffer: Buffer.from('not json') });
    await page.getByTestId('notice').filter({ hasText: 'Import refused' }).waitFor();
    await page.screenshot({ path: path.join(shots, 'phone-header-notice.png') });
    await page.evaluate(() => { location.hash = '#/'; });
    await page.getByTestId('card').first().waitFor();
    expect(await page.getByTestId('notice').count()).toBe(0);
    const facts = await layoutFacts(page);
    expect(facts.overflow).toBeLessThanOrEqual(0);
    await ctx.close();
  });

  it('can be used with the keyboard alone, with a visible focus ring', async () => {
    const ctx = await browser.newContext({ viewport: VIEWPORTS.desktop });
    const page = await ctx.newPage();
    await page.goto(server.url);
    await page.getByTestId('card').first().waitFor();
    // Tab to the first genre chip, toggle it with the keyboard, then reach a card and open it with Enter.
    let focused = '';
    for (let i = 0; i < 12 && !focused.includes('genre-chip'); i++) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.tagName ?? '');
    }
    expect(focused).toBe('genre-chip');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe('none');
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-pressed'))).toBe('true');
    for (let i = 0; i < 40; i++) {
      await page.keyboard.press('Tab');
      if (await page.evaluate(() => !!document.activeElement?.closest('[data-testid="card"]'))) break;
    }
    await page.keyboard.press('Enter');
    await page.getByTestId('title-heading').waitFor();
    await ctx.close();
  });
});
