/**
 * The update delta (docs/snapshot.md, "Updates"): one file a snapshot update writes, from which a reader who has
 * the previous version's files cached rebuilds the changed files instead of downloading them again. Each changed
 * file is a list of ops against the same path's previous bytes — copy a range of the old file, or insert new bytes
 * — found rsync-style (a rolling hash over the new file, looked up in the old file's blocks), so it works for any
 * layout: rows that moved because a title was removed are copies, not new bytes. What a patch produces is checked
 * against the manifest's SHA-256 like a download; a patch that does not fit costs only the download it replaces.
 *
 * Layout: "TPDELTA1" · u32 header length · header JSON (DeltaHeader) · the ops of each file, back to back. An op is
 * u32 literal length · literal bytes · u32 copy offset · u32 copy length (little-endian).
 */
import { DataError } from '../errors.ts';
import { parseWith } from '../schema/issues.ts';
import { DeltaHeaderSchema, type DeltaHeader } from '../schema/snapshot.ts';

export type { DeltaHeader };

const MAGIC = 'TPDELTA1';
/** Bytes a match must span before it is worth an op (12 bytes of op header each). */
const BLOCK = 32;

/** Adler-style rolling checksum of `len` bytes: what the old file's blocks are indexed by. */
function weakHash(bytes: Uint8Array, at: number, len: number): [number, number] {
  let a = 0;
  let b = 0;
  for (let i = 0; i < len; i++) {
    a = (a + bytes[at + i]) & 0xffff;
    b = (b + a) & 0xffff;
  }
  return [a, b];
}

/** The ops that turn `old` into `next` (see the layout above). */
export function diffBytes(old: Uint8Array, next: Uint8Array): Uint8Array {
  const index = new Map<number, number[]>();
  for (let at = 0; at + BLOCK <= old.length; at += BLOCK) {
    const [a, b] = weakHash(old, at, BLOCK);
    const key = (b << 16) | a;
    const list = index.get(key);
    if (!list) index.set(key, [at]);
    else if (list.length < 8) list.push(at);
  }
  const out: number[] = [];
  const u32 = (v: number) => out.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  let literalFrom = 0;
  const emit = (literalTo: number, copyAt: number, copyLen: number) => {
    u32(literalTo - literalFrom);
    for (let i = literalFrom; i < literalTo; i++) out.push(next[i]);
    u32(copyAt);
    u32(copyLen);
  };
  let p = 0;
  let [a, b] = next.length >= BLOCK ? weakHash(next, 0, BLOCK) : [0, 0];
  while (p + BLOCK <= next.length) {
    let matched = false;
    for (const at of index.get((b << 16) | a) ?? []) {
      let len = 0;
      while (len < BLOCK && old[at + len] === next[p + len]) len++;
      if (len < BLOCK) continue;
      // Grow the match forward as far as the bytes agree, and backward into the pending literal.
      while (at + len < old.length && p + len < next.length && old[at + len] === next[p + len]) len++;
      let back = 0;
      while (back < p - literalFrom && at - back > 0 && old[at - back - 1] === next[p - back - 1]) back++;
      emit(p - back, at - back, len + back);
      p += len;
      literalFrom = p;
      if (p + BLOCK <= next.length) [a, b] = weakHash(next, p, BLOCK);
      matched = true;
      break;
    }
    if (matched) continue;
    if (p + BLOCK >= next.length) break; // the last window: what is left goes as a literal
    // Roll the window one byte: drop next[p], take next[p + BLOCK].
    const drop = next[p];
    const take = next[p + BLOCK];
    a = (a - drop + take) & 0xffff;
    b = (b - BLOCK * drop + a) & 0xffff;
    p++;
  }
  if (literalFrom < next.length || out.length === 0) emit(next.length, 0, 0);
  return Uint8Array.from(out);
}

/** Rebuilds a file from its previous bytes and its ops; a patch that reads or writes out of bounds is a DataError. */
export function patchBytes(old: Uint8Array, ops: Uint8Array, size: number, file: string): Uint8Array {
  const out = new Uint8Array(size);
  const view = new DataView(ops.buffer, ops.byteOffset, ops.byteLength);
  let at = 0;
  let written = 0;
  const bad = (why: string) => new DataError(file, `update patch ${why}`);
  while (at < ops.byteLength) {
    if (at + 4 > ops.byteLength) throw bad('is truncated');
    const lit = view.getUint32(at, true);
    at += 4;
    if (at + lit + 8 > ops.byteLength || written + lit > size) throw bad('has a literal past its end');
    out.set(ops.subarray(at, at + lit), written);
    written += lit;
    at += lit;
    const from = view.getUint32(at, true);
    const len = view.getUint32(at + 4, true);
    at += 8;
    if (from + len > old.byteLength || written + len > size) throw bad('copies past the end of a file');
    out.set(old.subarray(from, from + len), written);
    written += len;
  }
  if (written !== size) throw bad(`makes ${written} bytes, the manifest says ${size}`);
  return out;
}

/** One delta file from the ops of each changed file. */
export function encodeDelta(from: string, files: Array<{ path: string; source: string; target: string; bytes: number; ops: Uint8Array }>): Uint8Array {
  let at = 0;
  const header: DeltaHeader = {
    from,
    files: files.map((f) => {
      const e = { path: f.path, source: f.source, target: f.target, bytes: f.bytes, at, length: f.ops.byteLength };
      at += f.ops.byteLength;
      return e;
    }),
  };
  const head = new TextEncoder().encode(JSON.stringify(header));
  const out = new Uint8Array(MAGIC.length + 4 + head.byteLength + at);
  out.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(out.buffer).setUint32(MAGIC.length, head.byteLength, true);
  out.set(head, MAGIC.length + 4);
  let body = MAGIC.length + 4 + head.byteLength;
  for (const f of files) {
    out.set(f.ops, body);
    body += f.ops.byteLength;
  }
  return out;
}

/** A delta file's header and its ops per path; a file that is not one is a DataError naming it. */
export function decodeDelta(bytes: Uint8Array, file: string): { header: DeltaHeader; ops: (path: string) => Uint8Array | undefined } {
  const magic = new TextDecoder().decode(bytes.subarray(0, MAGIC.length));
  if (magic !== MAGIC || bytes.byteLength < MAGIC.length + 4) throw new DataError(file, `is not an update delta (expected it to start with ${MAGIC})`);
  const headLength = new DataView(bytes.buffer, bytes.byteOffset + MAGIC.length, 4).getUint32(0, true);
  const bodyAt = MAGIC.length + 4 + headLength;
  if (bodyAt > bytes.byteLength) throw new DataError(file, 'has a header longer than the file');
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder().decode(bytes.subarray(MAGIC.length + 4, bodyAt)));
  } catch (e) {
    throw new DataError(file, `has a header that is not JSON (${(e as Error).message})`);
  }
  const header = parseWith(DeltaHeaderSchema, raw, file);
  for (const f of header.files) if (bodyAt + f.at + f.length > bytes.byteLength) throw new DataError(file, `has ops for ${f.path} past its end`, { field: 'files' });
  return {
    header,
    ops: (path) => {
      const f = header.files.find((e) => e.path === path);
      return f && bytes.subarray(bodyAt + f.at, bodyAt + f.at + f.length);
    },
  };
}
