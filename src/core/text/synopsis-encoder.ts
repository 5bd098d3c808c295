/**
 * Sentence embeddings for webtoon synopses (and reader queries), on transformers.js.
 *
 * Pure TypeScript: no DOM and no node:* imports, so the same class runs in Node (tests, scripts:
 * onnxruntime-node) and later in a browser worker (onnxruntime-web, wasm or WebGPU).
 *
 * Output: one L2-normalised vector per text, the mean of the model's last hidden states over the
 * real (unpadded) tokens, as sentence-transformers computes it. Rows of a row-major Float32Array.
 *
 * Long texts are truncated to `maxTokens` tokens, special tokens included. The closing special
 * token ([SEP] or </s>) is kept, as Hugging Face's Python tokenizers do; transformers.js' own
 * `truncation: true` would cut it off and give vectors that differ from the Python model's.
 */
import { AutoConfig, AutoModel, AutoTokenizer, Tensor, env } from '@huggingface/transformers';
import type { PreTrainedModel, PreTrainedTokenizer, PretrainedConfig, ProgressInfo } from '@huggingface/transformers';
import { defaultConfig } from '../config.ts';

/** The model real readers get: multilingual (Korean + English), 384-d, roughly 120 MB as q8. */
/** The sentence model readers get unless an operator self-hosts another (config `models.text.modelId`). */
const DEFAULT_SYNOPSIS_MODEL = defaultConfig.models.text.modelId;

export type EncoderDtype = 'fp32' | 'q8';
/** Device names as transformers.js spells them: 'cpu' is Node only, 'wasm' browser only. */
export type EncoderDevice = 'webgpu' | 'wasm' | 'cpu';

/** Where model files may come from. transformers.js keeps these in one global `env`. */
export interface ModelSourceSettings {
  /** Fetch from the Hugging Face hub when a file is not found locally. Default true. */
  allowRemoteModels?: boolean;
  /** Look under `localModelPath` first. Default: true when `localModelPath` is given. */
  allowLocalModels?: boolean;
  /**
   * Folder (Node) or URL prefix (browser) holding `<modelId>/config.json`, `<modelId>/onnx/model.onnx`…
   * In a browser worker, pass a root-relative path ("/models/"): a relative one resolves against the worker
   * script's URL, and with a full URL transformers.js 4.3.1 never finds tokenizer_config.json locally
   * (its existence check skips URLs), so the tokenizer only loads from the hub.
   */
  localModelPath?: string;
  /**
   * Browser only: where onnxruntime-web's .wasm/.mjs files are served. transformers.js defaults to
   * the jsDelivr CDN, which an offline, private app must not use.
   */
  wasmPaths?: string | { wasm: string; mjs: string };
}

export interface SynopsisEncoderOptions extends ModelSourceSettings {
  /** Hub id, or path under `localModelPath`. Default {@link DEFAULT_SYNOPSIS_MODEL}. */
  modelId?: string;
  /** Hub revision (branch, tag or commit). Default 'main'. */
  revision?: string;
  /** 'fp32' loads onnx/model.onnx, 'q8' onnx/model_quantized.onnx. Default 'fp32'. */
  dtype?: EncoderDtype;
  /** Default: transformers.js' choice for the environment ('cpu' in Node, 'wasm' in browsers). */
  device?: EncoderDevice;
  /** Token limit per text, special tokens included. Default: the tokenizer's model_max_length, capped by the position table. */
  maxTokens?: number;
  /** Texts per forward pass. Default 32. */
  batchSize?: number;
  onProgress?: (info: ProgressInfo) => void;
}

/** Loading failed; `cause` holds transformers.js' own error. */
export class EncoderLoadError extends Error {
  readonly modelId: string;
  constructor(modelId: string, message: string, options?: { cause?: unknown }) {
    super(`cannot load text model "${modelId}": ${message}`, options);
    this.name = 'EncoderLoadError';
    this.modelId = modelId;
  }
}

/**
 * Applies model-source settings to transformers.js' global `env`. The one place that touches it,
 * so a single config module can feed it. Global: the last call wins for every later load.
 */
function configureModelSource(settings: ModelSourceSettings): void {
  const allowRemote = settings.allowRemoteModels ?? true;
  const allowLocal = settings.allowLocalModels ?? settings.localModelPath !== undefined;
  if (!allowRemote && !allowLocal) {
    throw new Error('model source: remote and local models are both off (set localModelPath or allowRemoteModels), so no model can load');
  }
  env.allowRemoteModels = allowRemote;
  env.allowLocalModels = allowLocal;
  if (settings.localModelPath !== undefined) env.localModelPath = settings.localModelPath;
  if (settings.wasmPaths !== undefined) {
    const wasm = env.backends.onnx.wasm;
    if (wasm) {
      wasm.wasmPaths = settings.wasmPaths;
      // One thread, as on a page that is not cross-origin isolated (the app's is: scripts/serve.ts ISOLATION): ONNX
      // Runtime would start helper threads from its script there, which our module workers were never tested with.
      wasm.numThreads = 1;
    }
  }
}

// Model families whose position ids start after the padding index (fairseq style), so the
// position table holds pad_token_id + 1 fewer usable positions.
const OFFSET_POSITIONS = new Set(['roberta', 'xlm-roberta', 'camembert', 'mpnet']);

interface ModelConfigView {
  model_type?: string;
  hidden_size?: number;
  max_position_embeddings?: number;
  pad_token_id?: number;
}

export class SynopsisEncoder {
  readonly modelId: string;
  /** Vector length. */
  readonly dim: number;
  /** Texts are cut to this many tokens, special tokens included. */
  readonly maxTokens: number;
  private readonly batchSize: number;
  private readonly tokenizer: PreTrainedTokenizer;
  private model: PreTrainedModel | null;

  private constructor(modelId: string, tokenizer: PreTrainedTokenizer, model: PreTrainedModel, dim: number, maxTokens: number, batchSize: number) {
    this.modelId = modelId;
    this.tokenizer = tokenizer;
    this.model = model;
    this.dim = dim;
    this.maxTokens = maxTokens;
    this.batchSize = batchSize;
  }

  static async load(options: SynopsisEncoderOptions = {}): Promise<SynopsisEncoder> {
    const modelId = options.modelId ?? DEFAULT_SYNOPSIS_MODEL;
    const batchSize = options.batchSize ?? 32;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    if (options.maxTokens !== undefined && (!Number.isInteger(options.maxTokens) || options.maxTokens < 2)) {
      throw new RangeError(`maxTokens must be an integer ≥ 2, got ${options.maxTokens}`);
    }
    configureModelSource(options);

    const common = {
      revision: options.revision ?? 'main',
      // Mirrors env per call, so this load stays local even if the global env is changed meanwhile.
      local_files_only: !env.allowRemoteModels,
      progress_callback: options.onProgress,
    };
    const fail = (what: string, cause: unknown): EncoderLoadError => {
      const where = env.allowLocalModels ? ` (local models under "${env.localModelPath}", remote ${env.allowRemoteModels ? 'allowed' : 'off'})` : '';
      return new EncoderLoadError(modelId, `${what}: ${cause instanceof Error ? cause.message : String(cause)}${where}`, { cause });
    };
    // config.json first: a missing or misnamed model then fails with "file not found" and its
    // path, instead of the tokenizer loader's TypeError about an undefined tokenizer_class.
    let config: PretrainedConfig;
    try {
      config = await AutoConfig.from_pretrained(modelId, common);
    } catch (e) {
      throw fail('config.json', e);
    }
    // allSettled, not all: if one half fails the other still finishes, and its ONNX session
    // must be released rather than leaked.
    const [tok, mod] = await Promise.allSettled([
      AutoTokenizer.from_pretrained(modelId, common),
      AutoModel.from_pretrained(modelId, { ...common, config, dtype: options.dtype ?? 'fp32', device: options.device }),
    ]);
    if (mod.status === 'rejected') {
      throw fail(`ONNX model (onnx/${options.dtype === 'q8' ? 'model_quantized' : 'model'}.onnx)`, mod.reason);
    }
    if (tok.status === 'rejected') {
      await mod.value.dispose();
      // transformers.js needs both files; without tokenizer_config.json it fails with a TypeError.
      throw fail('tokenizer (tokenizer.json + tokenizer_config.json)', tok.reason);
    }
    const tokenizer = tok.value;
    const model = mod.value;

    const cfg = config as unknown as ModelConfigView;
    const dim = cfg.hidden_size;
    if (typeof dim !== 'number' || dim <= 0) {
      await model.dispose();
      throw new EncoderLoadError(modelId, 'config.json has no hidden_size, so the vector length is unknown');
    }
    let positions = Infinity;
    if (typeof cfg.max_position_embeddings === 'number') {
      const offset = OFFSET_POSITIONS.has(cfg.model_type ?? '') ? (cfg.pad_token_id ?? 1) + 1 : 0;
      positions = cfg.max_position_embeddings - offset;
    }
    const tokenizerMax = Number(tokenizer.model_max_length);
    const limit = Math.min(positions, Number.isFinite(tokenizerMax) && tokenizerMax > 0 ? tokenizerMax : Infinity);
    const maxTokens = Math.min(options.maxTokens ?? limit, limit);
    if (!Number.isFinite(maxTokens)) {
      await model.dispose();
      throw new EncoderLoadError(modelId, 'neither tokenizer_config.json (model_max_length) nor config.json (max_position_embeddings) gives a length limit; pass maxTokens');
    }
    return new SynopsisEncoder(modelId, tokenizer, model, dim, maxTokens, batchSize);
  }

  /**
   * Token ids per text as the model sees them: special tokens added, cut to `maxTokens` with the
   * closing special token kept.
   */
  tokenize(texts: readonly string[]): number[][] {
    const specials = new Set(this.tokenizer.all_special_ids);
    return texts.map((text) => {
      const ids = this.tokenizer.encode(text);
      if (ids.length <= this.maxTokens) return ids;
      const last = ids[ids.length - 1];
      return specials.has(last) ? [...ids.slice(0, this.maxTokens - 1), last] : ids.slice(0, this.maxTokens);
    });
  }

  /** N×dim row-major, each row unit length (mean pooling over real tokens, then L2). */
  async embed(texts: readonly string[]): Promise<Float32Array> {
    const model = this.model;
    if (!model) throw new Error('SynopsisEncoder: embed() after dispose()');
    const out = new Float32Array(texts.length * this.dim);
    if (texts.length === 0) return out;

    const ids = this.tokenize(texts);
    // Longest first, so each batch pads to about its own length instead of the longest overall.
    const order = ids.map((_, i) => i).sort((a, b) => ids[b].length - ids[a].length || a - b);
    const pad = this.tokenizer.pad_token_id ?? 0;

    for (let start = 0; start < order.length; start += this.batchSize) {
      const rows = order.slice(start, start + this.batchSize);
      const len = ids[rows[0]].length;
      const inputIds = new BigInt64Array(rows.length * len).fill(BigInt(pad));
      const mask = new BigInt64Array(rows.length * len);
      rows.forEach((r, b) => {
        const seq = ids[r];
        for (let t = 0; t < seq.length; t++) {
          inputIds[b * len + t] = BigInt(seq[t]);
          mask[b * len + t] = 1n;
        }
      });
      const inputIdsT = new Tensor('int64', inputIds, [rows.length, len]);
      const maskT = new Tensor('int64', mask, [rows.length, len]);
      // token_type_ids, where the model has them, are filled with zeros by transformers.js.
      const outputs = (await model({ input_ids: inputIdsT, attention_mask: maskT })) as Record<string, Tensor | undefined>;
      const hidden = outputs.last_hidden_state ?? outputs.token_embeddings;
      try {
        if (!hidden) throw new Error(`SynopsisEncoder: model "${this.modelId}" gave no last_hidden_state`);
        const [b, t, d] = hidden.dims;
        if (b !== rows.length || t !== len || d !== this.dim) {
          throw new Error(`SynopsisEncoder: expected hidden states [${rows.length}, ${len}, ${this.dim}], got [${hidden.dims.join(', ')}]`);
        }
        const h = hidden.data as Float32Array;
        const acc = new Float64Array(this.dim);
        rows.forEach((r, bi) => {
          acc.fill(0);
          const n = ids[r].length; // real tokens come first: padding is on the right
          for (let ti = 0; ti < n; ti++) {
            const o = (bi * len + ti) * this.dim;
            for (let k = 0; k < this.dim; k++) acc[k] += h[o + k];
          }
          let ss = 0;
          for (let k = 0; k < this.dim; k++) ss += acc[k] * acc[k];
          // Dividing by n before L2 changes nothing, so it is skipped; a zero mean stays zero.
          const inv = ss > 0 ? 1 / Math.sqrt(ss) : 0;
          const o = r * this.dim;
          for (let k = 0; k < this.dim; k++) out[o + k] = acc[k] * inv;
        });
      } finally {
        for (const t of Object.values(outputs)) if (t instanceof Tensor) t.dispose();
        inputIdsT.dispose();
        maskT.dispose();
      }
    }
    return out;
  }

  /** Releases the ONNX session. The encoder cannot embed afterwards. */
  async dispose(): Promise<void> {
    const model = this.model;
    this.model = null;
    if (model) await model.dispose();
  }
}
