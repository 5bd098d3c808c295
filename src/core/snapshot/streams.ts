/**
 * Reading a byte stream into memory the reader already holds: with a "byob" reader a download lands in its one
 * buffer, where a default reader hands over a new buffer for every chunk, each then copied and dropped (at 100k
 * titles, ~135 MB of fresh memory for the 60 MB lexical file; README, Benchmarks). A stream that is not a byte
 * stream is read chunk by chunk.
 */

/** A "byob" reader of `stream`, or undefined where the stream cannot give one (it is then unlocked, as it was). */
export function byobReader(stream: ReadableStream<Uint8Array>): ReadableStreamBYOBReader | undefined {
  try {
    return stream.getReader({ mode: 'byob' });
  } catch {
    return undefined;
  }
}

/** Bytes read past the expected end, to learn whether the stream is longer than expected. */
const PROBE_BYTES = 64 * 1024;

/**
 * All of `stream` in one buffer: `expected` bytes in place (the manifest's size), grown by doubling when the stream
 * is longer or its size unknown (0). `onBytes` hears how many bytes have arrived after each read.
 */
export async function readAll(stream: ReadableStream<Uint8Array>, expected: number, onBytes?: (received: number) => void): Promise<Uint8Array> {
  const byob = byobReader(stream);
  let out = new Uint8Array(expected);
  let received = 0;
  const append = (chunk: Uint8Array) => {
    if (received + chunk.byteLength > out.byteLength) {
      const grown = new Uint8Array(Math.max(2 * out.byteLength, received + chunk.byteLength));
      grown.set(out.subarray(0, received));
      out = grown;
    }
    out.set(chunk, received);
  };
  if (byob) {
    for (;;) {
      // Into the rest of the buffer; once it is full, into a small probe (most files end exactly there).
      const full = received === out.byteLength;
      const { done, value } = await byob.read(full ? new Uint8Array(PROBE_BYTES) : out.subarray(received));
      if (!value) throw new Error('the download was cancelled');
      // The buffer read into comes back in `value` (a read takes it over), also on the last read.
      if (!full) out = new Uint8Array(value.buffer);
      if (done) break;
      if (full) append(value);
      received += value.byteLength;
      onBytes?.(received);
    }
  } else {
    const reader = stream.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      append(value);
      received += value.byteLength;
      onBytes?.(received);
    }
  }
  return received === out.byteLength ? out : out.slice(0, received);
}
