/**
 * Real-browser test harness: headless Chromium (Debian's /usr/bin/chromium) through playwright-core,
 * against the built app (dist/) served on 127.0.0.1. A missing browser fails the run; it never skips.
 */
import { existsSync } from 'node:fs';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { serve, type Served } from '../../scripts/serve.ts';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

export async function launch(extraArgs: string[] = []): Promise<Browser> {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: install it (apt-get install -y chromium) — browser tests never skip`);
  return chromium.launch({ executablePath: CHROMIUM, args: [...CHROMIUM_ARGS, ...extraArgs], headless: true });
}

/** Serves a private copy of dist/ so a test may add broken files beside the real ones. */
export async function serveDist(): Promise<Served & { root: string; dispose(): Promise<void> }> {
  const dist = path.join(repoRoot, 'dist');
  if (!existsSync(path.join(dist, 'index.html'))) throw new Error('dist/ is missing: run `vite build` first (npm test does)');
  const root = await mkdtemp(path.join(tmpdir(), 'toonpick-dist-'));
  await cp(dist, root, { recursive: true });
  const s = await serve(root);
  return { ...s, root, dispose: async () => { await s.close(); await rm(root, { recursive: true, force: true }); } };
}

/** Records every request the page makes, so tests can prove nothing left our origin. */
export function trackRequests(context: BrowserContext): string[] {
  const urls: string[] = [];
  context.on('request', (r) => urls.push(r.url()));
  return urls;
}

/** Console errors and uncaught exceptions fail a test that checks them. */
export function trackErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  return errors;
}
