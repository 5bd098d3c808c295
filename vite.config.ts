import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { precache } from './scripts/vite-precache.ts';
import { earlyWorker } from './scripts/vite-early-worker.ts';
import { ISOLATION } from './scripts/serve.ts';

// One config for the app build, the widget build (`vite build --mode widget`) and both test projects.
// - unit: pure Node tests of src/core, scripts and the store (fake nothing that can run for real).
// - browser: `npm test` builds first, then these drive headless Chromium (playwright-core) against the
//   built app and widget served on 127.0.0.1.
export default defineConfig(({ mode }) => ({
  plugins: mode === 'widget' ? [] : [svelte(), earlyWorker(), precache()],
  base: './',
  build:
    mode === 'widget'
      ? {
          // One ES module a site includes with <script type="module">; the snapshot is fetched at run time.
          target: 'es2022',
          outDir: 'dist/widget',
          emptyOutDir: true,
          copyPublicDir: false,
          lib: { entry: 'src/widget/index.ts', formats: ['es'], fileName: () => 'toonpick-widget.js' },
        }
      : { target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 4096 },
  worker: { format: 'es' },
  // Cross-origin isolated, as `npm start` serves it (scripts/serve.ts ISOLATION).
  server: { host: '127.0.0.1', headers: { ...ISOLATION } },
  preview: { headers: { ...ISOLATION } },
  test: {
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], environment: 'node', testTimeout: 120_000 },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['tests/browser/**/*.test.ts'],
          environment: 'node',
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
}));
