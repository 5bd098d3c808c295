import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import type { Browser } from 'playwright-core';
import { launch, serveDist } from './harness.ts';

let browser: Browser;
let server: Awaited<ReturnType<typeof serveDist>>;

beforeAll(async () => {
  [browser, server] = await Promise.all([launch(), serveDist()]);
});
afterAll(async () => {
  await browser?.close();
  await server?.dispose();
});

describe('UI languages', () => {
  it('defaults to the browser language: Korean for a Korean browser, with localised numbers', async () => {
    const ctx = await browser.newContext({ locale: 'ko-KR' });
    const page = await ctx.newPage();
    await page.goto(server.url);
    await page.getByRole('link', { name: '둘러보기' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('ko');
    await page.locator('footer', { hasText: '작품 969개' }).waitFor();
    await page.getByRole('button', { name: '모든 장르' }).waitFor();
    await ctx.close();
  });

  it('switches between English and Korean and remembers the choice', async () => {
    const ctx = await browser.newContext({ locale: 'en-US' });
    const page = await ctx.newPage();
    await page.goto(`${server.url}#/history`);
    await page.getByRole('heading', { name: 'My history' }).waitFor();
    await page.getByTestId('language').selectOption('ko');
    await page.getByRole('heading', { name: '내 기록' }).waitFor();
    await page.getByRole('button', { name: '기록 내보내기' }).waitFor();
    await page.reload();
    await page.getByRole('heading', { name: '내 기록' }).waitFor();
    await page.getByTestId('language').selectOption('en');
    await page.getByRole('heading', { name: 'My history' }).waitFor();
    expect(await page.evaluate(() => document.documentElement.lang)).toBe('en');
    await ctx.close();
  });
});
