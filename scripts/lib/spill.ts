/**
 * Training data kept in a file and read back a batch at a time, so that the trainers' memory does not grow with the
 * catalog: covers as 64×64 RGB bytes (12 KiB a title, against 48 KiB as float32 in memory: 4.9 GB at 100k titles)
 * and the community's sequences as int32 titles. Only the row offsets (8 bytes a row) stay in memory.
 */
import { closeSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { SequenceSource } from '../../src/core/rank/sequence-train.ts';
import type { ImageSource } from '../../src/core/style/style-encoder.ts';
import { decodeSquareCover } from './snapshot-files.ts';

/** Rows of bytes appended to one file, then read back by row number. */
class RowFile {
  private readonly fd: number;
  private offsets = new Float64Array(1025);
  private rows = 0;

  constructor(readonly file: string) {
    this.fd = openSync(file, 'w+');
  }

  get count(): number {
    return this.rows;
  }

  append(bytes: Uint8Array): void {
    if (this.rows + 1 >= this.offsets.length) {
      const grown = new Float64Array(this.offsets.length * 2);
      grown.set(this.offsets);
      this.offsets = grown;
    }
    const at = this.offsets[this.rows];
    for (let done = 0; done < bytes.byteLength; ) done += writeSync(this.fd, bytes, done, bytes.byteLength - done, at + done);
    this.offsets[++this.rows] = at + bytes.byteLength;
  }

  /** The bytes of `row` into `into` at `at` (its length must fit). */
  readInto(row: number, into: Uint8Array, at = 0): number {
    if (!(row >= 0 && row < this.rows)) throw new RangeError(`${this.file}: no row ${row} (it holds ${this.rows})`);
    const start = this.offsets[row];
    const length = this.offsets[row + 1] - start;
    for (let done = 0; done < length; ) {
      const got = readSync(this.fd, into, at + done, length - done, start + done);
      if (got === 0) throw new Error(`${this.file}: ends inside row ${row}`);
      done += got;
    }
    return length;
  }

  byteLength(row: number): number {
    return this.offsets[row + 1] - this.offsets[row];
  }

  close(): void {
    closeSync(this.fd);
  }
}

/**
 * A scratch folder for spill files, removed by `dispose`, or when the process is interrupted or terminated (a
 * pre-empted training job must not leave a catalog's worth of covers behind on a shared volume).
 */
export async function scratch(prefix: string, under?: string): Promise<{ dir: string; dispose: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(under ?? tmpdir(), `${prefix}-`));
  const onSignal = (signal: NodeJS.Signals) => {
    rmSync(dir, { recursive: true, force: true });
    process.kill(process.pid, signal); // the listener is gone (once): the default action ends the process
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    dir,
    dispose: async () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export interface CoverFile extends ImageSource {
  close(): void;
}

/**
 * The square covers `files` (relative to `dir`) decoded once into `out`, 64 at a time, and read back as [0, 1]
 * float32 batches (byte / 255), without holding them all.
 */
export async function spillCovers(dir: string, files: readonly string[], out: string, size = 64): Promise<CoverFile> {
  const rows = new RowFile(out);
  const per = size * size * 3;
  for (let s = 0; s < files.length; s += 64) {
    const decoded = await Promise.all(files.slice(s, s + 64).map((f) => decodeSquareCover(dir, f, size)));
    for (const d of decoded) rows.append(d);
  }
  const bytes = new Uint8Array(per);
  return {
    count: rows.count,
    read: async (which) => {
      const images = new Float32Array(which.length * per);
      which.forEach((r, k) => {
        rows.readInto(r, bytes);
        for (let i = 0; i < per; i++) images[k * per + i] = bytes[i] / 255;
      });
      return images;
    },
    close: () => rows.close(),
  };
}

export interface SequenceFile extends SequenceSource {
  close(): void;
}

/** Sequences written to `out` as they come (one reader at a time), and read back a batch at a time. */
export function spillSequences(sequences: Iterable<readonly number[]>, out: string): SequenceFile {
  const rows = new RowFile(out);
  const lengths: number[] = [];
  for (const s of sequences) {
    const row = Int32Array.from(s);
    rows.append(new Uint8Array(row.buffer));
    lengths.push(s.length);
  }
  return {
    lengths: Int32Array.from(lengths),
    read: async (which) =>
      which.map((r) => {
        const bytes = new Uint8Array(rows.byteLength(r));
        rows.readInto(r, bytes);
        return Array.from(new Int32Array(bytes.buffer));
      }),
    close: () => rows.close(),
  };
}

/** Covers decoded when read (for one pass over them, as embedding makes): nothing is kept between batches. */
export function decodedCovers(dir: string, files: readonly string[], size = 64): ImageSource {
  const per = size * size * 3;
  return {
    count: files.length,
    read: async (rows) => {
      const images = new Float32Array(rows.length * per);
      const decoded = await Promise.all(rows.map((r) => decodeSquareCover(dir, files[r], size)));
      decoded.forEach((d, k) => {
        for (let i = 0; i < per; i++) images[k * per + i] = d[i] / 255;
      });
      return images;
    },
  };
}
