/**
 * items.json: the titles, parsed and checked whole (validateItems) or a slice at a time (TitleSlices), with the same
 * rules and the same errors; and the JSON parse every snapshot file goes through (parseJson).
 */
import { DataError } from '../errors.ts';
import { parseWith } from '../schema/issues.ts';
import { acceptedTitle, TitleSchema } from '../schema/snapshot.ts';
import type { Manifest, Title } from './format.ts';
import { isCoverRef } from './paths.ts';

/** Deeper than any field a snapshot has; more would overflow the stack of whatever writes the value back. */
const MAX_JSON_DEPTH = 32;

export function parseJson(bytes: Uint8Array, file: string): unknown {
  return parseJsonText(new TextDecoder('utf-8', { fatal: false }).decode(bytes), file);
}

function parseJsonText(text: string, file: string): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new DataError(file, `is not valid JSON (${(e as Error).message})`);
  }
  // Iterative, so that checking depth cannot overflow the stack itself; two plain stacks and indexed loops rather
  // than [value, depth] pairs and Object.values, which took ~110 ms of the 100k-title items.json (now ~10 ms).
  const values: object[] = [];
  const depths: number[] = [];
  const push = (child: unknown, depth: number) => {
    if (typeof child === 'object' && child !== null) {
      values.push(child);
      depths.push(depth);
    }
  };
  push(value, 1);
  while (values.length) {
    const v = values.pop()!;
    const depth = depths.pop()!;
    if (depth > MAX_JSON_DEPTH) throw new DataError(file, `nests deeper than ${MAX_JSON_DEPTH} levels`);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) push(v[i], depth + 1);
    } else {
      for (const k in v) push((v as Record<string, unknown>)[k], depth + 1);
    }
  }
  return value;
}

export function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

const COVER_KEYS = ['cover', 'coverSquare'] as const;

/** How an error names the title of row `i`: by its id where it has one, else by position. */
const nameOf = (t: unknown, i: number) => (isObject(t) && typeof t.id === 'string' && t.id ? t.id : `#${i}`);

/**
 * One entry of items.json checked (row `i`): TitleSchema (naming the item by id, else by position), its id not in
 * `indexOf` yet (then added), its covers allowed; a synopsis only where the manifest has no pages.
 */
function titleCheck(manifest: Manifest): (t: unknown, i: number, indexOf: Map<string, number>) => Title {
  const f = manifest.items;
  const origins = manifest.coverOrigins ?? [];
  const covers = `a path inside the snapshot${origins.length ? ` or an https URL on ${origins.join(', ')}` : ' (covers on other origins need the manifest\'s coverOrigins)'}`;
  return (t, i, indexOf) => {
    const item = acceptedTitle(t) ?? parseWith(TitleSchema, t, f, { item: nameOf(t, i), skip: 0 });
    // Synopses live in items.json unless the manifest keeps them in pages (filled in from there).
    if (manifest.details) {
      if (item.synopsis !== undefined) delete item.synopsis;
    } else if (item.synopsis === undefined) throw new DataError(f, 'must be a string', { item: item.id, field: 'synopsis' });
    if (indexOf.has(item.id)) throw new DataError(f, 'repeats an id', { item: item.id, field: 'id' });
    indexOf.set(item.id, i);
    for (const k of COVER_KEYS) if (item[k] !== undefined && !isCoverRef(item[k], origins)) throw new DataError(f, `must be ${covers}`, { item: item.id, field: k });
    return item;
  };
}

/** items.json's whole array checked (titleCheck each), with the titles' index by id, which the check of repeated ids builds anyway. */
export function validateItems(raw: unknown, manifest: Manifest): { items: Title[]; indexOf: Map<string, number> } {
  const f = manifest.items;
  if (!Array.isArray(raw)) throw new DataError(f, 'must be a JSON array of items');
  if (raw.length !== manifest.itemCount) throw new DataError(f, `has ${raw.length} items, the manifest says ${manifest.itemCount}`);
  const indexOf = new Map<string, number>();
  const check = titleCheck(manifest);
  const items = raw.map((t: unknown, i: number) => {
    const item = check(t, i, indexOf);
    raw[i] = null; // the checked copy replaces it: the parsed original can go while the rest is checked
    return item;
  });
  return { items, indexOf };
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const isSpace = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/**
 * Where each element of a JSON array lies in its UTF-8 bytes: [starts[k], ends[k]), ends[k] being the comma or
 * bracket after it. Undefined where the bytes are not an array this scan can cut (then parsing it whole names the
 * fault). Only strings and brackets are followed, not the grammar: a slice cut wrongly fails its own parse.
 */
export function arrayElements(b: Uint8Array): { starts: Uint32Array; ends: Uint32Array } | undefined {
  let i = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? 3 : 0; // a byte-order mark, which TextDecoder drops too
  while (i < b.length && isSpace(b[i])) i++;
  if (b[i++] !== 0x5b) return undefined;
  const starts: number[] = [];
  const ends: number[] = [];
  let depth = 0;
  let start = -1;
  for (; i < b.length; i++) {
    const c = b[i];
    if (c === QUOTE) {
      const j = stringEnd(b, i);
      if (j < 0) return undefined;
      if (start < 0) start = i;
      i = j;
    } else if (isSpace(c)) {
      continue;
    } else if (depth === 0 && (c === 0x2c || c === 0x5d)) {
      if (start < 0 && (c === 0x2c || starts.length > 0)) return undefined;
      if (start >= 0) {
        starts.push(start);
        ends.push(i);
        start = -1;
      }
      if (c === 0x5d) {
        for (i++; i < b.length; i++) if (!isSpace(b[i])) return undefined;
        return { starts: Uint32Array.from(starts), ends: Uint32Array.from(ends) };
      }
    } else {
      if (start < 0) start = i;
      if (c === 0x7b || c === 0x5b) depth++;
      else if ((c === 0x7d || c === 0x5d) && --depth < 0) return undefined;
    }
  }
  return undefined;
}

/**
 * items.json's titles, parsed and checked a slice at a time, in order, as they are asked for (the page: the snapshot
 * worker cuts the file and hands it over, `toBytes`, and the page takes in one slice per task, never holding the
 * whole file's text and titles at once — at 100k titles ~30 MB of text and as much again of objects). Each title is
 * checked as validateItems checks it, with the same error; each id against those of every slice before. Undefined
 * (`of`) where the file cannot be cut into as many elements as the manifest says: validateItems then checks it whole
 * and names the fault.
 */
export class TitleSlices {
  private next = 0;
  private readonly indexOf = new Map<string, number>();
  private readonly check: ReturnType<typeof titleCheck>;

  private constructor(
    private bytes: Uint8Array | undefined,
    private readonly manifest: Manifest,
    private readonly at: { starts: Uint32Array; ends: Uint32Array },
  ) {
    this.check = titleCheck(manifest);
  }

  static of(bytes: Uint8Array, manifest: Manifest): TitleSlices | undefined {
    const at = arrayElements(bytes);
    return at && at.starts.length === manifest.itemCount ? new TitleSlices(bytes, manifest, at) : undefined;
  }

  /** The file and where its titles lie, as the worker hands them to the page (their buffers to transfer); none sliced yet. */
  toBytes(): TitleBytes {
    if (this.next !== 0 || !this.bytes) throw new Error('titles were sliced already');
    return { bytes: this.bytes, starts: this.at.starts, ends: this.at.ends };
  }

  /** Back from `toBytes` (on the page), or undefined where they are not a cut of as many titles as the manifest says. */
  static fromBytes(t: TitleBytes, manifest: Manifest): TitleSlices | undefined {
    const n = manifest.itemCount;
    const fits = t.starts.length === n && t.ends.length === n && t.starts.every((s, k) => s < t.ends[k] && t.ends[k] <= t.bytes.byteLength);
    return fits ? new TitleSlices(t.bytes, manifest, { starts: t.starts, ends: t.ends }) : undefined;
  }

  get count(): number {
    return this.at.starts.length;
  }

  /** Titles `start` to `end` (exclusive), checked; `start` must be where the slice before ended. */
  slice(start: number, end: number): Title[] {
    if (start !== this.next || end <= start || end > this.count || !this.bytes) throw new Error(`titles ${start}–${end - 1} are not the next ones (${this.next} is)`);
    const f = this.manifest.items;
    const text = new TextDecoder('utf-8', { fatal: false }).decode(this.bytes.subarray(this.at.starts[start], this.at.ends[end - 1]));
    let raw: unknown;
    try {
      raw = parseJsonText(`[${text}]`, f);
    } catch {
      raw = undefined;
    }
    if (!Array.isArray(raw) || raw.length !== end - start) {
      // The file's own fault, named as parsing it whole names it.
      parseJson(this.bytes, f);
      throw new DataError(f, 'is not valid JSON');
    }
    const items = raw.map((t: unknown, k: number) => this.check(t, start + k, this.indexOf));
    this.next = end;
    if (end === this.count) this.bytes = undefined;
    return items;
  }

  /**
   * What the ranker reads of every title (RankingCore), read from the file's bytes without parsing the titles, so
   * that a page can rank before it has them all. Undefined where a title's top-level keys cannot be read that way
   * (an escaped key, a key twice) or its id, genres or popularity are not what TitleSchema accepts as they are: the
   * titles' own check then names the fault. The page holds the core to the checked titles (coreHolds).
   */
  core(): RankingCore | undefined {
    const b = this.bytes;
    if (!b) return undefined;
    const n = this.count;
    // Where each title's id, popularity and genres lie (start, end pairs), read from its top-level keys.
    const at = new Int32Array(6 * n);
    let idBytes = 0;
    let numberBytes = 0;
    let plain = true;
    for (let k = 0; k < n; k++) {
      const o = 6 * k;
      if (!coreFields(b, this.at.starts[k], this.at.ends[k], at, o)) return undefined;
      idBytes += at[o + 1] - at[o];
      numberBytes += at[o + 3] - at[o + 2] + 1;
      if (plain) for (let i = at[o] + 1; i < at[o + 1] - 1; i++) if (b[i] < 0x20 || b[i] > 0x7e || b[i] === BACKSLASH) plain = false;
    }
    const decoder = new TextDecoder('utf-8', { fatal: false });
    // The ids, one after another in one string: where every id is a plain ASCII string (as a catalog's are), its
    // bytes between the quotes; else JSON's own strings. One string crosses to the page far faster than 100k.
    const idEnds = new Uint32Array(n);
    let idText: string;
    if (plain) {
      const text = new Uint8Array(idBytes);
      let w = 0;
      for (let k = 0; k < n; k++) {
        const from = at[6 * k], to = at[6 * k + 1];
        if (to - from < 3 || b[from] !== QUOTE || b[to - 1] !== QUOTE) return undefined;
        for (let i = from + 1; i < to - 1; i++) text[w++] = b[i];
        idEnds[k] = w;
      }
      idText = decoder.decode(text.subarray(0, w));
    } else {
      const ids = parsedValues(b, at, n, 0, idBytes + n, decoder);
      if (!ids?.every((id) => typeof id === 'string' && id)) return undefined;
      let end = 0;
      ids.forEach((id, k) => (idEnds[k] = end += (id as string).length));
      idText = ids.join('');
    }
    // Every popularity as one JSON array, parsed at once: exactly the numbers parsing the titles gives.
    const numbers = parsedValues(b, at, n, 2, numberBytes, decoder);
    if (!numbers) return undefined;
    const popularity = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      const p = numbers[k];
      if (typeof p !== 'number' || !(p >= 0 && p <= 1)) return undefined;
      popularity[k] = p;
    }
    // Genre lists by a hash of their bytes, each with where it was first seen (a catalog has a few dozen): little
    // is made per title, so that this worker's heap does not grow while the page ranks.
    const genreOf = new Uint32Array(n);
    const genreSets: string[][] = [];
    const setsByHash = new Map<number, Array<{ from: number; to: number; set: number }>>();
    for (let k = 0; k < n; k++) {
      const from = at[6 * k + 4];
      const to = at[6 * k + 5];
      const h = hashOf(b, from, to);
      const same = setsByHash.get(h);
      let set = -1;
      for (const x of same ?? []) if (sameBytes(b, x.from, x.to, from, to)) set = x.set;
      if (set < 0) {
        let g: unknown;
        try {
          g = JSON.parse(decoder.decode(b.subarray(from, to)));
        } catch {
          return undefined;
        }
        if (!Array.isArray(g) || !g.every((x) => typeof x === 'string')) return undefined;
        set = genreSets.push(g) - 1;
        if (same) same.push({ from, to, set });
        else setsByHash.set(h, [{ from, to, set }]);
      }
      genreOf[k] = set;
    }
    return { idText, idEnds, popularity, genreSets, genreOf };
  }

  /**
   * The titles at these rows, out of order, before their slices (a page's first cards): each parsed from its own
   * bytes and checked as a slice checks it, but for repeated ids, which the page finds in the core's ids and the
   * slices find again.
   */
  titlesAt(rows: readonly number[]): Title[] {
    const b = this.bytes;
    if (!b) throw new Error('the titles were all taken in already');
    const f = this.manifest.items;
    const decoder = new TextDecoder('utf-8', { fatal: false });
    return rows.map((i) => {
      if (!(i >= 0 && i < this.count)) throw new Error(`no title at row ${i}`);
      let raw: unknown;
      try {
        raw = parseJsonText(decoder.decode(b.subarray(this.at.starts[i], this.at.ends[i])), f);
      } catch {
        throw new DataError(f, 'is not valid JSON', { item: `#${i}` });
      }
      return this.check(raw, i, new Map());
    });
  }

  /** Row `i`'s id for an error message about another file (its title may not be checked yet: else `#i`). */
  idOf(i: number): string {
    if (!this.bytes) return `#${i}`;
    try {
      return nameOf(JSON.parse(new TextDecoder().decode(this.bytes.subarray(this.at.starts[i], this.at.ends[i]))), i);
    } catch {
      return `#${i}`;
    }
  }
}

/** items.json and where each of its titles lies (TitleSlices.toBytes): what the snapshot worker hands the page. */
export interface TitleBytes {
  bytes: Uint8Array;
  starts: Uint32Array;
  ends: Uint32Array;
}

/**
 * What the ranker reads of each title (rank/signals.ts RankedTitle), for all of them: ids, popularity, and genres as
 * an index into the distinct genre lists (a catalog has few), so that it travels as one string and a few arrays.
 */
export interface RankingCore {
  /** The ids one after another: row k's is idText[idEnds[k - 1] (0 for the first), idEnds[k]). */
  idText: string;
  idEnds: Uint32Array;
  popularity: Float64Array;
  genreSets: string[][];
  genreOf: Uint32Array;
}

/**
 * The note (load.ts `FileCache.note`) that keeps a catalog's ranking core beside its items.json, so that a later
 * visit does not read it from the titles again (~150 ms of the snapshot worker at 100k titles). Its bytes (version 1,
 * little-endian): uint32 version, title count, id text bytes, genre list bytes; `idEnds` and `genreOf` (uint32 each),
 * `popularity` (float64, at a multiple of 8 bytes); the ids' UTF-8 text; the genre lists as JSON.
 */
export const RANKING_CORE = 'ranking-core';
const CORE_NOTE_VERSION = 1;

function coreLayout(n: number) {
  const ends = 16;
  const genres = ends + 4 * n;
  const popularity = Math.ceil((genres + 4 * n) / 8) * 8;
  return { ends, genres, popularity, text: popularity + 8 * n };
}

export function coreToBytes(core: RankingCore): Uint8Array {
  const n = core.idEnds.length;
  const ids = new TextEncoder().encode(core.idText);
  const sets = new TextEncoder().encode(JSON.stringify(core.genreSets));
  const at = coreLayout(n);
  const out = new Uint8Array(at.text + ids.length + sets.length);
  new Uint32Array(out.buffer, 0, 4).set([CORE_NOTE_VERSION, n, ids.length, sets.length]);
  new Uint32Array(out.buffer, at.ends, n).set(core.idEnds);
  new Uint32Array(out.buffer, at.genres, n).set(core.genreOf);
  new Float64Array(out.buffer, at.popularity, n).set(core.popularity);
  out.set(ids, at.text);
  out.set(sets, at.text + ids.length);
  return out;
}

/**
 * The core a note keeps, for a catalog of `count` titles, or undefined where the note is not one whole (then the core
 * is read from the titles again). Each array in a buffer of its own, as the worker transfers them.
 */
export function coreFromBytes(bytes: Uint8Array | undefined, count: number): RankingCore | undefined {
  if (!bytes || bytes.byteLength < 16) return undefined;
  const b = bytes.byteOffset % 8 === 0 ? bytes : bytes.slice();
  const [version, n, idBytes, setBytes] = new Uint32Array(b.buffer, b.byteOffset, 4);
  const at = coreLayout(n);
  if (version !== CORE_NOTE_VERSION || n !== count || b.byteLength !== at.text + idBytes + setBytes) return undefined;
  const idEnds = new Uint32Array(b.slice(at.ends, at.genres).buffer);
  const genreOf = new Uint32Array(b.slice(at.genres, at.genres + 4 * n).buffer);
  const popularity = new Float64Array(b.slice(at.popularity, at.text).buffer);
  let idText: string;
  let genreSets: unknown;
  try {
    idText = new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(at.text, at.text + idBytes));
    genreSets = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(at.text + idBytes)));
  } catch {
    return undefined;
  }
  if (!Array.isArray(genreSets) || !genreSets.every((g) => Array.isArray(g) && g.every((x) => typeof x === 'string'))) return undefined;
  // What the page relies on: every id non-empty and within the text, every genre list there, popularity in [0, 1].
  for (let k = 0, end = 0; k < n; end = idEnds[k++]) {
    if (idEnds[k] <= end || genreOf[k] >= genreSets.length || !(popularity[k] >= 0 && popularity[k] <= 1)) return undefined;
  }
  if (n > 0 && idEnds[n - 1] !== idText.length) return undefined;
  return { idText, idEnds, popularity, genreSets: genreSets as string[][], genreOf };
}

/**
 * The values at `slot` (0: id, 2: popularity) of every title (`at`: coreFields' ranges) as one JSON array, parsed at
 * once; undefined where that is not a JSON array of as many values (a value that is not one JSON value).
 */
function parsedValues(b: Uint8Array, at: Int32Array, n: number, slot: number, bytes: number, decoder: TextDecoder): unknown[] | undefined {
  const text = new Uint8Array(bytes + 2);
  let w = 0;
  text[w++] = 0x5b;
  for (let k = 0; k < n; k++) {
    if (k > 0) text[w++] = 0x2c;
    for (let i = at[6 * k + slot], end = at[6 * k + slot + 1]; i < end; i++) text[w++] = b[i];
  }
  text[w++] = 0x5d;
  try {
    const values: unknown = JSON.parse(decoder.decode(text.subarray(0, w)));
    return Array.isArray(values) && values.length === n ? values : undefined;
  } catch {
    return undefined;
  }
}

/** Which of the core's keys (0: id, 2: popularity, 4: genres) the key at b[from, to) is, or -1. */
function coreSlot(b: Uint8Array, from: number, to: number): number {
  const n = to - from;
  if (n === 2) return b[from] === 0x69 && b[from + 1] === 0x64 ? 0 : -1;
  const key = n === 10 ? 'popularity' : n === 6 ? 'genres' : undefined;
  if (!key) return -1;
  for (let j = 0; j < n; j++) if (b[from + j] !== key.charCodeAt(j)) return -1;
  return n === 10 ? 2 : 4;
}

/**
 * After the string whose opening quote is at `i`: its closing quote, the first one no backslash escapes (UTF-8
 * never has these bytes inside a character), or -1. A plain loop: a title's strings are short, and indexOf's call
 * costs more than it saves.
 */
function stringEnd(b: Uint8Array, i: number): number {
  for (let j = i + 1; j < b.length; j++) {
    if (b[j] === BACKSLASH) j++;
    else if (b[j] === QUOTE) return j;
  }
  return -1;
}

/**
 * The value ranges of an object's top-level "id", "popularity" and "genres" in b[from, to) into `at` from `o` on
 * (start, end pairs), read up to the last of the three; false where the bytes are not an object whose keys this can
 * read (one escaped or repeated before that), or lack one.
 */
function coreFields(b: Uint8Array, from: number, to: number, at: Int32Array, o: number): boolean {
  at.fill(-1, o, o + 6);
  let found = 0;
  let i = from;
  if (b[i++] !== 0x7b) return false;
  for (;;) {
    while (i < to && isSpace(b[i])) i++;
    if (b[i] === 0x7d) break;
    if (b[i] !== QUOTE) return false;
    const keyEnd = stringEnd(b, i);
    if (keyEnd < 0 || keyEnd >= to) return false;
    for (let j = i + 1; j < keyEnd; j++) if (b[j] === BACKSLASH) return false;
    const slot = coreSlot(b, i + 1, keyEnd);
    for (i = keyEnd + 1; i < to && isSpace(b[i]); i++);
    if (b[i++] !== 0x3a) return false;
    while (i < to && isSpace(b[i])) i++;
    const start = i;
    let depth = 0;
    for (; i < to; i++) {
      const c = b[i];
      if (c === QUOTE) {
        i = stringEnd(b, i);
        if (i < 0 || i >= to) return false;
      } else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (depth === 0) break;
        depth--;
      } else if (c === 0x2c && depth === 0) break;
    }
    if (i >= to) return false;
    let end = i;
    while (isSpace(b[end - 1])) end--;
    if (slot >= 0) {
      if (at[o + slot] >= 0) return false;
      at[o + slot] = start;
      at[o + slot + 1] = end;
      // The rest of the title is not read (a key repeated there is caught by coreHolds, against the checked title).
      if (++found === 3) return true;
    }
    if (b[i] === 0x2c) i++;
  }
  return false;
}

/** FNV-1a over b[from, to). */
function hashOf(b: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return h >>> 0;
}

/** Whether b[a, aEnd) and b[c, cEnd) hold the same bytes. */
function sameBytes(b: Uint8Array, a: number, aEnd: number, c: number, cEnd: number): boolean {
  if (aEnd - a !== cEnd - c) return false;
  for (let i = 0; i < aEnd - a; i++) if (b[a + i] !== b[c + i]) return false;
  return true;
}

/** Whether checked title `t` is what the core said of its row (`p`; where all are, a ranking made from the core stands for them). */
export function coreHolds(p: Pick<Title, 'id' | 'genres' | 'popularity'>, t: Title): boolean {
  return t.id === p.id && t.popularity === p.popularity && t.genres.length === p.genres.length && t.genres.every((x, j) => x === p.genres[j]);
}

/** Row `k`'s id in the core. */
export const coreId = (core: RankingCore, k: number): string => core.idText.slice(k ? core.idEnds[k - 1] : 0, core.idEnds[k]);
