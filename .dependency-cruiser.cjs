// dependency-cruiser: the folder boundaries of README "Layout" on resolved paths, no import cycles (type-only
// imports count), nothing unresolvable, no orphan modules. Run by `npm run lint` (which `npm test` runs):
//   depcruise src workers scripts bench tests vite.config.ts --config .dependency-cruiser.cjs
// eslint.config.js states the same boundaries as no-restricted-imports, so editors flag them as you type.

/** The module shared by the page and the workers (another name is allowed while it settles). */
const PROTOCOL = '^(workers/protocol|src/app/worker-rpc)\\.ts$';
/** The packages a worker may import: comlink and the model libraries. */
const WORKER_PACKAGES = '(comlink|@tensorflow/[^/]+|@huggingface/transformers|onnxruntime-web)';
/** `pkg/file?url` and the like: a Vite asset import of a file a package exports. */
const VITE_PACKAGE_ASSET = '^[^.][^?]*\\?(url|raw|inline|worker)$';
/** Build and service-worker entry points: nothing imports them. */
const ENTRY_POINTS = ['^src/main\\.ts$', '^src/widget/index\\.ts$', '^src/sw/service-worker\\.ts$', '^workers/[^/]+\\.worker\\.ts$'];

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles, type-only imports included (tsPreCompilationDeps), make load order and layering unclear.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that resolves to nothing: a typo, a moved file or a missing package.',
      from: {},
      // Vite asset imports of a package's exported file (`onnxruntime-web/x.wasm?url`): enhanced-resolve does
      // not strip the query before matching the exports field; `vite build` fails on a missing one.
      to: { couldNotResolve: true, pathNot: VITE_PACKAGE_ASSET },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment: 'A module in src or workers that nothing imports and that is no entry point is dead code.',
      from: { orphan: true, path: '^(src|workers)/', pathNot: [...ENTRY_POINTS, '\\.d\\.ts$'] },
      to: {},
    },
    {
      name: 'core-imports-only-core',
      severity: 'error',
      comment: 'src/core is pure TypeScript shared by the app, workers, the widget and Node: it imports only src/core and packages.',
      from: { path: '^src/core/' },
      to: { pathNot: '^(src/core/|node_modules/)', dependencyTypesNot: ['core'] },
    },
    {
      name: 'core-no-node-modules',
      severity: 'error',
      comment: 'src/core runs in browsers and workers: no Node built-in modules (tests/unit/core-purity.test.ts checks globals).',
      from: { path: '^src/core/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'core-no-svelte-idb',
      severity: 'error',
      comment: 'src/core has no UI (no Svelte) and no storage (only src/store touches idb).',
      from: { path: '^src/core/' },
      to: { path: '^node_modules/(svelte|idb)/' },
    },
    {
      name: 'workers-import-only-core-and-protocol',
      severity: 'error',
      comment: 'Workers are thin comlink adapters: src/core, the protocol module, comlink and the model libraries only.',
      from: { path: '^workers/' },
      to: {
        pathNot: [
          '^src/core/',
          PROTOCOL,
          `^(node_modules/)?${WORKER_PACKAGES}/`,
        ],
      },
    },
    {
      name: 'ui-not-to-workers',
      severity: 'error',
      comment: 'src/ui reaches workers through the clients in src/app, never directly.',
      from: { path: '^src/ui/' },
      to: { path: '^workers/' },
    },
    {
      name: 'store-imports-only-core-and-idb',
      severity: 'error',
      comment: 'src/store is the only code that touches IndexedDB; it builds on src/core and idb alone.',
      from: { path: '^src/store/' },
      to: { pathNot: '^(src/store/|src/core/|node_modules/idb/)' },
    },
    {
      name: 'idb-only-in-store',
      severity: 'error',
      comment: 'Only src/store touches IndexedDB (idb).',
      from: { pathNot: '^src/store/' },
      to: { path: '^node_modules/idb/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|public|tests/fixtures|\\.cache)/|\\.tmp($|\\.[a-z]+$)' },
    // Type-only imports are dependencies too (a cycle through types is still a cycle).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'browser', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
      extensions: ['.ts', '.mts', '.js', '.mjs', '.cjs', '.svelte', '.json'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: { text: { highlightFocused: true } },
  },
};
