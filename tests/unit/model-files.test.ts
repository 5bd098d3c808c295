/**
 * src/core/text/model-files.ts mirrors where transformers.js looks for and caches model files, so the page can
 * show a download size and find a cached model without loading the library: checked against the library here.
 */
import { fileURLToPath } from 'node:url';
import { env } from '@huggingface/transformers';
import { describe, expect, it } from 'vitest';
import { defaultConfig, withUrlOverrides } from '../../src/core/config.ts';
import { MODEL_CACHE, REMOTE_HOST, REMOTE_PATH_TEMPLATE, rangeTotal, textModelFileUrls, textModelFiles } from '../../src/core/text/model-files.ts';
import { SynopsisEncoder } from '../../src/core/text/synopsis-encoder.ts';

const MODELS = fileURLToPath(new URL('../fixtures/models/', import.meta.url));

describe('text model files', () => {
  it('uses transformers.js’ own hub address and cache name', () => {
    expect(REMOTE_HOST).toBe(env.remoteHost);
    expect(REMOTE_PATH_TEMPLATE).toBe(env.remotePathTemplate);
    expect(MODEL_CACHE).toBe(env.cacheKey);
  });

  it('lists every file SynopsisEncoder loads, for each dtype', async () => {
    for (const dtype of ['fp32', 'q8'] as const) {
      const files = new Set<string>();
      const enc = await SynopsisEncoder.load({
        modelId: 'toonpick/tiny-bert',
        localModelPath: MODELS,
        allowRemoteModels: false,
        dtype,
        onProgress: (p) => { if ('file' in p && p.status === 'done') files.add(p.file); },
      }).catch((e: Error) => e);
      if (enc instanceof Error) {
        // The fixture ships fp32 only: the q8 graph is the file it failed to find.
        expect(enc.message).toContain('model_quantized.onnx');
        continue;
      }
      await enc.dispose();
      expect(files.size).toBeGreaterThan(0);
      expect(textModelFiles(dtype)).toEqual(expect.arrayContaining([...files]));
    }
  });

  it('resolves the self-hosted copy first and the hub second', () => {
    const model = { modelId: 'Xenova/m', revision: 'main', localModelPath: 'models/', allowRemoteModels: true };
    expect(textModelFileUrls(model, 'onnx/model_quantized.onnx', 'https://app.example/toonpick/')).toEqual({
      local: 'https://app.example/toonpick/models/Xenova/m/onnx/model_quantized.onnx',
      remote: 'https://huggingface.co/Xenova/m/resolve/main/onnx/model_quantized.onnx',
    });
    expect(textModelFileUrls({ ...model, localModelPath: '/models/', allowRemoteModels: false }, 'config.json', 'https://app.example/x/')).toEqual({
      local: 'https://app.example/models/Xenova/m/config.json',
    });
  });

  it('reads the total size from a Content-Range header', () => {
    expect(rangeTotal('bytes 0-0/118243')).toBe(118243);
    expect(rangeTotal(null)).toBeUndefined();
    expect(rangeTotal('bytes */0')).toBeUndefined();
  });
});

describe('?textBatch', () => {
  it('sets how many synopses go to the text worker per call, and refuses anything but a positive whole number', () => {
    expect(withUrlOverrides(defaultConfig, '?textBatch=1').models.text.embedBatch).toBe(1);
    expect(withUrlOverrides(defaultConfig, '?textModel=toonpick/tiny-bert&textBatch=8').models.text).toMatchObject({ embedBatch: 8, modelId: 'toonpick/tiny-bert' });
    for (const bad of ['0', '-2', '1.5', 'x', '']) expect(() => withUrlOverrides(defaultConfig, `?textBatch=${bad}`)).toThrow(/textBatch/);
  });
});

describe('?device', () => {
  it('sets config.device for every worker, and only to a value config.device takes', () => {
    expect(withUrlOverrides(defaultConfig, '?device=wasm').device).toBe('wasm');
    expect(withUrlOverrides(defaultConfig, '?device=wasm').models.text).toEqual(defaultConfig.models.text);
    for (const bad of ['gpu', 'WASM', '']) expect(() => withUrlOverrides(defaultConfig, `?device=${bad}`)).toThrow(/device must be one of auto, webgpu, wasm, cpu/);
  });
});
