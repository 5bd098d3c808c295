/**
 * The community model as a snapshot stores it (`ease-topn` version 2, docs/snapshot.md): each title's kept
 * neighbours in ascending column order, their columns as gaps in LEB128 varints (1–2 bytes at up to 16k titles
 * apart, instead of 4), their weights as companded int8 codes with one float32 scale per title (1 byte instead of
 * 4; `weightOf`). At 200
 * neighbours that is 410–440 bytes a title instead of 1,600.
 *
 * `storedModel` puts a fitted model in exactly that form (the weights on the int8 grid, rows in column order), and
 * the builder and the evaluation rank with the stored form, so what ships is what was measured; decoding a file
 * gives it back bit for bit.
 */
import { DataError } from '../errors.ts';
import type { CommunityModel } from './community.ts';

/**
 * The int8 grid of a row, companded: code = ±round(127·√(|w| / scale)), w = ±(code / 127)²·scale, scale = the row's
 * largest |w|. A row's weights are heavy-tailed (a few strong neighbours, many weak ones), and a square-root grid
 * keeps the weak ones to within a few per cent where a linear one (step scale / 127) rounds most of them to 0 or 1
 * step: the linear grid cost two of the four MovieLens data sets 0.4–0.8 points of the serendipity targets; with
 * this one all four still meet them (README, Evaluation).
 */
function weightOf(code: number, scale: number): number {
  const r = code / 127;
  return Math.fround(Math.sign(code) * r * r * scale) + 0; // + 0: never −0
}

function codeOf(w: number, scale: number): number {
  return scale === 0 ? 0 : Math.sign(w) * Math.min(127, Math.round(127 * Math.sqrt(Math.abs(w) / scale)));
}

/** Per row: weights on the companded int8 grid of that row (weightOf), entries in ascending column order. */
export function storedModel(model: CommunityModel): CommunityModel {
  const { itemCount: n, neighbours: N } = model;
  const index = new Uint32Array(n * N);
  const weight = new Float32Array(n * N);
  const scales = new Float32Array(n);
  const order = Array.from({ length: N }, (_, k) => k);
  for (let i = 0; i < n; i++) {
    const o = i * N;
    const scale = (scales[i] = rowScale(model.weight, o, N));
    order.sort((a, b) => model.index[o + a] - model.index[o + b] || a - b);
    for (let k = 0; k < N; k++) {
      index[o + k] = model.index[o + order[k]];
      weight[o + k] = weightOf(codeOf(model.weight[o + order[k]], scale), scale);
    }
    for (let k = 0; k < N; k++) order[k] = k;
  }
  return { itemCount: n, neighbours: N, index, weight, scales };
}

function rowScale(weight: Float32Array, o: number, N: number): number {
  let max = 0;
  for (let k = 0; k < N; k++) max = Math.max(max, Math.abs(weight[o + k]));
  return Math.fround(max);
}

/**
 * The file: uint32 neighbours; itemCount float32 scales; itemCount + 1 uint32 byte offsets into the column stream;
 * itemCount × neighbours int8 codes; the column stream (per row, `neighbours` varint gaps, the first from 0).
 */
export function encodeCommunityModel(model: CommunityModel): Uint8Array {
  const { itemCount: n, neighbours: N, scales } = model;
  if (!scales) throw new Error('only a stored community model (storedModel) can be written');
  // Two passes, so that the file is one buffer of its exact size (a list of every gap byte would take ~8 bytes each).
  const offsets = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) {
    let bytes = 0;
    let previous = 0;
    for (let k = 0; k < N; k++) {
      const column = model.index[i * N + k];
      if (column < previous) throw new Error(`community model row ${i} is not in column order (storedModel first)`);
      for (let gap = column - previous; ; gap >>>= 7) {
        bytes++;
        if (gap <= 0x7f) break;
      }
      previous = column;
    }
    offsets[i + 1] = offsets[i] + bytes;
  }
  const head = 4 + 4 * n + 4 * (n + 1);
  const stream = head + n * N;
  const out = new Uint8Array(stream + offsets[n]);
  const view = new DataView(out.buffer);
  view.setUint32(0, N, true);
  for (let i = 0; i < n; i++) view.setFloat32(4 + 4 * i, scales[i], true);
  for (let i = 0; i <= n; i++) view.setUint32(4 + 4 * n + 4 * i, offsets[i], true);
  let at = stream;
  for (let i = 0; i < n; i++) {
    const o = i * N;
    let previous = 0;
    for (let k = 0; k < N; k++) {
      const column = model.index[o + k];
      let gap = column - previous;
      previous = column;
      while (gap > 0x7f) {
        out[at++] = (gap & 0x7f) | 0x80;
        gap >>>= 7;
      }
      out[at++] = gap;
      view.setInt8(head + o + k, codeOf(model.weight[o + k], scales[i]));
    }
  }
  return out;
}

/** The file back, every byte checked: sizes, scales, offsets, varints that stay in their row, columns in range. */
export function decodeCommunityModel(bytes: Uint8Array, itemCount: number, neighbours: number, file: string): CommunityModel {
  const n = itemCount;
  const N = neighbours;
  const field = 'community.model';
  const bad = (message: string, row?: number): never => {
    throw new DataError(file, message, { field, ...(row !== undefined ? { item: String(row) } : {}) });
  };
  const head = 4 + 4 * n + 4 * (n + 1);
  if (bytes.byteLength < head + n * N) bad(`holds ${bytes.byteLength} bytes, less than the ${head + n * N} of its header, offsets and weights for ${n} titles × ${N} neighbours (truncated, or a model of another catalog?)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== N) bad(`holds ${view.getUint32(0, true)} neighbours per title but the manifest says ${N}`);
  const stream = head + n * N;
  const streamBytes = bytes.byteLength - stream;
  const index = new Uint32Array(n * N);
  const weight = new Float32Array(n * N);
  const scales = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const scale = (scales[i] = view.getFloat32(4 + 4 * i, true));
    if (!Number.isFinite(scale) || scale < 0) bad(`has an invalid row scale (${scale})`, i);
    const start = view.getUint32(4 + 4 * n + 4 * i, true);
    const end = view.getUint32(4 + 4 * n + 4 * (i + 1), true);
    if (i === 0 && start !== 0) bad(`row offsets must start at 0, found ${start}`);
    if (end < start || end > streamBytes) bad(`row offsets must not decrease or leave the file (row ${i}: ${start} → ${end} of ${streamBytes})`, i);
    let at = stream + start;
    let column = 0;
    for (let k = 0; k < N; k++) {
      let gap = 0;
      for (let shift = 0; ; shift += 7) {
        if (at >= stream + end || shift > 28) bad(`has a column that runs past its row's bytes`, i);
        const b = bytes[at++];
        gap += (b & 0x7f) * 2 ** shift;
        if (b < 0x80) break;
      }
      column += gap;
      if (column >= n) bad(`names row ${column}, but the catalog has ${n} titles (a model of another catalog?)`, i);
      index[i * N + k] = column;
      weight[i * N + k] = weightOf(view.getInt8(head + i * N + k), scale);
    }
    if (at !== stream + end) bad(`has ${stream + end - at} bytes left over in its row`, i);
  }
  if (view.getUint32(4 + 4 * n + 4 * n, true) !== streamBytes) bad(`has ${streamBytes - view.getUint32(4 + 4 * n + 4 * n, true)} bytes after its last row`);
  return { itemCount: n, neighbours: N, index, weight, scales };
}
