/** Test snapshots with more than one synopsis page, made from a built one whose synopses fit one page. */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { contentHashOf, sha256Hex, type Manifest } from '../../../src/core/snapshot/format.ts';

/**
 * Splits the snapshot in `dir` (one synopsis page) into pages of `size` titles, in place, and re-signs its manifest
 * (its pre-compressed copies removed, since they would be stale). Answers every synopsis, in row order.
 */
export async function repageSynopses(dir: string, size: number): Promise<string[]> {
  const m = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as Manifest;
  const all = JSON.parse(await readFile(path.join(dir, m.details!.pages[0]), 'utf8')) as string[];
  delete m.files[m.details!.pages[0]];
  await rm(path.join(dir, 'details'), { recursive: true });
  await mkdir(path.join(dir, 'details'));
  m.details = { pageSize: size, pages: [] };
  for (let k = 0; k * size < all.length; k++) {
    const p = `details/synopses-${k}.json`;
    const bytes = new TextEncoder().encode(JSON.stringify(all.slice(k * size, (k + 1) * size)));
    await writeFile(path.join(dir, p), bytes);
    m.files[p] = { bytes: bytes.byteLength, sha256: (await sha256Hex(bytes))! };
    m.details.pages.push(p);
  }
  m.contentHash = (await contentHashOf(m.files))!;
  await Promise.all(['manifest.json.br', 'manifest.json.gz'].map((f) => rm(path.join(dir, f), { force: true })));
  await writeFile(path.join(dir, 'manifest.json'), JSON.stringify(m));
  return all;
}
