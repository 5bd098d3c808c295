/**
 * A synthetic catalog source at platform scale, from the real webtoon catalog (../shared/data/webtoons):
 * `titles` items whose synopses are random words of the real synopses (real word frequencies, real lengths), whose
 * genre mixes are real titles' mixes, and whose popularity follows the real likes' long tail. No covers (the
 * catalog without covers that a platform's amateur league looks like). Deterministic for a seed, so that anyone can
 * rebuild the 10k and 100k cases of `npm run bench -- --only scale`:
 *
 *   npx tsx bench/synthetic-catalog.ts --titles 100000 --out /tmp/toonpick-100k [--seed 7]
 *   npm run snapshot -- --source /tmp/toonpick-100k --out /tmp/toonpick-100k/snapshot
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseCatalogJsonl, type SourceItem } from '../src/core/source.ts';
import { rng } from '../src/core/random.ts';
import { parseArgs } from '../scripts/lib/node-io.ts';

const WEBTOONS = path.resolve(import.meta.dirname, '../../shared/data/webtoons/catalog.jsonl');

async function syntheticCatalog(titles: number, seed = 7): Promise<SourceItem[]> {
  if (!Number.isInteger(titles) || titles < 1) throw new RangeError(`--titles must be a positive integer, got ${titles}`);
  const real = parseCatalogJsonl(await readFile(WEBTOONS, 'utf8'), WEBTOONS);
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)];
  // Every word occurrence once: drawing from this list draws words by their real frequency.
  const words = real.flatMap((t) => t.synopsis.split(/\s+/).filter(Boolean));
  const titleWords = real.flatMap((t) => t.title.split(/\s+/).filter(Boolean));
  const likes = real.map((t) => t.likes ?? 0).sort((a, b) => b - a);
  const authors = [...new Set(real.map((t) => t.author).filter((a): a is string => !!a))];
  return Array.from({ length: titles }, (_, i) => {
    const model = pick(real);
    const length = model.synopsis.split(/\s+/).filter(Boolean).length;
    // Rank-based power law over the real likes: most titles sit in the long tail.
    const like = likes[Math.min(likes.length - 1, Math.floor(likes.length * random() ** 3))];
    return {
      id: `s${i}`,
      title: `${Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(titleWords)).join(' ')} ${i}`,
      synopsis: Array.from({ length: Math.max(3, length) }, () => pick(words)).join(' '),
      genres: [...model.genres],
      author: pick(authors),
      likes: Math.round(like * (0.5 + random())),
      rating: Math.round((8 + 2 * random()) * 100) / 100,
      completed: random() < 0.3,
    };
  });
}

export async function writeSyntheticSource(titles: number, out: string, seed = 7): Promise<string> {
  const items = await syntheticCatalog(titles, seed);
  await mkdir(out, { recursive: true });
  await writeFile(path.join(out, 'catalog.jsonl'), items.map((t) => JSON.stringify(t)).join('\n') + '\n');
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? '')) {
  const args = parseArgs(process.argv.slice(2), { out: 'string', seed: 'string', titles: 'string' });
  if (typeof args.titles !== 'string' || typeof args.out !== 'string') {
    console.error('usage: npx tsx bench/synthetic-catalog.ts --titles N --out <dir> [--seed 7]');
    process.exit(2);
  }
  const out = await writeSyntheticSource(Number(args.titles), args.out, typeof args.seed === 'string' ? Number(args.seed) : 7);
  console.log(`wrote ${path.join(out, 'catalog.jsonl')}: ${args.titles} titles`);
}
