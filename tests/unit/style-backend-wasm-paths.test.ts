import * as tf from '@tensorflow/tfjs';
import { describe, expect, it, vi } from 'vitest';
import { chooseTfjsBackend } from '../../src/core/tfjs-backend.ts';

// Its own file (own process): the wasm binaries can be located only once, before the backend first starts.
describe('chooseTfjsBackend wasmPaths', () => {
  it('loads the wasm binaries from the given folder, and falls back to cpu when they are not there', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(await chooseTfjsBackend('wasm', { wasmPaths: '/nonexistent-toonpick-wasm/' })).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
  });
});
