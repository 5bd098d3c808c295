/**
 * The snapshot worker parses and checks items.json a slice at a time (TitleSlices), as the page asks for the titles:
 * taken in order, the slices must give exactly the titles validateItems gives for the whole file, and refuse exactly
 * the files it refuses, with the same DataError; handed to the page as the worker hands them (toBytes, through a
 * structured clone that transfers their buffers; fromBytes) they must come out the same. The ranking core read from the bytes (`core`, a page's ranking before the
 * titles) must be what the checked titles say, and the titles sent out of order (`titlesAt`) the checked titles.
 * Also the loader with `titlesBySlice`, on the demo snapshot.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DataError } from '../../src/core/errors.ts';
import { loadSnapshot } from '../../src/core/snapshot/load.ts';
import type { Manifest, Title } from '../../src/core/snapshot/format.ts';
import { arrayElements, coreFromBytes, coreHolds, coreId, coreToBytes, parseJson, TitleSlices, validateItems, type RankingCore } from '../../src/core/snapshot/titles.ts';
import { fsReader } from '../../scripts/lib/node-io.ts';
import { demoSnapshotDir } from './helpers/paths.ts';

const enc = new TextEncoder();

/** What the core says of row `i`, as the page's preview has it. */
const rowOf = (core: RankingCore, i: number) => ({ id: coreId(core, i), genres: core.genreSets[core.genreOf[i]], popularity: core.popularity[i] });

/** Strings with what a cut could trip on: quotes, backslashes (in runs), brackets, commas, and non-ASCII. */
const tricky = fc.stringMatching(/^[a-z"\\\][}{,: 가-힣\u{1F600}\n\t]{0,12}$/u);
const title = fc.record(
  {
    id: fc.oneof(tricky.filter((s) => s.length > 0), fc.constantFrom('a', 'b', 'c')),
    title: fc.oneof(tricky.filter((s) => s.length > 0), fc.constant('')),
    genres: fc.array(tricky, { maxLength: 3 }),
    popularity: fc.oneof(fc.double({ min: 0, max: 1, noNaN: true }), fc.constant(2)),
    author: tricky,
    likes: fc.integer(),
    completed: fc.boolean(),
    cover: fc.constantFrom('covers/a.jpg', 'https://elsewhere.example/x.jpg'),
    // Dropped where the manifest keeps synopses in pages; a key TitleSchema does not know, which its output leaves out.
    synopsis: tricky,
    note: fc.constant('x'),
  },
  { requiredKeys: ['id', 'title', 'genres', 'popularity'] },
);
const format = fc.constantFrom<[number | string | undefined, boolean]>([undefined, false], [2, false], ['\t', false], [undefined, true], [1, true]);

function manifestFor(count: number): Manifest {
  return { items: 'items.json', itemCount: count, details: { pageSize: 100, pages: [] } } as unknown as Manifest;
}

type Outcome = { items: Title[] } | { error: [string, string, string | undefined, string | undefined] };

function whole(bytes: Uint8Array, manifest: Manifest): Outcome {
  try {
    return { items: validateItems(parseJson(bytes, manifest.items), manifest).items };
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    return { error: [e.file, e.message, e.item, e.field] };
  }
}

/** By slices of `sizes` in turn: where they are cut (`of`), or as the page gets them from the worker (`toBytes`). */
function sliced(bytes: Uint8Array, manifest: Manifest, sizes: number[], as: 'here' | 'handed' = 'here'): Outcome {
  try {
    // Handed over, the buffer moves: a copy of the caller's.
    const cut = TitleSlices.of(as === 'handed' ? bytes.slice() : bytes, manifest);
    if (!cut) return whole(bytes, manifest); // as the loader does
    let slices = cut;
    if (as === 'handed') {
      // Through a structured clone that transfers the buffers, as the worker's message to the page does.
      const parts = cut.toBytes();
      slices = TitleSlices.fromBytes(structuredClone(parts, { transfer: [parts.bytes.buffer, parts.starts.buffer, parts.ends.buffer] }), manifest)!;
      expect(parts.bytes.byteLength).toBe(0); // moved, not copied
    }
    const items: Title[] = [];
    for (let start = 0, k = 0; start < slices.count; k++) {
      const end = Math.min(slices.count, start + sizes[k % sizes.length]);
      items.push(...slices.slice(start, end));
      start = end;
    }
    return { items };
  } catch (e) {
    if (!(e instanceof DataError)) throw e;
    return { error: [e.file, e.message, e.item, e.field] };
  }
}

describe('items.json a slice at a time (TitleSlices)', () => {
  it('gives the titles and the refusals that checking the whole file gives', () => {
    let refused = 0;
    fc.assert(
      fc.property(fc.array(title, { maxLength: 12 }), format, fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: -1, max: 1 }), (list, [indent, bom], sizes, countOff) => {
        const json = JSON.stringify(list, null, indent);
        const bytes = enc.encode(bom ? `\uFEFF ${json}\n` : json);
        const manifest = manifestFor(list.length + (list.length ? countOff : Math.max(0, countOff)));
        const a = whole(bytes, manifest);
        expect(sliced(bytes, manifest, sizes)).toEqual(a);
        expect(sliced(bytes, manifest, sizes, 'handed')).toEqual(a);
        if ('error' in a) refused++;
        // Where the file is an array, the scan cuts it exactly where its elements are.
        const at = arrayElements(bytes)!;
        expect([...at.starts].map((s, k) => JSON.parse(new TextDecoder().decode(bytes.subarray(s, at.ends[k]))))).toEqual(list);
      }),
      { numRuns: 400, seed: 20261204 },
    );
    expect(refused).toBeGreaterThan(50);
  });

  it('refuses broken bytes as parsing the whole file does', () => {
    const list = [{ id: 'a', title: 'x"]}', genres: ['드라마'], popularity: 0.5 }, { id: 'b\\', title: '[{,', genres: [], popularity: 1 }, { id: 'c', title: 'z', genres: ['a'], popularity: 0 }];
    const good = enc.encode(JSON.stringify(list));
    fc.assert(
      fc.property(fc.nat({ max: good.length }), fc.constantFrom('cut', 'insert', 'replace'), fc.constantFrom(...'{}[]",:\\ 0an'.split('')), fc.integer({ min: 1, max: 3 }), (at, how, ch, size) => {
        const c = ch.charCodeAt(0);
        const bytes = how === 'cut' ? good.slice(0, at) : how === 'insert' ? new Uint8Array([...good.slice(0, at), c, ...good.slice(at)]) : Uint8Array.from(good, (b, i) => (i === at ? c : b));
        const manifest = manifestFor(3);
        const a = whole(bytes, manifest);
        const b = sliced(bytes, manifest, [size]);
        expect(sliced(bytes, manifest, [size], 'handed')).toEqual(b);
        if ('items' in a) expect(b).toEqual(a);
        // Bytes that are not JSON: refused in both, naming items.json (a cut that changes the count may say so first).
        else if (a.error[1].includes('is not valid JSON')) expect('error' in b && b.error[0] === 'items.json').toBe(true);
        else expect(b).toEqual(a);
      }),
      { numRuns: 600, seed: 4 },
    );
  });

  it('reads the ranking core from the bytes as the checked titles have it, and sends titles out of order as checked', () => {
    let cores = 0;
    let plainIds = 0;
    fc.assert(
      fc.property(fc.array(title, { maxLength: 10 }), format, fc.boolean(), fc.array(fc.nat(), { maxLength: 4 }), fc.boolean(), (tricky, [indent, bom], reversed, picks, ascii) => {
        // Half the lists with every id plain ASCII (the same ids equal, as before), as a catalog's are.
        const list = ascii ? tricky.map((t) => ({ ...t, id: [...t.id].map((c) => c.codePointAt(0)!.toString(36)).join('-') })) : tricky;
        // Keys in either order: the core is read up to the last of id, genres and popularity, wherever they are.
        const objects = reversed ? list.map((t) => Object.fromEntries(Object.entries(t).reverse())) : list;
        const json = JSON.stringify(objects, null, indent);
        const bytes = enc.encode(bom ? `\uFEFF ${json}\n` : json);
        const manifest = manifestFor(list.length);
        const slices = TitleSlices.of(bytes, manifest);
        if (!slices) return;
        const core = slices.core();
        // Read wherever every title's three fields are as TitleSchema takes them, and only there.
        const readable = list.every((t) => typeof t.id === 'string' && t.id !== '' && t.popularity >= 0 && t.popularity <= 1);
        expect(core !== undefined).toBe(readable);
        const a = whole(bytes, manifest);
        if (!core || !('items' in a)) return;
        cores++;
        // Ids of plain ASCII are cut from the bytes, others parsed as JSON strings: the same ids either way.
        if (list.every((t) => /^[ -~]*$/.test(t.id) && !/["\\]/.test(t.id))) plainIds++;
        expect(a.items.every((t, i) => coreHolds(rowOf(core, i), t))).toBe(true);
        // Kept beside items.json for the next visit (RANKING_CORE), it reads back the same, for this many titles only.
        expect(coreFromBytes(coreToBytes(core), list.length)).toEqual(core);
        expect(coreFromBytes(coreToBytes(core), list.length + 1)).toBeUndefined();
        const rows = list.length ? picks.map((p) => p % list.length) : [];
        expect(slices.titlesAt(rows)).toEqual(rows.map((r) => a.items[r]));
      }),
      { numRuns: 800, seed: 20261205 },
    );
    expect(cores).toBeGreaterThan(50);
    expect(plainIds).toBeGreaterThan(10);
    expect(cores - plainIds).toBeGreaterThan(3);
  });

  it('takes no kept core that is not one whole: damaged bytes give none, or one the page can rank with (ids, genres, popularity in range)', async () => {
    const manifest = JSON.parse(new TextDecoder().decode(await fsReader(demoSnapshotDir)('manifest.json'))) as Manifest;
    const core = TitleSlices.of(await fsReader(demoSnapshotDir)(manifest.items), manifest)!.core()!;
    const kept = coreToBytes(core);
    expect(coreFromBytes(kept, manifest.itemCount)).toEqual(core);
    fc.assert(
      fc.property(fc.array(fc.record({ at: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), { minLength: 1, maxLength: 4 }), fc.option(fc.nat()), (flips, cut) => {
        let bytes = kept.slice();
        for (const f of flips) bytes[f.at % bytes.length] ^= f.xor;
        if (cut !== null) bytes = bytes.slice(0, cut % bytes.length);
        const read = coreFromBytes(bytes, manifest.itemCount);
        if (!read) return;
        const n = manifest.itemCount;
        expect(read.idEnds.length).toBe(n);
        for (let k = 0; k < n; k++) {
          expect(coreId(read, k).length).toBeGreaterThan(0);
          expect(read.genreSets[read.genreOf[k]]).toBeDefined();
          expect(read.popularity[k] >= 0 && read.popularity[k] <= 1).toBe(true);
        }
      }),
      { numRuns: 300, seed: 20261206 },
    );
  });

  it('gives no core that the checked titles would contradict: a key repeated after the three, an escaped key', () => {
    const manifest = manifestFor(1);
    const repeated = enc.encode('[{"id":"a","genres":["x"],"popularity":0.5,"title":"t","popularity":0.25}]');
    const core = TitleSlices.of(repeated, manifest)!.core()!;
    // Read up to the first popularity; JSON.parse keeps the last: the page finds the difference and ranks again.
    expect(core.popularity[0]).toBe(0.5);
    expect(coreHolds(rowOf(core, 0), validateItems(parseJson(repeated, 'items.json'), manifest).items[0])).toBe(false);
    expect(TitleSlices.of(enc.encode('[{"id":"a","id":"b","genres":[],"popularity":0}]'), manifest)!.core()).toBeUndefined();
    expect(TitleSlices.of(enc.encode('[{"\\u0069d":"a","genres":[],"popularity":0}]'), manifest)!.core()).toBeUndefined();
    expect(TitleSlices.of(enc.encode('[{"id":"a","genres":[1],"popularity":0}]'), manifest)!.core()).toBeUndefined();
    expect(TitleSlices.of(enc.encode('[{"id":"a","genres":[],"popularity":"0"}]'), manifest)!.core()).toBeUndefined();
    expect(TitleSlices.of(enc.encode('[{"id":"a","genres":[],"popularity":01}]'), manifest)!.core()).toBeUndefined();
  });

  it('gives the slices only in order, each once', () => {
    const bytes = enc.encode(JSON.stringify([{ id: 'a', title: 'a', genres: [], popularity: 0 }, { id: 'b', title: 'b', genres: [], popularity: 0 }]));
    const slices = TitleSlices.of(bytes, manifestFor(2))!;
    expect(() => slices.slice(1, 2)).toThrow(/not the next ones/);
    expect(slices.slice(0, 1).map((t) => t.id)).toEqual(['a']);
    expect(() => slices.slice(0, 1)).toThrow(/not the next ones/);
    expect(slices.slice(1, 2).map((t) => t.id)).toEqual(['b']);
  });

  it('hands over only a whole cut of as many titles as the manifest lists, and only before any slice', () => {
    const bytes = enc.encode(JSON.stringify([{ id: 'a', title: 'a', genres: [], popularity: 0 }, { id: 'b', title: 'b', genres: [], popularity: 0 }]));
    const parts = TitleSlices.of(bytes, manifestFor(2))!.toBytes();
    expect(TitleSlices.fromBytes(parts, manifestFor(2))!.titlesAt([1, 0]).map((t) => t.id)).toEqual(['b', 'a']);
    expect(TitleSlices.fromBytes(parts, manifestFor(3))).toBeUndefined();
    expect(TitleSlices.fromBytes({ ...parts, ends: Uint32Array.of(parts.ends[0], bytes.length + 1) }, manifestFor(2))).toBeUndefined();
    expect(TitleSlices.fromBytes({ ...parts, starts: Uint32Array.of(parts.starts[0], parts.ends[1]) }, manifestFor(2))).toBeUndefined();
    expect(TitleSlices.fromBytes({ ...parts, starts: parts.starts.subarray(1) }, manifestFor(2))).toBeUndefined();
    const sliced = TitleSlices.of(bytes, manifestFor(2))!;
    sliced.slice(0, 1);
    expect(() => sliced.toBytes()).toThrow(/sliced already/);
  });

  it('loads the demo snapshot with the titles left to slices: the same titles, and spaces, as a whole load', async () => {
    const all = await loadSnapshot(fsReader(demoSnapshotDir), { synopses: 'lazy' });
    const snap = await loadSnapshot(fsReader(demoSnapshotDir), { synopses: 'lazy', titlesBySlice: true });
    expect(snap.items).toEqual([]);
    const items: Title[] = [];
    for (let start = 0; start < snap.titles!.count; start += 100) items.push(...snap.titles!.slice(start, Math.min(snap.titles!.count, start + 100)));
    expect(items).toEqual(all.items);
    expect([...snap.spaces.keys()]).toEqual([...all.spaces.keys()]);
    for (const [name, s] of all.spaces) expect(snap.spaces.get(name)!.data).toEqual(s.data);
  });
});
