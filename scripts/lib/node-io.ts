/** Node-side file access for scripts and tests: the same ReadFile the browser gets from fetch. */
import { readFile, readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { DataError } from '../../src/core/errors.ts';
import type { ReadFile } from '../../src/core/snapshot/load.ts';

export function fsReader(dir: string): ReadFile {
  return async (p) => {
    try {
      return new Uint8Array(await readFile(path.join(dir, p)));
    } catch (e) {
      throw new DataError(p, `could not be read from ${dir} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
  };
}

export async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? await folderBytes(p) : (await stat(p)).size;
  }
  return total;
}

/** `--key value` and `--flag` arguments. */
export function parseArgs(argv: string[]): Record<string, string | true> {
  const out: Record<string, string | true> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument "${a}"`);
    const next = argv[i + 1];
    if (next === undefined || next.startsWith('--')) out[a.slice(2)] = true;
    else out[a.slice(2)] = argv[++i];
  }
  return out;
}
