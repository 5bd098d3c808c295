import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { byobReader, readAll } from '../../src/core/snapshot/streams.ts';

/** `bytes` cut at the given points into chunks (empty ones dropped). */
const chunksOf = (bytes: Uint8Array, cuts: number[]) => {
  const ends = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  return [0, ...ends].map((start, i) => bytes.slice(start, [...ends, bytes.length][i])).filter((c) => c.length > 0);
};

/** What both kinds of controller offer a source (the byte one also its waiting read). */
type Source = { enqueue(chunk: Uint8Array<ArrayBuffer>): void; close(): void; error(e: unknown): void; byobRequest?: ReadableStreamBYOBRequest | null };
const byteStreamOf = (pull: (c: Source) => void) => new ReadableStream({ type: 'bytes', pull });
const plainStreamOf = (pull: (c: Source) => void) => new ReadableStream<Uint8Array>({ pull });

/** A stream of those chunks: a byte stream (as fetch bodies in Chromium and Node), or a plain one (where a browser's is). */
function streamOf(chunks: Uint8Array[], bytes: boolean): ReadableStream<Uint8Array> {
  let next = 0;
  const pull = (c: Source) => {
    if (next < chunks.length) return c.enqueue(chunks[next++].slice());
    c.close();
    // A byte stream's source answers a read still waiting on it (the spec's rule; fetch and Blob bodies do).
    c.byobRequest?.respond(0);
  };
  return bytes ? byteStreamOf(pull) : plainStreamOf(pull);
}

describe('reading a download into one buffer (readAll)', () => {
  it('gives exactly the bytes, whatever the chunks and however wrong the expected size, from byte and plain streams', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 300_000 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.constantFrom('exact', 'unknown', 'short', 'long'),
        fc.boolean(),
        async (bytes, cuts, guess, byteStream) => {
          const expected = { exact: bytes.length, unknown: 0, short: Math.floor(bytes.length / 3), long: bytes.length + 1000 }[guess];
          const heard: number[] = [];
          const out = await readAll(streamOf(chunksOf(bytes, cuts), byteStream), expected, (n) => heard.push(n));
          expect(out).toEqual(bytes);
          expect(out.buffer.byteLength).toBe(out.byteLength); // nothing held past the file's end
          expect(heard).toEqual([...heard].sort((a, b) => a - b));
          expect(heard.at(-1) ?? 0).toBe(bytes.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('reads a byte stream in place, and a plain one chunk by chunk', () => {
    expect(byobReader(streamOf([], true))).toBeDefined();
    const plain = streamOf([], false);
    expect(byobReader(plain)).toBeUndefined();
    expect(plain.locked).toBe(false); // still readable by the default reader
  });

  it('fails when the stream fails, as a download cut off does', async () => {
    for (const byteStream of [true, false]) {
      let sent = false;
      const pull = (c: Source) => {
        if (sent) return c.error(new Error('connection reset'));
        sent = true;
        c.enqueue(new Uint8Array(100));
      };
      const broken = byteStream ? byteStreamOf(pull) : plainStreamOf(pull);
      await expect(readAll(broken, 1000)).rejects.toThrow('connection reset');
    }
  });
});
