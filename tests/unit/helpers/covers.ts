/**
 * Real webtoon covers for the style-encoder tests: decoded with sharp (Node only), centre-cropped and resized to
 * size×size with fit 'cover', RGB, scaled to [0,1], packed N×size×size×3 row-major.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import { rng, shuffle } from '../../../src/core/random.ts';
import { webtoonsDir } from './paths.ts';

const THUMBNAILS = join(webtoonsDir, 'thumbnails');

export interface Covers {
  ids: string[];
  /** N × size × size × 3 in [0,1]. */
  images: Float32Array;
}

/** The first `limit` covers by file name (all when omitted). */
export async function loadCovers(size = 64, limit?: number, dir = THUMBNAILS): Promise<Covers> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.jpg')).sort().slice(0, limit);
  const per = size * size * 3;
  const images = new Float32Array(files.length * per);
  await Promise.all(
    files.map(async (file, i) => {
      const { data, info } = await sharp(join(dir, file))
        .resize(size, size, { fit: 'cover' })
        .toColourspace('srgb')
        .removeAlpha()
        .raw()
        .toBuffer({ resolveWithObject: true });
      if (info.channels !== 3 || data.length !== per) throw new Error(`${file}: decoded to ${info.channels} channels, ${data.length} bytes`);
      for (let k = 0; k < per; k++) images[i * per + k] = data[k] / 255;
    }),
  );
  return { ids: files.map((f) => f.replace(/\.jpg$/, '')), images };
}

/** Seeded split into train and validation images (valFraction of them held out). */
export function splitCovers(images: Float32Array, size: number, valFraction: number, seed: number): { train: Float32Array; val: Float32Array } {
  const per = size * size * 3;
  const n = images.length / per;
  const order = shuffle(Array.from({ length: n }, (_, i) => i), rng(seed));
  const nVal = Math.round(n * valFraction);
  const pick = (idx: number[]) => {
    const out = new Float32Array(idx.length * per);
    idx.forEach((i, k) => out.set(images.subarray(i * per, (i + 1) * per), k * per));
    return out;
  };
  return { val: pick(order.slice(0, nVal)), train: pick(order.slice(nVal)) };
}
