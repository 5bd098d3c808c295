import { describe, expect, it } from 'vitest';
import path from 'node:path';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { loadSnapshot, type LoadProgress, type ReadFile } from '../../src/core/snapshot/load.ts';

const demo = path.resolve(import.meta.dirname, '../../public/snapshot');

/** The demo snapshot's files, each heard arriving in 1 KB pieces, as a download reports them. */
function inPieces(read: ReadFile): ReadFile {
  return async (p, onBytes) => {
    const bytes = await read(p);
    for (let n = 1024; onBytes && n < bytes.byteLength; n += 1024) onBytes(n);
    onBytes?.(bytes.byteLength);
    return bytes;
  };
}

describe('snapshot load progress', () => {
  it('reports bytes of the total, rising, in at most ~200 steps, and ends at the total', async () => {
    const reports: LoadProgress[] = [];
    const read = inPieces(fsReader(demo));
    const snapshot = await loadSnapshot(read, { onProgress: (p) => reports.push(p) });
    const total = reports[0].total;
    expect(total).toBeGreaterThan(500_000);
    expect(reports.every((r) => r.total === total)).toBe(true);
    expect(reports[0].loaded).toBe(0);
    expect(reports.at(-1)!.loaded).toBe(total);
    for (let i = 1; i < reports.length; i++) expect(reports[i].loaded).toBeGreaterThan(reports[i - 1].loaded);
    // The pieces alone were ~total / 1 KB reports; each step is at least 0.5 % of the total.
    expect(reports.length).toBeLessThanOrEqual(202);
    expect(reports.length).toBeGreaterThan(20);
    expect(snapshot.items.length).toBe(snapshot.manifest.itemCount);
  });
});
