/**
 * npx tsx scripts/make-icons.mts — renders the PWA icons in public/icons/ from public/favicon.svg (run after changing the logo).
 * Maskable icons keep the logo inside the central 80 % safe zone on a full-bleed background.
 */
import path from 'node:path';
import { mkdir, readFile } from 'node:fs/promises';
import sharp from 'sharp';

const root = path.resolve(import.meta.dirname, '..');
const svg = await readFile(path.join(root, 'public/favicon.svg'));
const out = path.join(root, 'public/icons');
await mkdir(out, { recursive: true });
for (const size of [192, 512]) await sharp(svg, { density: 600 }).resize(size, size).png().toFile(path.join(out, `icon-${size}.png`));
await sharp(svg, { density: 600 }).resize(180, 180).flatten({ background: '#0b6e4f' }).png().toFile(path.join(out, 'apple-touch-icon.png'));
const inner = await sharp(svg, { density: 600 }).resize(410, 410).png().toBuffer();
await sharp({ create: { width: 512, height: 512, channels: 4, background: '#0b6e4f' } })
  .composite([{ input: inner, gravity: 'center' }])
  .png()
  .toFile(path.join(out, 'maskable-512.png'));
console.log(`icons written to ${out}`);
