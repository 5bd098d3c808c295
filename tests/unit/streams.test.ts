import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { byobReader, readAll } from '../../src/core/snapshot/streams.ts';
import { checksum, readKeptFile } from '../../src/core/snapshot/file-cache.ts';

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

/** A Blob whose stream is not a byte stream, as Blob.stream() is in some browsers. */
class PlainStreamBlob extends Blob {
  override slice(start?: number, end?: number): Blob {
    const part = super.slice(start, end);
    const plain = Blob.prototype.stream.call(part).pipeThrough(new TransformStream<Uint8Array, Uint8Array>());
    return Object.assign(part, { stream: () => plain });
  }
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

describe('reading a kept file into memory (readKeptFile)', () => {
  it('gives exactly the bytes through one reused piece, whatever the reads, and says when they are not the ones written', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 1, maxLength: 100_000 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.boolean(),
        fc.nat(),
        async (bytes, cuts, sliceBytes, plain, at) => {
          const trailer = new Uint8Array(4);
          new DataView(trailer.buffer).setUint32(0, checksum(bytes), true);
          // Parts of odd lengths: Blob.stream() then ends its reads anywhere, not on 16-byte blocks.
          const file = (b: Uint8Array) => (plain ? new PlainStreamBlob([...chunksOf(b, cuts), trailer]) : new Blob([...chunksOf(b, cuts), trailer]));
          const into = new Uint8Array(bytes.length);
          let pauses = 0;
          expect(await readKeptFile(file(bytes), into, sliceBytes, async () => void pauses++)).toBe(true);
          expect(into).toEqual(bytes);
          // The thread is given back after each whole slice read (16-byte blocks of at most sliceBytes).
          expect(pauses).toBe(Math.floor(bytes.length / Math.max(16, sliceBytes - (sliceBytes % 16))));
          const damaged = bytes.slice();
          damaged[at % bytes.length] ^= 1 + (at % 255);
          expect(await readKeptFile(file(damaged), new Uint8Array(bytes.length), sliceBytes)).toBe(false);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('says false, without throwing, when the file cannot be read to its end (gone or changed meanwhile)', async () => {
    const bytes = new Uint8Array(1000).fill(7);
    const trailer = new Uint8Array(4);
    new DataView(trailer.buffer).setUint32(0, checksum(bytes), true);
    for (const byteStream of [true, false]) {
      class VanishingBlob extends Blob {
        override slice(start?: number, end?: number): Blob {
          let sent = false;
          const pull = (c: Source) => (sent ? c.error(new DOMException('the file changed', 'NotReadableError')) : ((sent = true), c.enqueue(new Uint8Array(100))));
          return Object.assign(super.slice(start, end), { stream: () => (byteStream ? byteStreamOf(pull) : plainStreamOf(pull)), arrayBuffer: () => Promise.reject(new DOMException('the file changed', 'NotReadableError')) });
        }
      }
      expect(await readKeptFile(new VanishingBlob([bytes, trailer]), new Uint8Array(bytes.length), 256)).toBe(false);
    }
  });

  it('stops at the file\'s size: a stream that never answers the read after its last byte does not hold it up', async () => {
    // As Chromium's Blob stream did in 1 of ~7 cold loads at 100k titles: every byte came, then the read that would
    // have said `done` never settled.
    const bytes = Uint8Array.from({ length: 5000 }, (_, i) => (i * 31) & 0xff);
    const trailer = new Uint8Array(4);
    new DataView(trailer.buffer).setUint32(0, checksum(bytes), true);
    class SilentAtEndBlob extends Blob {
      override slice(start?: number, end?: number): Blob {
        const part = super.slice(start, end);
        if (part.size !== bytes.length) return part;
        let at = 0;
        // A byte stream that fills each read it is given and, once all is sent, leaves the next read waiting.
        const pull = (c: Source) => {
          const request = c.byobRequest!;
          if (at === bytes.length) return new Promise<void>(() => {});
          const view = request.view as Uint8Array;
          const n = Math.min(view.byteLength, bytes.length - at, 700);
          view.set(bytes.subarray(at, at + n));
          at += n;
          request.respond(n);
        };
        return Object.assign(part, { stream: () => new ReadableStream({ type: 'bytes', pull }) });
      }
    }
    const into = new Uint8Array(bytes.length);
    expect(await readKeptFile(new SilentAtEndBlob([bytes, trailer]), into, 1024)).toBe(true);
    expect(into).toEqual(bytes);
  });
});
