/**
 * Which files the synopsis encoder downloads, and where transformers.js looks for and caches them — so the
 * page can tell a reader the download size before anything is fetched, and whether the model is already in
 * this browser, without loading transformers.js. Pure TypeScript: no DOM, no fetch.
 *
 * These mirror transformers.js 4.3.1 (`env.remoteHost`, `env.remotePathTemplate`, `env.cacheKey`, the
 * q8 → `_quantized` file suffix and the local-path-first cache lookup of `utils/hub.js`);
 * tests/unit/model-files.test.ts checks them against the library, so an upgrade that changes them fails there.
 */
import type { TextModelConfig } from '../config.ts';

/** The Cache API cache transformers.js keeps model files in (its `env.cacheKey`). */
export const MODEL_CACHE = 'transformers-cache';
export const REMOTE_HOST = 'https://huggingface.co/';
export const REMOTE_PATH_TEMPLATE = '{model}/resolve/{revision}/';

/** Files SynopsisEncoder.load reads: config, tokenizer, and the one ONNX graph of this dtype. */
export function textModelFiles(dtype: 'fp32' | 'q8'): string[] {
  return ['config.json', 'tokenizer.json', 'tokenizer_config.json', `onnx/${dtype === 'q8' ? 'model_quantized' : 'model'}.onnx`];
}

/** a/b/c with single slashes between parts (transformers.js' pathJoin). */
function join(...parts: string[]): string {
  return parts
    .map((p, i) => {
      let s = p;
      if (i > 0) s = s.replace(/^\//, '');
      if (i < parts.length - 1) s = s.replace(/\/$/, '');
      return s;
    })
    .join('/');
}

/**
 * Where one model file is looked for, in transformers.js' order: the self-hosted copy (a URL resolved against
 * `base`), then the model hub (when remote models are allowed). Both are also its Cache API keys.
 */
export function textModelFileUrls(model: Pick<TextModelConfig, 'modelId' | 'revision' | 'localModelPath' | 'allowRemoteModels'>, file: string, base: string): { local: string; remote?: string } {
  const local = new URL(join(model.localModelPath, model.modelId, file), base).href;
  if (!model.allowRemoteModels) return { local };
  const path = REMOTE_PATH_TEMPLATE.replaceAll('{model}', model.modelId).replaceAll('{revision}', encodeURIComponent(model.revision));
  return { local, remote: join(REMOTE_HOST, path, file) };
}

/** The total of a `Content-Range: bytes 0-0/12345` header, or undefined. */
export function rangeTotal(header: string | null): number | undefined {
  const m = header ? /bytes \d+-\d+\/(\d+)/.exec(header) : null;
  return m ? Number(m[1]) : undefined;
}
