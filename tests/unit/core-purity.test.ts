import { describe, it, expect } from 'vitest';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from './helpers/paths.ts';

// src/core runs in pages, workers and the widget on other sites: no Node globals or modules, no DOM or Svelte.
async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

describe('src/core is pure TypeScript', () => {
  it('uses no Node globals or modules, and imports no DOM framework or store', async () => {
    const bad: string[] = [];
    for (const f of await files(path.join(repoRoot, 'src/core'))) {
      const code = (await readFile(f, 'utf8')).replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      for (const [re, what] of [
        [/\bprocess\.(env|argv|exit|cwd)/, 'process'],
        [/from ['"]node:/, 'node: import'],
        [/\brequire\(/, 'require'],
        [/from ['"]svelte/, 'svelte'],
        [/from ['"]\.\.\/(store|ui|app)\//, 'store/ui/app import'],
      ] as const)
        if (re.test(code)) bad.push(`${path.relative(repoRoot, f)}: ${what}`);
    }
    expect(bad).toEqual([]);
  });
});
