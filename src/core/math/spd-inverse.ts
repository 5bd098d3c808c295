/**
 * The inverse of a large symmetric positive definite matrix (EASE's `(XᵀX + λI)⁻¹` at thousands of items), for
 * Node tools (the evaluation's reference EASE): recursive block inversion by the Schur complement, every product a
 * float32 matrix multiplication on the TensorFlow.js backend (XNNPACK SIMD in its WASM backend: ~40 GFLOP/s on one
 * core here, where the plain-JS float64 Cholesky of linalg.ts runs at ~1), leaves of up to `leaf` rows inverted
 * exactly in float64 by linalg.ts.
 *
 *   A = [A11 A12; A12ᵀ A22],  X = A11⁻¹,  Y = X·A12,  S = A22 − A12ᵀ·Y (SPD),  Z = S⁻¹
 *   A⁻¹ = [X + Y·Z·Yᵀ, −Y·Z; −(Y·Z)ᵀ, Z]
 *
 * About n³ multiply-adds (10,000 items: a minute where the float64 Cholesky needs ~8). EASE's λ keeps A's condition
 * number small (every eigenvalue ≥ λ), so float32 loses nothing a ranking sees (tests/unit/eval-methods.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { invertSpd } from './linalg.ts';

/** A⁻¹ of the n × n SPD matrix `a` (row-major), as float32. Needs a TensorFlow.js backend (chooseTfjsBackend). */
export function invertSpdBlocked(a: Float64Array | Float32Array, n: number, leaf = 1024): Float32Array {
  const input = tf.tensor2d(a instanceof Float32Array ? a : Float32Array.from(a), [n, n]);
  try {
    const inverse = invert(input, leaf);
    const out = inverse.dataSync() as Float32Array;
    inverse.dispose();
    return out;
  } finally {
    input.dispose();
  }
}

/** A new tensor holding a⁻¹ (`a` is left to the caller). */
function invert(a: tf.Tensor2D, leaf: number): tf.Tensor2D {
  const n = a.shape[0];
  if (n <= leaf) {
    const exact = invertSpd(Float64Array.from(a.dataSync()), n);
    return tf.tensor2d(Float32Array.from(exact), [n, n]);
  }
  const m = n >> 1;
  const a11 = a.slice([0, 0], [m, m]);
  const x = invert(a11, leaf);
  a11.dispose();
  // Only plain products: the backend's transposed-operand products are 10–50× slower than a transpose and a plain
  // one. A12ᵀ is A's lower-left block (A is symmetric).
  const a12 = a.slice([0, m], [m, n - m]);
  const y = tf.matMul(x, a12);
  a12.dispose();
  const a21 = a.slice([m, 0], [n - m, m]);
  const t = tf.matMul(a21, y);
  a21.dispose();
  const a22 = a.slice([m, m], [n - m, n - m]);
  const s = tf.sub(a22, t) as tf.Tensor2D;
  tf.dispose([a22, t]);
  // Symmetrise: rounding leaves S a hair off symmetric, and its leaves must be exactly SPD for the Cholesky.
  const st = tf.transpose(s);
  const sym = tf.mul(tf.add(s, st), 0.5) as tf.Tensor2D;
  tf.dispose([s, st]);
  const z = invert(sym, leaf);
  sym.dispose();
  const yz = tf.matMul(y, z);
  const yt = tf.transpose(y);
  y.dispose();
  const yzy = tf.matMul(yz, yt);
  yt.dispose();
  const p11 = tf.add(x, yzy);
  tf.dispose([x, yzy]);
  const p12 = tf.neg(yz);
  yz.dispose();
  const p21 = tf.transpose(p12);
  const top = tf.concat([p11, p12], 1);
  tf.dispose([p11, p12]);
  const bottom = tf.concat([p21, z], 1);
  tf.dispose([p21, z]);
  const out = tf.concat([top, bottom], 0) as tf.Tensor2D;
  tf.dispose([top, bottom]);
  return out;
}
