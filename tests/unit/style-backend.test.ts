import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { probeCapabilities } from '../../src/core/capabilities.ts';
import { chooseTfjsBackend } from '../../src/core/tfjs-backend.ts';

// One process per test file: these tests may leave a backend chosen, which is what they check.
describe('chooseTfjsBackend in Node', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it('picks wasm when there is no navigator.gpu, with the training kernels in place', async () => {
    expect((globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu).toBeUndefined();
    expect(await chooseTfjsBackend()).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it('starts lower in the chain when asked', async () => {
    expect(await chooseTfjsBackend('cpu')).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(await chooseTfjsBackend('wasm')).toBe('wasm');
  });

  it('rejects an unknown preference', async () => {
    await expect(chooseTfjsBackend('webgl' as never)).rejects.toThrow(/unknown style backend/);
  });

  it('skips WebGPU when the capability probe found no adapter', async () => {
    expect((await probeCapabilities()).webgpu).toBe(false);
    vi.stubGlobal('navigator', { gpu: { requestAdapter: async () => ({}) } });
    expect(await chooseTfjsBackend()).toBe('wasm');
    expect(tf.findBackendFactory('webgpu')).toBeNull(); // never even loaded
  });

  it('falls back to wasm when the WebGPU backend fails to start', async () => {
    // An adapter that cannot make a device: tfjs' WebGPU factory throws, setBackend answers false.
    vi.stubGlobal('navigator', { gpu: { requestAdapter: async () => ({}) } });
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    expect(await chooseTfjsBackend('webgpu', { capabilities: { webgpu: true } })).toBe('wasm');
    expect(tf.findBackendFactory('webgpu')).toBeDefined(); // it really was tried
    expect(tf.getBackend()).toBe('wasm');
  });
});
