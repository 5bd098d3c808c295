/**
 * Automated accessibility checks: axe-core (WCAG 2.x A and AA rules) on every page of the built app, in both
 * themes and both languages, with a reader who has a history (so For you, the why chart and the history list
 * render). Any violation fails, listed with its rule and the elements it found.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import axe from 'axe-core';
import type { Browser, Page } from 'playwright-core';
import { launch, serveDist } from './harness.ts';

let browser: Browser;
let server: Awaited<ReturnType<typeof serveDist>>;
let axeSource: string;
let items: Array<{ id: string; title: string }>;

beforeAll(async () => {
  [browser, server] = await Promise.all([launch(), serveDist()]);
  axeSource = axe.source;
  items = JSON.parse(await readFile(path.join(server.root, 'snapshot/items.json'), 'utf8'));
});
afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

interface Violation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[] }>;
}

/** axe's violations on the page as it is now (injected through the DevTools protocol: no CSP exception needed). */
async function violations(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  const found = await page.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run: (ctx: Document, opts: unknown) => Promise<{ violations: Violation[] }> } }).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
    return r.violations;
  });
  return found.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)).join(', ')}`);
}

const PAGES: Array<[string, string, (page: Page) => Promise<unknown>]> = [
  ['browse', '#/', (p) => p.getByTestId('card').first().waitFor()],
  ['for you', '#/for-you', (p) => p.getByTestId('card').first().waitFor()],
  ['title', '', (p) => p.getByTestId('title-heading').waitFor()],
  ['history', '#/history', (p) => p.getByTestId('history-entry').first().waitFor()],
  ['search', `#/search/${encodeURIComponent('좀비')}`, (p) => p.getByTestId('search-result').first().waitFor()],
  ['style map', '#/style-map', (p) => p.locator('main h1').first().waitFor()],
  ['settings', '#/settings', (p) => p.locator('main h1').first().waitFor()],
  ['catalog', '#/catalog', (p) => p.getByTestId('catalog-row').first().waitFor()],
];

describe('accessibility (axe-core, WCAG 2.1 A/AA)', () => {
  for (const colorScheme of ['light', 'dark'] as const) {
    for (const locale of ['ko-KR', 'en-US']) {
      it(`has no violations on any page: ${colorScheme} theme, ${locale}`, async () => {
        const ctx = await browser.newContext({ colorScheme, locale });
        const page = await ctx.newPage();
        await page.goto(`${server.url}#/`);
        await page.getByTestId('card').first().waitFor();
        for (const t of items.slice(20, 23)) {
          await page.goto(`${server.url}#/title/${t.id}`);
          await page.getByTestId('act-like').click();
          await page.locator('[data-testid="act-like"][aria-pressed="true"]').waitFor();
        }
        const found: string[] = [];
        for (const [name, hash, ready] of PAGES) {
          await page.goto(`${server.url}${hash || `#/title/${items[40].id}`}`);
          await ready(page);
          await page.waitForTimeout(200);
          for (const v of await violations(page)) found.push(`${name}: ${v}`);
        }
        expect(found).toEqual([]);
        await ctx.close();
      });
    }
  }
});
