/**
 * Training kernels for @tensorflow/tfjs-backend-wasm 4.22.
 *
 * Training the style autoencoder (conv2d + conv2dTranspose, relu / leakyRelu / sigmoid, Adam, mean squared error)
 * on wasm fails with "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'": that is the only missing
 * kernel (found by training the real model; Step, Select, the Adam ops etc. all exist). Conv2DBackpropInput exists
 * but is a naive loop that took ~70 % of a training step (it is both conv2dTranspose's forward pass and conv2d's
 * input gradient), so it is replaced by a faster equivalent. Both are built from the backend's own XNNPACK Conv2D
 * plus cheap data-movement kernels, and both are checked against the CPU backend in tests/unit/style-kernels.test.ts.
 *
 * Filter gradient. For a stride-s convolution
 *
 *   dW[kh, kw, ci, co] = Σ_{b, oh, ow} xPad[b, oh·s + kh, ow·s + kw, ci] · dy[b, oh, ow, co]
 *
 * which is itself a convolution with batch and channels swapped: x transposed to [Ci, H, W, B] is the image, dy
 * transposed to [OH, OW, B, Co] is a filter whose taps sit s pixels apart (dilation s). The stride-1 result
 * [Ci, KH, KW, Co] is transposed into the filter layout. (~20× faster than the naive Conv3DBackpropFilterV2.)
 *
 * Input gradient. dx[ih] = Σ dy[oh] · W[kh] over ih + pad = oh·s + kh. Split the rows t = ih + pad by phase
 * r = t mod s: the rows of one phase only meet the taps kh ≡ r (mod s), so each of the s×s phases is a stride-1
 * convolution of dy with a small sub-filter (every s-th tap, flipped, in/out channels swapped); the phases are
 * then interleaved back into rows and columns. Same arithmetic as the naive kernel, none of it on zeros.
 */
import * as tf from '@tensorflow/tfjs';
import type {
  Conv2DBackpropFilterAttrs,
  Conv2DBackpropInputAttrs,
  KernelBackend,
  KernelConfig,
  KernelFunc,
  NamedAttrMap,
  TensorInfo,
} from '@tensorflow/tfjs';

const BACKEND = 'wasm';

type KernelArgs = { inputs: Record<string, TensorInfo>; backend: KernelBackend; attrs?: NamedAttrMap };

/** Runs another wasm kernel directly (not through the engine): its output is ours to dispose or return. */
function run(kernelName: string, backend: KernelBackend, inputs: Record<string, TensorInfo> | TensorInfo[], attrs: NamedAttrMap): TensorInfo {
  const kernel = tf.getKernel(kernelName, BACKEND);
  if (!kernel) throw new Error(`wasm backend has no '${kernelName}' kernel: load @tensorflow/tfjs-backend-wasm first`);
  return kernel.kernelFunc({ inputs: inputs as Record<string, TensorInfo>, backend, attrs }) as TensorInfo;
}

/** Same data, another shape (a free reshape: the caller still disposes the original once). */
const view = (t: TensorInfo, shape: number[]): TensorInfo => ({ dataId: t.dataId, dtype: t.dtype, shape });

function conv2dBackpropFilter({ inputs, backend, attrs }: KernelArgs): TensorInfo {
  const { x, dy } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as Conv2DBackpropFilterAttrs;
  if (dataFormat === 'NCHW') throw new Error('Conv2DBackpropFilter on wasm supports NHWC only');
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') throw new Error('Conv2DBackpropFilter on wasm needs float32 tensors');

  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast',
  );
  const { top, left } = info.padInfo;
  // Padding after the image so that exactly KH×KW outputs come out. It is negative when the forward convolution
  // never read the last rows/columns (valid padding with a remainder): then pad nothing and crop instead.
  const bottom = info.filterHeight + (info.outHeight - 1) * info.strideHeight - info.inHeight - top;
  const right = info.filterWidth + (info.outWidth - 1) * info.strideWidth - info.inWidth - left;

  const xT = run('Transpose', backend, { x }, { perm: [3, 1, 2, 0] }); // [Ci, H, W, B]
  const dyT = run('Transpose', backend, { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, B, Co]
  let grad = run('Conv2D', backend, { x: xT, filter: dyT }, {
    strides: [1, 1],
    dilations: [info.strideHeight, info.strideWidth],
    pad: [[0, 0], [top, Math.max(0, bottom)], [left, Math.max(0, right)], [0, 0]],
    dataFormat: 'NHWC',
  }); // [Ci, ≥KH, ≥KW, Co]
  backend.disposeData(xT.dataId);
  backend.disposeData(dyT.dataId);
  if (bottom < 0 || right < 0) {
    const cropped = run('Slice', backend, { x: grad }, { begin: [0, 0, 0, 0], size: [info.inChannels, info.filterHeight, info.filterWidth, info.outChannels] });
    backend.disposeData(grad.dataId);
    grad = cropped;
  }
  const dw = run('Transpose', backend, { x: grad }, { perm: [1, 2, 0, 3] }); // [KH, KW, Ci, Co]
  backend.disposeData(grad.dataId);
  return dw;
}

/** The backend's own Conv2DBackpropInput, kept for the shapes the phase split does not cover. */
let nativeBackpropInput: KernelConfig | undefined;

/** Taps of a kernel of size k that meet the rows of phase r under stride s. */
const tapsOf = (k: number, s: number, r: number) => Math.ceil((k - r) / s);

function conv2dBackpropInput(args: KernelArgs): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as Conv2DBackpropInputAttrs;
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, 'channelsLast',
  );
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw, batchSize: B, inChannels: ci } = info;
  const { top: padTop, left: padLeft } = info.padInfo;
  // Padded rows t = ih + padTop that the input covers, as phase-row indices q = floor(t / s).
  const q0h = Math.floor(padTop / sh);
  const q0w = Math.floor(padLeft / sw);
  const qh = Math.floor((padTop + info.inHeight - 1) / sh) - q0h + 1;
  const qw = Math.floor((padLeft + info.inWidth - 1) / sw) - q0w + 1;
  // Rare layouts (NCHW, a kernel smaller than its stride, padding beyond the kernel) keep the native kernel.
  const covered = (k: number, s: number, q0: number) => k >= s && Array.from({ length: s }, (_, r) => tapsOf(k, s, r) - 1 - q0).every((p) => p >= 0);
  if (dataFormat === 'NCHW' || dy.dtype !== 'float32' || !covered(kh, sh, q0h) || !covered(kw, sw, q0w)) {
    return nativeBackpropInput!.kernelFunc(args as Parameters<KernelFunc>[0]) as TensorInfo;
  }

  // flipped[i] = W[k - 1 - i]; the taps of phase r, flipped, are then an ordinary strided slice of it.
  const flipped = run('Reverse', backend, { x: filter }, { dims: [0, 1] });
  const phases: TensorInfo[] = [];
  for (let rh = 0; rh < sh; rh++) {
    for (let rw = 0; rw < sw; rw++) {
      const th = tapsOf(kh, sh, rh);
      const tw = tapsOf(kw, sw, rw);
      const bh = kh - 1 - rh - (th - 1) * sh;
      const bw = kw - 1 - rw - (tw - 1) * sw;
      const taps = run('StridedSlice', backend, { x: flipped }, {
        begin: [bh, bw, 0, 0],
        end: [bh + (th - 1) * sh + 1, bw + (tw - 1) * sw + 1, filter.shape[2], filter.shape[3]],
        strides: [sh, sw, 1, 1],
        beginMask: 0, endMask: 0, ellipsisMask: 0, newAxisMask: 0, shrinkAxisMask: 0,
      });
      const sub = run('Transpose', backend, { x: taps }, { perm: [0, 1, 3, 2] }); // [th, tw, Co, Ci]
      backend.disposeData(taps.dataId);
      // Output row q (from q0) reads dy rows q - th + 1 … q: pad th - 1 - q0 before, enough after for qh rows.
      const top = th - 1 - q0h;
      const left = tw - 1 - q0w;
      const bottom = qh + th - 1 - info.outHeight - top;
      const right = qw + tw - 1 - info.outWidth - left;
      let phase = run('Conv2D', backend, { x: dy, filter: sub }, {
        strides: [1, 1],
        dilations: [1, 1],
        pad: [[0, 0], [top, Math.max(0, bottom)], [left, Math.max(0, right)], [0, 0]],
        dataFormat: 'NHWC',
      });
      backend.disposeData(sub.dataId);
      if (bottom < 0 || right < 0) {
        const cropped = run('Slice', backend, { x: phase }, { begin: [0, 0, 0, 0], size: [B, qh, qw, ci] });
        backend.disposeData(phase.dataId);
        phase = cropped;
      }
      phases.push(phase);
    }
  }
  backend.disposeData(flipped.dataId);

  // Interleave without transposes: the sw column phases of one row phase, concatenated on the channel axis, lie in
  // memory as [B, qh, qw, sw, Ci] = [B, qh, qw·sw, Ci]; the sh row phases concatenated on a new axis 2 then give
  // [B, qh, sh, qw·sw·Ci] = [B, qh·sh, qw·sw, Ci].
  const concat = (parts: TensorInfo[], axis: number) => {
    if (parts.length === 1) return parts[0];
    const out = run('Concat', backend, parts, { axis });
    for (const p of parts) backend.disposeData(p.dataId);
    return out;
  };
  const rows: TensorInfo[] = [];
  for (let rh = 0; rh < sh; rh++) rows.push(view(concat(phases.slice(rh * sw, (rh + 1) * sw), 3), [B, qh, 1, qw * sw * ci]));
  const all = concat(rows, 2);
  const dx = run('Slice', backend, { x: view(all, [B, qh * sh, qw * sw, ci]) }, {
    begin: [0, padTop - q0h * sh, padLeft - q0w * sw, 0],
    size: [B, info.inHeight, info.inWidth, ci],
  });
  backend.disposeData(all.dataId);
  return dx;
}

const conv2dBackpropFilterConfig: KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: BACKEND,
  kernelFunc: conv2dBackpropFilter as KernelFunc,
};

const conv2dBackpropInputConfig: KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: BACKEND,
  kernelFunc: conv2dBackpropInput as KernelFunc,
  // The native kernel's setup binds its wasm function; it must still run for the fallback path.
  setupFunc: (backend) => nativeBackpropInput?.setupFunc?.(backend),
};

/**
 * Registers the wasm training kernels. Idempotent, and safe before or after the wasm backend initialises (the
 * kernels look up their building blocks when they run). A Conv2DBackpropFilter that a later tfjs-backend-wasm
 * ships natively is left alone. The faster Conv2DBackpropInput replaces the native one only once
 * @tensorflow/tfjs-backend-wasm has been imported (it wraps it); call again after importing it.
 */
export function registerWasmTrainingKernels(): void {
  if (!tf.getKernel(tf.Conv2DBackpropFilter, BACKEND)) tf.registerKernel(conv2dBackpropFilterConfig);
  const current = tf.getKernel(tf.Conv2DBackpropInput, BACKEND);
  if (current && current !== conv2dBackpropInputConfig) {
    nativeBackpropInput = current;
    tf.unregisterKernel(tf.Conv2DBackpropInput, BACKEND); // registerKernel would warn about a duplicate
    tf.registerKernel(conv2dBackpropInputConfig);
  }
}
