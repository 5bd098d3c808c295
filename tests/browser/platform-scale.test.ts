/**
 * A catalog past the size where the lexical space stays sparse in memory (17,000 titles: its dense rows would take
 * 66 MiB), in the built app: the page moves those rows into WebAssembly memory as the snapshot arrives
 * (src/app/snapshot-client.ts, math/sparse-scan.ts), and For you ranks with that kernel exactly what Node ranks
 * with the JavaScript loop over the rows where the loader left them.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launch, serveDist, trackErrors } from './harness.ts';
import { writeSyntheticSource } from '../../bench/synthetic-catalog.ts';
import { makeSnapshot } from '../../scripts/snapshot.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { loadSnapshot } from '../../src/core/snapshot/load.ts';
import { recommend } from '../../src/core/ranker.ts';
import { defaultConfig } from '../../src/core/config.ts';

const TITLES = 17_000;
let browser: Browser;
let server: Awaited<ReturnType<typeof serveDist>>;
let work: string;
let snapshotDir: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'toonpick-platform-'));
  await writeSyntheticSource(TITLES, work, 11);
  snapshotDir = path.join(work, 'snapshot');
  await makeSnapshot({ source: work, out: snapshotDir, name: 'synthetic 17k' });
  [browser, server] = await Promise.all([launch(), serveDist()]);
  await symlink(snapshotDir, path.join(server.root, 'big'));
}, 300_000);
afterAll(async () => {
  await browser?.close();
  await server?.dispose();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('a 17,000-title catalog in the app', () => {
  it('scans its sparse lexical rows in WebAssembly on the page, with the same For you list as the JavaScript scan', async () => {
    const node = await loadSnapshot(fsReader(snapshotDir), { wasmRows: false });
    const lexical = node.spaces.get('lexical')!;
    expect(lexical.csr).toBeDefined();
    const page = await browser.newPage();
    const errors = trackErrors(page);
    const liked = [node.items[120].id, node.items[4321].id, node.items[9876].id];
    for (const id of liked) {
      await page.goto(`${server.url}?snapshot=./big/#/title/${encodeURIComponent(id)}`);
      await page.getByTestId('act-like').click({ timeout: 120_000 });
      await page.locator('[data-testid="act-like"][aria-pressed="true"]').waitFor();
    }
    await page.goto(`${server.url}?snapshot=./big/#/for-you`);
    await page.getByTestId('card').first().waitFor({ timeout: 120_000 });
    const shown = await page.getByTestId('card').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')!));

    // The page holds a WebAssembly memory with the lexical rows (every WebAssembly.Memory on the page, by prototype).
    const cdp = await page.context().newCDPSession(page);
    const proto = await cdp.send('Runtime.evaluate', { expression: 'WebAssembly.Memory.prototype' });
    const { objects } = await cdp.send('Runtime.queryObjects', { prototypeObjectId: proto.result.objectId! });
    const sizes = await cdp.send('Runtime.callFunctionOn', { objectId: objects.objectId!, functionDeclaration: 'function () { return this.map((m) => m.buffer.byteLength); }', returnByValue: true });
    const rowBytes = lexical.csr!.cols.byteLength + lexical.csr!.values.byteLength;
    expect(Math.max(0, ...(sizes.result.value as number[]))).toBeGreaterThan(rowBytes);

    const history = liked.map((id, i) => ({ id, readAt: i + 1, likedAt: i + 1 }));
    const expected = recommend(node, history, defaultConfig.ranker, shown.length)!.map((r) => node.items[r.index].id);
    expect(shown).toEqual(expected);
    expect(errors).toEqual([]);
  }, 300_000);
});
