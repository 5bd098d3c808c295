/**
 * Vite plugin: builds src/sw/service-worker.ts to /sw.js and injects the precache list and version.
 * Precached: every file of the app build plus public/ files except the snapshot (the page keeps its files by content
 * hash) and models. The version is a hash of every precached file's bytes, so any change to the app produces a
 * new service worker and a "new version" notice; a new snapshot is found by its manifest (network first).
 */
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Plugin } from 'vite';

const SW_ENTRY = 'src/sw/service-worker.ts';
const PLACEHOLDER = 'self.__TOONPICK_PRECACHE__';

/**
 * Public files not precached: fetched (and cached) only when needed. The snapshot is the page's to keep (by content
 * hash, src/core/snapshot/file-cache.ts), whichever snapshot it opens: precaching the demo's too would download it twice.
 */
const RUNTIME_ONLY = [/^snapshot\//, /^models\//, /\.map$/, /\.(br|gz)$/];

async function walk(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p, base)));
    else out.push(path.relative(base, p).split(path.sep).join('/'));
  }
  return out;
}

export function precache(): Plugin {
  let publicDir = '';
  return {
    name: 'toonpick-precache',
    apply: 'build',
    configResolved(config) {
      publicDir = config.publicDir;
    },
    options(options) {
      const input = typeof options.input === 'string' ? { index: options.input } : Array.isArray(options.input) ? Object.fromEntries(options.input.map((i, n) => [`in${n}`, i])) : (options.input ?? { index: 'index.html' });
      return { ...options, input: { ...input, sw: SW_ENTRY } };
    },
    outputOptions(output) {
      const names = output.entryFileNames;
      return {
        ...output,
        entryFileNames: (chunk) => (chunk.name === 'sw' ? 'sw.js' : typeof names === 'function' ? names(chunk) : (names ?? 'assets/[name]-[hash].js')),
      };
    },
    async generateBundle(_options, bundle) {
      const hash = createHash('sha256');
      const files: string[] = [];
      for (const [name, item] of Object.entries(bundle)) {
        if (name === 'sw.js' || RUNTIME_ONLY.some((r) => r.test(name)) || /\.wasm$/.test(name)) continue;
        files.push(name);
        hash.update(name).update(item.type === 'chunk' ? item.code : item.source);
      }
      for (const rel of (await walk(publicDir)).sort()) {
        if (RUNTIME_ONLY.some((r) => r.test(rel))) continue;
        files.push(rel);
        hash.update(rel).update(await readFile(path.join(publicDir, rel)));
      }
      const sw = bundle['sw.js'];
      if (!sw || sw.type !== 'chunk') throw new Error('precache: the service worker chunk is missing');
      if (!sw.code.includes(PLACEHOLDER)) throw new Error(`precache: ${PLACEHOLDER} not found in sw.js`);
      // index.html is emitted after this hook; its content follows from the hashed asset names above.
      const manifest = { version: hash.digest('hex').slice(0, 16), files: ['./', 'index.html', ...files.sort()] };
      sw.code = sw.code.replace(PLACEHOLDER, JSON.stringify(manifest));
    },
  };
}
