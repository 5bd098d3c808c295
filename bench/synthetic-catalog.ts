/**
 * A synthetic catalog source at platform scale, from the real webtoon catalog (../shared/data/webtoons):
 * `titles` items whose synopses are random words of the real synopses (real word frequencies, real lengths), whose
 * genre mixes are real titles' mixes, and whose popularity follows the real likes' long tail. No covers (the
 * catalog without covers that a platform's amateur league looks like), unless `--covers`: then each title shows its
 * model title's real cover (a symbolic link under covers/), for measuring the style trainer at scale. Deterministic
 * for a seed, so that anyone can rebuild the 10k and 100k cases of `npm run bench -- --only scale`:
 *
 *   npx tsx bench/synthetic-catalog.ts --titles 100000 --out /tmp/toonpick-100k [--seed 7] [--interactions-per-title 10] [--covers]
 *   npm run snapshot -- --source /tmp/toonpick-100k --out /tmp/toonpick-100k/snapshot
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
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
      ...(model.cover ? { cover: model.cover } : {}),
    };
  });
}

/**
 * Writes `perTitle × titles` reading events as interactions.csv (`user,item,rating,timestamp`), streamed in
 * chunks: readers with a long-tailed history length (median ~12, some in the hundreds), a favourite genre each,
 * choosing titles by power-law popularity, 70 % of the time within their genre. Ratings 1–5, leaning to their
 * genre; timestamps in reading order. Distinct titles per reader.
 */
async function writeInteractions(items: SourceItem[], perTitle: number, file: string, seed: number): Promise<number> {
  const random = rng(seed + 1);
  const n = items.length;
  const genres = [...new Set(items.flatMap((t) => t.genres))];
  const byGenre = new Map(genres.map((g) => [g, [] as number[]]));
  items.forEach((t, i) => t.genres.forEach((g) => byGenre.get(g)!.push(i)));
  // Popularity rank order: the title a power-law draw lands on (row order is the catalog's, already shuffled).
  const popular = (list: readonly number[]) => list[Math.floor(list.length * random() ** 2.5)];
  const total = perTitle * n;
  const out = createWriteStream(file);
  const write = (chunk: string) => (out.write(chunk) ? Promise.resolve() : once(out, 'drain').then(() => undefined));
  await write('user,item,rating,timestamp\n');
  let written = 0;
  let user = 0;
  let chunk = '';
  while (written < total) {
    const length = Math.min(total - written, Math.max(2, Math.round(4 * Math.exp(2.2 * random() * random() * 2.2))));
    const favourite = byGenre.get(genres[Math.floor(genres.length * random() ** 2)])!;
    const seen = new Set<number>();
    let t = 1_600_000_000 + Math.floor(random() * 3e7);
    for (let k = 0; k < length && seen.size < n; k++) {
      const inGenre = random() < 0.7;
      let i = inGenre ? popular(favourite) : Math.floor(n * random() ** 2.5);
      while (seen.has(i)) i = Math.floor(n * random());
      seen.add(i);
      t += 60 + Math.floor(random() * 86_400);
      const rating = Math.min(5, Math.max(1, Math.round((inGenre ? 3.8 : 3) + random() * 2 - 1)));
      chunk += `u${user},${items[i].id},${rating},${t}\n`;
      written++;
    }
    user++;
    if (chunk.length > 1 << 20) {
      await write(chunk);
      chunk = '';
    }
  }
  await write(chunk);
  out.end();
  await once(out, 'finish');
  return user;
}

/** A synthetic source folder: catalog.jsonl, and interactions.csv when `perTitle` events per title are asked for. */
export async function writeSyntheticSource(titles: number, out: string, seed = 7, perTitle = 0, covers = false): Promise<string> {
  const items = await syntheticCatalog(titles, seed);
  await mkdir(out, { recursive: true });
  if (covers) {
    await mkdir(path.join(out, 'covers'), { recursive: true });
    for (const it of items) {
      if (!it.cover) continue;
      const link = `covers/${it.id}${path.extname(it.cover)}`;
      await symlink(path.join(path.dirname(WEBTOONS), it.cover), path.join(out, link)).catch((e) => (e.code === 'EEXIST' ? undefined : Promise.reject(e)));
      it.cover = link;
    }
  } else for (const it of items) delete it.cover;
  await writeFile(path.join(out, 'catalog.jsonl'), items.map((t) => JSON.stringify(t)).join('\n') + '\n');
  if (perTitle > 0) await writeInteractions(items, perTitle, path.join(out, 'interactions.csv'), seed);
  return out;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename ?? '')) {
  const args = parseArgs(process.argv.slice(2), { out: 'string', seed: 'string', titles: 'string', 'interactions-per-title': 'string', covers: 'boolean' });
  if (typeof args.titles !== 'string' || typeof args.out !== 'string') {
    console.error('usage: npx tsx bench/synthetic-catalog.ts --titles N --out <dir> [--seed 7] [--interactions-per-title R] [--covers]');
    process.exit(2);
  }
  const per = typeof args['interactions-per-title'] === 'string' ? Number(args['interactions-per-title']) : 0;
  const out = await writeSyntheticSource(Number(args.titles), args.out, typeof args.seed === 'string' ? Number(args.seed) : 7, per, args.covers === true);
  console.log(`wrote ${path.join(out, 'catalog.jsonl')}: ${args.titles} titles`);
}
