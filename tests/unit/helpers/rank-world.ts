/**
 * A small synthetic catalog with community histories whose structure is known, for the Ranker's tests:
 * 40 titles in a reading cycle (title i is usually followed by i + 1), 5 genres (title i has genre i mod 5 and,
 * for every third title, also (i + 2) mod 5), and 150 readers who each read a run of 8–16 consecutive titles
 * with ratings 2–5. So the community model should link neighbours in the cycle and the sequence model should
 * predict "the next one".
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { rng } from '../../../src/core/random.ts';
import type { Interaction, SourceItem } from '../../../src/core/source.ts';

export const TITLES = 40;
const GENRES = ['Action', 'Romance', 'Comedy', 'Horror', 'Fantasy'];
const WORDS = [
  ['sword', 'battle', 'hero'],
  ['love', 'heart', 'wedding'],
  ['joke', 'laugh', 'prank'],
  ['ghost', 'curse', 'night'],
  ['dragon', 'magic', 'kingdom'],
];

export function worldItems(): SourceItem[] {
  return Array.from({ length: TITLES }, (_, i) => {
    const genres = [GENRES[i % 5], ...(i % 3 === 0 ? [GENRES[(i + 2) % 5]] : [])];
    return { id: `t${i}`, title: `Title ${i}`, synopsis: `A story of ${WORDS[i % 5].join(' and ')} number ${i}.`, genres };
  });
}

export function worldInteractions(readers = 150, seed = 3): Interaction[] {
  const random = rng(seed);
  const out: Interaction[] = [];
  for (let u = 0; u < readers; u++) {
    const start = Math.floor(random() * TITLES);
    const length = 8 + Math.floor(random() * 9);
    let t = 1_000_000 + u * 10_000;
    for (let k = 0; k < length; k++) {
      t += 1 + Math.floor(random() * 100);
      out.push({ user: `u${u}`, item: `t${(start + k) % TITLES}`, rating: 2 + Math.floor(random() * 4), timestamp: t });
    }
  }
  return out;
}

/** The world as a catalog source folder (catalog.jsonl + interactions.csv, no covers). */
export async function writeWorldSource(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'catalog.jsonl'), worldItems().map((it) => JSON.stringify(it)).join('\n') + '\n');
  const rows = worldInteractions().map((x) => `${x.user},${x.item},${x.rating},${x.timestamp}`);
  await writeFile(path.join(dir, 'interactions.csv'), ['user,item,rating,timestamp', ...rows].join('\n') + '\n');
}
