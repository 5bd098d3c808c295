// ESLint (flat config): TypeScript everywhere, Svelte components with <script lang="ts">, and the folder
// boundaries of README "Layout" as rules (dependency-cruiser checks the same boundaries on resolved paths,
// plus cycles: .dependency-cruiser.cjs). Run by `npm run lint`, which `npm test` runs.
import { defineConfig } from 'eslint/config';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';

// The protocol module shared by the page and the workers (either name).
const PROTOCOL = String.raw`(\./protocol|\.\./src/app/worker-rpc)(\.ts)?$`;

/** `no-restricted-imports` options: each entry is [regex on the import specifier, message]. */
function restrict(...patterns) {
  return [
    'error',
    { patterns: patterns.map(([regex, message]) => ({ regex, message, caseSensitive: true })) },
  ];
}

/**
 * src/core may import only src/core: a relative specifier that climbs out of src/core from a file `depth`
 * folders below it (0: src/core/x.ts) starts with depth + 1 `../`.
 */
function coreBoundary(depth) {
  return restrict(
    [`^(\\.\\./){${depth + 1}}`, 'src/core imports only src/core and packages (not src/app, src/ui, src/store, workers, …).'],
    ['^svelte(/|$)', 'src/core is plain TypeScript: no Svelte.'],
    ['^idb$', 'Only src/store touches IndexedDB.'],
    ['^node:', 'src/core runs in browsers and workers: no Node modules.'],
  );
}

export default defineConfig(
  {
    ignores: [
      'dist/**',
      'public/**',
      'node_modules/**',
      '.cache/**',
      'tmp/**',
      'tests/fixtures/**',
      '**/*.tmp',
      '**/*.tmp.*',
      '**/.tmp/**',
    ],
  },
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },

  js.configs.recommended,
  tseslint.configs.recommended,
  svelte.configs.recommended,

  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      eqeqeq: ['error', 'smart'],
      'no-var': 'error',
      'prefer-const': 'error',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      // `any` is used deliberately at typed-library edges (tfjs, transformers.js, globalThis probes).
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    // TypeScript resolves names better than no-undef (types, DOM/worker/Node libs from tsconfig).
    files: ['**/*.ts', '**/*.mts', '**/*.svelte'],
    rules: { 'no-undef': 'off' },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] },
    },
    rules: {
      // `let { a } = $props()` is Svelte 5's idiom: svelte/prefer-const knows the runes.
      'prefer-const': 'off',
      'svelte/prefer-const': 'error',
      // Flags every local or $derived Map/URL, reactive or not: noise here.
      'svelte/prefer-svelte-reactivity': 'off',
      // Style only: static lists need no key; `{' · '}` keeps its spaces on purpose.
      'svelte/require-each-key': 'off',
      'svelte/no-useless-mustaches': 'off',
    },
  },

  // Globals per runtime (used by the plain-JS files; TS files get theirs from tsconfig's lib).
  { files: ['src/**', 'workers/**'], languageOptions: { globals: { ...globals.browser, ...globals.worker } } },
  { files: ['scripts/**', 'bench/**', 'tests/**', '*.config.{js,ts,cjs}', '.dependency-cruiser.cjs'], languageOptions: { globals: globals.node } },
  { files: ['**/*.cjs'], languageOptions: { sourceType: 'commonjs' } },

  // ---- Folder boundaries (README "Layout"). Each file gets at most one no-restricted-imports block. ----
  // src/core, one block per folder depth (src/core/x.ts, src/core/a/x.ts, …; 6 levels, src/core has 3).
  [0, 1, 2, 3, 4, 5].map((depth) => ({
    files: [`src/core/${'*/'.repeat(depth)}*.ts`],
    rules: { 'no-restricted-imports': coreBoundary(depth) },
  })),
  {
    // src/core also runs in workers and Node: no page globals (tests/unit/core-purity.test.ts checks too).
    files: ['src/core/**/*.ts'],
    rules: {
      'no-restricted-globals': [
        'error',
        { name: 'window', message: 'src/core runs in workers and Node too: no `window`.' },
        { name: 'document', message: 'src/core runs in workers and Node too: no `document`.' },
      ],
    },
  },
  {
    // Workers are thin comlink adapters over core: core, the protocol module, comlink and the model libraries.
    files: ['workers/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        [`^(?!${PROTOCOL}|\\.\\./src/core/)\\.`, 'workers import only src/core and the worker protocol module.'],
        [
          String.raw`^(?![.]|comlink$|@tensorflow/|@huggingface/transformers(/|$)|onnxruntime-web(/|$))`,
          'workers import only comlink and the model libraries (@tensorflow/*, @huggingface/transformers, onnxruntime-web).',
        ],
      ),
    },
  },
  {
    // The store is the only code that touches IndexedDB, over core types.
    files: ['src/store/**/*.ts'],
    rules: {
      'no-restricted-imports': restrict(
        [String.raw`^\.\./(?!core/)`, 'src/store imports only src/core (and idb).'],
        ['^(?![.]|idb$)', 'src/store imports only idb (and src/core).'],
      ),
    },
  },
  {
    // The UI reaches workers through src/app's clients, and IndexedDB through src/store.
    files: ['src/ui/**/*.ts', 'src/ui/**/*.svelte'],
    rules: {
      'no-restricted-imports': restrict(
        [String.raw`^(\.\./)+workers/`, 'src/ui talks to workers through src/app (the clients), never directly.'],
        ['^idb$', 'Only src/store touches IndexedDB.'],
      ),
    },
  },
);
