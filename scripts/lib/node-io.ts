/** Node-side file access for scripts and tests: the same ReadFile the browser gets from fetch. */
import { parseArgs as parseArgv } from 'node:util';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { DataError } from '../../src/core/errors.ts';
import type { ReadFile } from '../../src/core/snapshot/load.ts';

export function fsReader(dir: string): ReadFile {
  const root = path.resolve(dir);
  return async (p) => {
    // The loader admits only paths inside the snapshot (src/core/snapshot/paths.ts); this reader checks again.
    const file = path.resolve(root, p);
    if (!file.startsWith(root + path.sep)) throw new DataError(p, `is outside the snapshot folder ${dir}`);
    try {
      return new Uint8Array(await readFile(file));
    } catch (e) {
      throw new DataError(p, `could not be read from ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
}

/** Bytes of a folder's files, not counting the pre-compressed `.br` / `.gz` copies (other encodings of the same files). */
export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (!e.isDirectory() && /\.(br|gz)$/.test(e.name)) continue;
    total += e.isDirectory() ? await folderBytes(p) : (await stat(p)).size;
  }
  return total;
}

/**
 * Writes a snapshot file and, when compression saves at least a tenth, its `.br` and `.gz` copies beside it (what a
 * static host sends to browsers that accept them: scripts/serve.ts does). Stale copies of an earlier version go.
 */
export async function writeWithCompressedCopies(file: string, bytes: Uint8Array): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, bytes);
  const copies: Array<[string, Uint8Array]> = bytes.byteLength < 1024 ? [] : [
    // Quality 11 gains ~8 % over 9 at ~17× the time: worth it for small files, not for a 100k-title catalog's spaces.
    ['.br', brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: bytes.byteLength <= 2 ** 21 ? 11 : 9, [constants.BROTLI_PARAM_SIZE_HINT]: bytes.byteLength } })],
    ['.gz', gzipSync(bytes, { level: 9 })],
  ];
  for (const suffix of ['.br', '.gz']) {
    const packed = copies.find(([s]) => s === suffix)?.[1];
    if (packed && packed.byteLength <= bytes.byteLength * 0.9) await writeFile(file + suffix, packed);
    else await rm(file + suffix, { force: true });
  }
}

/** Removes a file with its pre-compressed copies. */
export async function removeWithCompressedCopies(file: string): Promise<void> {
  for (const suffix of ['', '.br', '.gz']) await rm(file + suffix, { force: true });
}

/** What a script accepts: each `--name` takes a value (`string`) or none (`boolean`). */
export type ArgSpec = Record<string, 'string' | 'boolean'>;

/**
 * `--key value` and `--flag` arguments, checked by node:util's parseArgs against what the script accepts: an
 * unknown option, a missing value or a stray word is a DataError naming it (the script prints it with its usage).
 */
export function parseArgs<S extends ArgSpec>(argv: string[], spec: S): { [K in keyof S]?: S[K] extends 'boolean' ? true : string } {
  try {
    const { values } = parseArgv({ args: argv, options: Object.fromEntries(Object.entries(spec).map(([k, type]) => [k, { type }])), strict: true, allowPositionals: false });
    return values as { [K in keyof S]?: S[K] extends 'boolean' ? true : string };
  } catch (e) {
    throw new DataError('arguments', (e as Error).message);
  }
}
