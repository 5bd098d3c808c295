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
 * `indexOf` yet (then added), its covers allowed; a synopsis only where the manifest has no pages. `changed`, when
 * given, hears that the checked title is not the entry as parsed (TitleSchema's output, or a synopsis dropped).
 */
function titleCheck(manifest: Manifest): (t: unknown, i: number, indexOf: Map<string, number>, changed?: () => void) => Title {
  const f = manifest.items;
  const origins = manifest.coverOrigins ?? [];
  const covers = `a path inside the snapshot${origins.length ? ` or an https URL on ${origins.join(', ')}` : ' (covers on other origins need the manifest\'s coverOrigins)'}`;
  return (t, i, indexOf, changed) => {
    const accepted = acceptedTitle(t);
    const item = accepted ?? parseWith(TitleSchema, t, f, { item: nameOf(t, i), skip: 0 });
    if (!accepted) changed?.();
    // Synopses live in items.json unless the manifest keeps them in pages (filled in from there).
    if (manifest.details) {
      if (item.synopsis !== undefined) {
        delete item.synopsis;
        changed?.();
      }
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
      // To the closing quote: the next one after an even run of backslashes (UTF-8 never has these bytes inside a character).
      let j = i;
      for (;;) {
        j = b.indexOf(QUOTE, j + 1);
        if (j < 0) return undefined;
        let k = j - 1;
        while (b[k] === BACKSLASH) k--;
        if ((j - 1 - k) % 2 === 0) break;
      }
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
 * items.json's titles, parsed and checked a slice at a time, in order, as they are asked for (the snapshot worker:
 * its page takes one slice in while the next is parsed, and the worker never holds the whole file's text and titles
 * at once — at 100k titles ~30 MB of text and as much again of objects). Each title is checked as validateItems
 * checks it, with the same error; each id against those of every slice before. Undefined (`of`) where the file
 * cannot be cut into as many elements as the manifest says: validateItems then checks it whole and names the fault.
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

  get count(): number {
    return this.at.starts.length;
  }

  /** Titles `start` to `end` (exclusive), checked; `start` must be where the slice before ended. */
  slice(start: number, end: number): Title[] {
    return this.checked(start, end).items;
  }

  /**
   * The same titles, checked the same way, as the page takes them (titlesOfText): the JSON they were parsed from,
   * in a buffer of their own to transfer, with the few titles whose checked form is not that JSON. Parsing them
   * again on the page costs it about what receiving the objects did, and spares this thread their structured clone
   * (at 100k titles ~0.3 s of the ~0.9 s the snapshot worker spent serving them).
   */
  sliceText(start: number, end: number): TitlesText {
    // The file's own bytes (the page decodes them as this thread does), as one JSON array.
    const body = this.bytes?.subarray(this.at.starts[start], this.at.ends[end - 1]);
    const { items, changed } = this.checked(start, end);
    const json = new Uint8Array(body!.byteLength + 2);
    json.set(body!, 1);
    json[0] = 0x5b;
    json[json.length - 1] = 0x5d;
    return { json, changed: changed.map((k) => [k, items[k]]) };
  }

  private checked(start: number, end: number): { items: Title[]; changed: number[] } {
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
    const changed: number[] = [];
    // Once per title, though both TitleSchema's output and a dropped synopsis may say so.
    const items = raw.map((t: unknown, k: number) => this.check(t, start + k, this.indexOf, () => changed.at(-1) !== k && changed.push(k)));
    this.next = end;
    if (end === this.count) this.bytes = undefined;
    return { items, changed };
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

/** Checked titles as the snapshot worker sends them (TitleSlices.sliceText). */
export interface TitlesText {
  /** UTF-8 JSON: an array of the titles as items.json has them. */
  json: Uint8Array;
  /** [position in the slice, title] where the checked title is not the JSON's (TitleSchema's output, a synopsis dropped). */
  changed: Array<[number, Title]>;
}

/** The titles of a TitlesText: its JSON parsed (checked where it was made), the changed ones put in. */
export function titlesOfText(slice: TitlesText): Title[] {
  const items = JSON.parse(new TextDecoder('utf-8', { fatal: false }).decode(slice.json)) as Title[];
  for (const [k, t] of slice.changed) items[k] = t;
  return items;
}
