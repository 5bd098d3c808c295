/**
 * Survey-style evaluation for catalogs without reading histories (seed 000 asked readers to pick preferred
 * webtoons by genre and scored mAP over their picks). Pseudo-readers like `likes` random titles of one taste
 * genre (rank/calibrate.ts draws them; the report half only, the calibration half chose the serendipity price)
 * and would pick the rest of that genre. Each is ranked by the app's own `rankReadings` at several serendipity
 * levels; a seeded random list gives the base rate.
 */
import type { RankerConfig } from '../config.ts';
import { rng, shuffle } from '../random.ts';
import { rankReadings } from '../ranker.ts';
import { pseudoReaders, pseudoReadings, precisionAt, type PseudoReader } from '../rank/calibrate.ts';
import { historySimilarity } from '../rank/serendipity.ts';
import { type Catalog } from '../rank/signals.ts';
import { GENRE_SPACE } from '../spaces.ts';
import { averagePrecision } from '../math/metrics.ts';

const K = 10;

/** Mean figures over some readers. */
export interface SurveyFigures {
  readers: number;
  /** precision@10: share of the first 10 titles in the reader's genre. */
  precision: number;
  /** MAP@10 over the rest of the genre (AP@10 with m = min(10, |relevant|)). */
  map: number;
  /** Genre unserendipity@10: mean genre cosine between the 10 titles and the history (lower = more surprising). */
  unserendipity: number;
}

export interface SurveyReport {
  snapshot: string;
  readers: number;
  likes: number;
  seed: number;
  /** The serendipity price the ranker used, and where it came from. */
  strength: number;
  levels: Array<{ level: number } & SurveyFigures>;
  random: SurveyFigures;
  /** Per taste genre, the figures at each level (same order as `levels`). */
  genres: Array<{ genre: string; titles: number; levels: SurveyFigures[] }>;
}

interface Scored {
  genre: string;
  precision: number;
  ap: number;
  unser: number;
}

function mean(rows: readonly Scored[]): SurveyFigures {
  const n = Math.max(1, rows.length);
  return {
    readers: rows.length,
    precision: rows.reduce((a, r) => a + r.precision, 0) / n,
    map: rows.reduce((a, r) => a + r.ap, 0) / n,
    unserendipity: rows.reduce((a, r) => a + r.unser, 0) / n,
  };
}

function score(catalog: Catalog, reader: PseudoReader, order: readonly number[]): Scored {
  const similarity = historySimilarity(catalog.spaces.get(GENRE_SPACE)!, reader.liked);
  const top = order.slice(0, K);
  return {
    genre: reader.genre,
    precision: precisionAt(top, reader.relevant, K),
    ap: averagePrecision(top, reader.relevant, K),
    unser: top.reduce((a, i) => a + similarity[i], 0) / Math.max(1, top.length),
  };
}

/** Seeded random lists of unseen titles: what picking blindly scores. */
function randomList(catalog: Catalog, reader: PseudoReader, random: () => number): number[] {
  const seen = new Set(reader.liked);
  return shuffle(catalog.items.map((_, i) => i).filter((i) => !seen.has(i)), random).slice(0, K);
}

/** The survey at each level, on the report half of the pseudo-readers. */
export function surveyEvaluation(catalog: Catalog, cfg: RankerConfig, opts: { levels: readonly number[]; strength: number; snapshot: string }): SurveyReport {
  if (!catalog.spaces.has(GENRE_SPACE)) throw new Error('the survey needs a genre space: this catalog has none');
  const readers = pseudoReaders(catalog, cfg, 'report');
  if (!readers.length) throw new Error('this catalog has no taste genre with enough titles to draw survey readers from');
  const perLevel = opts.levels.map((level) => readers.map((r) => score(catalog, r, rankReadings(catalog, pseudoReadings(r, cfg), cfg, K, { serendipity: level, explain: false }).map((x) => x.index))));
  const random = rng(cfg.survey.seed + 1);
  const randomScores = readers.map((r) => score(catalog, r, randomList(catalog, r, random)));
  const genres = [...new Set(readers.map((r) => r.genre))];
  return {
    snapshot: opts.snapshot,
    readers: readers.length,
    likes: cfg.survey.likes,
    seed: cfg.survey.seed,
    strength: opts.strength,
    levels: opts.levels.map((level, l) => ({ level, ...mean(perLevel[l]) })),
    random: mean(randomScores),
    genres: genres.map((genre) => ({
      genre,
      titles: readers.find((r) => r.genre === genre)!.relevant.size + cfg.survey.likes,
      levels: perLevel.map((rows) => mean(rows.filter((r) => r.genre === genre))),
    })),
  };
}
