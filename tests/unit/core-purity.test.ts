import { describe, it, expect } from 'vitest';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import ts from 'typescript';
import { repoRoot } from './helpers/paths.ts';

// src/core runs in pages, workers and the widget on other sites: no Node globals or modules, no DOM or Svelte,
// and no page globals (`window`, `document`: a worker has neither). `npm run lint` checks the imports too
// (eslint.config.js, .dependency-cruiser.cjs).
async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else if (p.endsWith('.ts')) out.push(p);
  }
  return out;
}

/** Globals a page has and a worker (or Node) has not. */
const PAGE_GLOBALS = new Set(['window', 'document']);

/**
 * Every reference in `sources` to a page global (PAGE_GLOBALS), as `file:line: name`. Names are resolved like
 * the compiler does: `config.window`, `{ window: 50 }`, a local `document` or an import of that name are not
 * the global; `window.x`, `globalThis.document`, `typeof window` and `{ document }` are.
 */
function pageGlobalUses(sources: string[]): string[] {
  const program = ts.createProgram(sources, {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    allowImportingTsExtensions: true,
    noEmit: true,
    // Only the names matter: the DOM's declarations, none of the imports (faster, and nothing to resolve).
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: [],
    noResolve: true,
  });
  const checker = program.getTypeChecker();
  const fromDom = (s: ts.Symbol | undefined) =>
    !!s?.declarations?.some((d) => /[\\/]lib\.dom\.d\.ts$/.test(d.getSourceFile().fileName));
  const found: string[] = [];
  for (const file of sources) {
    const sf = program.getSourceFile(file);
    if (!sf) throw new Error(`${file}: not in the program`);
    const visit = (node: ts.Node): void => {
      if (ts.isIdentifier(node) && PAGE_GLOBALS.has(node.text)) {
        const symbol = ts.isShorthandPropertyAssignment(node.parent)
          ? checker.getShorthandAssignmentValueSymbol(node.parent)
          : checker.getSymbolAtLocation(node);
        if (fromDom(symbol)) {
          const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
          found.push(`${path.relative(repoRoot, file)}:${line}: ${node.text}`);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return found;
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
        [/from ['"](\.\.\/)+(store|ui|app|sw|widget|workers)\//, 'store/ui/app/workers import'],
      ] as const)
        if (re.test(code)) bad.push(`${path.relative(repoRoot, f)}: ${what}`);
    }
    expect(bad).toEqual([]);
  });

  it('uses no page globals (window, document): it also runs in workers and Node', async () => {
    expect(pageGlobalUses(await files(path.join(repoRoot, 'src/core')))).toEqual([]);
  });

  it('the page-global check finds what it should, and only that', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'core-purity-'));
    const fixture = path.join(dir, 'fixture.ts');
    await writeFile(
      fixture,
      [
        'const config = { window: 50 };', // 1: a property name
        'export const a = config.window;', // 2: a property access
        'export const b = window.innerWidth;', // 3: the global
        'export const c = globalThis.document;', // 4: the global, through globalThis
        'export const d = typeof window;', // 5: the global, in a probe
        'export function e(document: number) { return document; }', // 6: a parameter shadows it
        'export const f = { document };', // 7: the global, shorthand
        'export const g = (globalThis as Record<string, any>).window;', // 8: an untyped probe (capabilities.ts)
      ].join('\n'),
    );
    try {
      const rel = path.relative(repoRoot, fixture);
      expect(pageGlobalUses([fixture])).toEqual([`${rel}:3: window`, `${rel}:4: document`, `${rel}:5: window`, `${rel}:7: document`]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
