/**
 * scripts/serve.ts, the server of `npm start` and the browser tests, speaks HTTP the way a production host
 * should for Toonpick (docs/snapshot.md, "Serving"): compression, ETags, and cache lifetimes by file kind.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { serve, type Served } from '../../scripts/serve.ts';

let dir: string;
let server: Served;
const json = JSON.stringify(Array.from({ length: 500 }, (_, i) => ({ id: `t${i}`, title: `title ${i}` })));

/** A raw GET (no automatic decompression), so the test sees what went over the wire. */
function get(p: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(new URL(p, server.url), { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'toonpick-serve-'));
  await mkdir(path.join(dir, 'snapshot'), { recursive: true });
  await mkdir(path.join(dir, 'assets'), { recursive: true });
  await writeFile(path.join(dir, 'snapshot/items.json'), json);
  await writeFile(path.join(dir, 'snapshot/pre.json'), json);
  // A pre-compressed copy with a marker, to tell it from one made on the fly.
  await writeFile(path.join(dir, 'snapshot/pre.json.gz'), gzipSync(`${json} `));
  await writeFile(path.join(dir, 'assets/index-Bx3k9dQ2.js'), 'console.log(1);'.repeat(200));
  server = await serve(dir);
});
afterAll(async () => {
  await server?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('scripts/serve.ts', () => {
  it('compresses what the request accepts (brotli first), and sends a pre-compressed copy when there is one', async () => {
    const br = await get('snapshot/items.json', { 'accept-encoding': 'gzip, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.body).toString()).toBe(json);
    expect(br.body.length).toBeLessThan(json.length / 4);
    const gz = await get('snapshot/items.json', { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(json);
    const plain = await get('snapshot/items.json', { 'accept-encoding': 'br;q=0, identity' });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(json);
    expect(plain.headers.vary).toBe('accept-encoding');
    const pre = await get('snapshot/pre.json', { 'accept-encoding': 'gzip' });
    expect(gunzipSync(pre.body).toString()).toBe(`${json} `);
  });

  it('answers a matching If-None-Match with 304 and no body, per encoding', async () => {
    const first = await get('snapshot/items.json', { 'accept-encoding': 'gzip' });
    const etag = first.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]+-gzip"$/);
    const again = await get('snapshot/items.json', { 'accept-encoding': 'gzip', 'if-none-match': etag });
    expect(again.status).toBe(304);
    expect(again.body.length).toBe(0);
    // The uncompressed answer has another tag: a cache never mixes the two.
    const plain = await get('snapshot/items.json', { 'if-none-match': etag });
    expect(plain.status).toBe(200);
    expect(plain.headers.etag).not.toBe(etag);
  });

  it('streams a file as it is on disk, and tags a file written again anew (its tag is made once per version)', async () => {
    const big = Buffer.from(Array.from({ length: 3_000_000 }, (_, i) => (i * 7919) % 251));
    await writeFile(path.join(dir, 'snapshot/big.png'), big); // not compressed: sent as it is
    const first = await get('snapshot/big.png');
    expect(first.headers['content-length']).toBe(String(big.length));
    expect(first.body.equals(big)).toBe(true);
    expect((await get('snapshot/big.png', { 'if-none-match': first.headers.etag as string })).status).toBe(304);
    big[1_234_567] ^= 1;
    await new Promise((r) => setTimeout(r, 20)); // a later mtime
    await writeFile(path.join(dir, 'snapshot/big.png'), big);
    const changed = await get('snapshot/big.png', { 'if-none-match': first.headers.etag as string });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(first.headers.etag);
    expect(changed.body.equals(big)).toBe(true);
  });

  it('caches content-addressed build files for a year and revalidates everything else', async () => {
    expect((await get('assets/index-Bx3k9dQ2.js')).headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect((await get('snapshot/items.json')).headers['cache-control']).toBe('no-cache');
    expect((await get('snapshot/missing.json')).status).toBe(404);
    expect((await get('../etc/passwd')).status).toBe(404);
  });

  it('makes the app cross-origin isolated (COOP + COEP) and lets any site embed its files (CORP), on 200s and 304s', async () => {
    const first = await get('snapshot/items.json');
    const again = await get('snapshot/items.json', { 'if-none-match': first.headers.etag as string });
    expect(again.status).toBe(304);
    for (const res of [first, again]) {
      expect(res.headers['cross-origin-opener-policy']).toBe('same-origin');
      expect(res.headers['cross-origin-embedder-policy']).toBe('credentialless');
      expect(res.headers['cross-origin-resource-policy']).toBe('cross-origin');
    }
  });
});
