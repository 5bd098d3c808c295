import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// One config for the app build and both test projects.
// - unit: pure Node tests of src/core, scripts and the store (fake nothing that can run for real).
// - browser: builds nothing itself; `npm test` builds first, then these drive headless Chromium
//   (playwright-core) against the built app served on 127.0.0.1.
export default defineConfig({
  plugins: [svelte()],
  base: './',
  build: { target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 4096 },
  worker: { format: 'es' },
  server: { host: '127.0.0.1' },
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
});
