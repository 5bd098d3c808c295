/**
 * The one layout of Toonpick's binary work files (training checkpoints, embedding shards): an 8-character magic,
 * a little-endian uint32 header length, the JSON header (padded with spaces so that what follows starts 4-byte
 * aligned), then float32 data.
 */
import { DataError } from './errors.ts';

export function encodeFramed(magic: string, header: unknown, parts: readonly Float32Array[]): Uint8Array {
  const head = new TextEncoder().encode(JSON.stringify(header));
  const at = magic.length + 4 + head.byteLength;
  const pad = (4 - (at % 4)) % 4;
  const out = new Uint8Array(at + pad + parts.reduce((s, p) => s + p.byteLength, 0));
  out.set(new TextEncoder().encode(magic));
  new DataView(out.buffer).setUint32(magic.length, head.byteLength + pad, true);
  out.set(head, magic.length + 4);
  out.fill(0x20, at, at + pad); // JSON allows trailing spaces
  let o = at + pad;
  for (const p of parts) {
    out.set(new Uint8Array(p.buffer, p.byteOffset, p.byteLength), o);
    o += p.byteLength;
  }
  return out;
}

/**
 * The header (parsed, not yet checked) and the bytes after it. A file without the magic is "not `what`"; a header
 * that is not JSON is "a damaged header": DataErrors naming `file`.
 */
export function decodeFramed(bytes: Uint8Array, magic: string, file: string, what: string): { header: unknown; body: Uint8Array } {
  if (bytes.byteLength < magic.length + 4 || new TextDecoder().decode(bytes.subarray(0, magic.length)) !== magic) throw new DataError(file, `is not ${what}`);
  const at = magic.length + 4 + new DataView(bytes.buffer, bytes.byteOffset + magic.length, 4).getUint32(0, true);
  try {
    return { header: JSON.parse(new TextDecoder().decode(bytes.subarray(magic.length + 4, at))), body: bytes.subarray(at) };
  } catch {
    throw new DataError(file, 'has a damaged header');
  }
}

/** The body as float32 values (a copy: the file's bytes may sit at any offset), its length checked by the caller. */
export function floatsOf(body: Uint8Array): Float32Array {
  const out = new Float32Array(body.byteLength >> 2);
  new Uint8Array(out.buffer).set(body.subarray(0, out.byteLength));
  return out;
}
