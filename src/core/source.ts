/**
 * The catalog source layout (shared/data/README.md): `catalog.jsonl` (one item a line) and an optional
 * `interactions.csv` (`user,item,rating,timestamp`). Pure parsing: callers read the files.
 */
import { DataError } from './errors.ts';
import { isSnapshotPath, isWebUrl } from './snapshot/paths.ts';

export interface SourceItem {
  id: string;
  title: string;
  synopsis: string;
  genres: string[];
  cover?: string;
  author?: string;
  rating?: number;
  likes?: number;
  comments?: number;
  year?: number;
  votes?: number;
  age?: string;
  completed?: boolean;
  source_url?: string;
}

export interface Interaction {
  user: string;
  item: string;
  rating: number;
  /** UNIX seconds. */
  timestamp: number;
}

const OPTIONAL_NUMBERS = ['rating', 'likes', 'comments', 'year', 'votes'] as const;
const OPTIONAL_STRINGS = ['cover', 'author', 'age', 'source_url'] as const;

export function parseCatalogJsonl(text: string, file = 'catalog.jsonl'): SourceItem[] {
  const items: SourceItem[] = [];
  const seen = new Set<string>();
  const lines = text.split(/\r?\n/);
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n].trim();
    if (!line) continue;
    const where = `line ${n + 1}`;
    let raw: unknown;
    try {
      raw = JSON.parse(line);
    } catch (e) {
      throw new DataError(file, `${where} is not JSON (${(e as Error).message})`);
    }
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new DataError(file, `${where} is not an object`);
    const r = raw as Record<string, unknown>;
    const id = typeof r.id === 'number' ? String(r.id) : r.id;
    if (typeof id !== 'string' || !id) throw new DataError(file, `${where} has no id`, { field: 'id' });
    if (seen.has(id)) throw new DataError(file, `${where} repeats id`, { item: id, field: 'id' });
    seen.add(id);
    if (typeof r.title !== 'string' || !r.title.trim()) throw new DataError(file, 'missing title', { item: id, field: 'title' });
    const synopsis = r.synopsis ?? '';
    if (typeof synopsis !== 'string') throw new DataError(file, 'synopsis must be a string', { item: id, field: 'synopsis' });
    const genres = r.genres ?? [];
    if (!Array.isArray(genres) || genres.some((g) => typeof g !== 'string'))
      throw new DataError(file, 'genres must be an array of strings', { item: id, field: 'genres' });
    const item: SourceItem = { id, title: r.title.trim(), synopsis: synopsis.trim(), genres: [...new Set(genres as string[])] };
    for (const k of OPTIONAL_NUMBERS) {
      if (r[k] === undefined || r[k] === null) continue;
      if (typeof r[k] !== 'number' || !Number.isFinite(r[k])) throw new DataError(file, 'must be a finite number', { item: id, field: k });
      item[k] = r[k] as number;
    }
    for (const k of OPTIONAL_STRINGS) {
      if (r[k] === undefined || r[k] === null) continue;
      if (typeof r[k] !== 'string') throw new DataError(file, 'must be a string', { item: id, field: k });
      item[k] = r[k] as string;
    }
    // A link out is http(s) only; a cover is a file inside the source folder (never `..` or an absolute path).
    if (item.source_url !== undefined && !isWebUrl(item.source_url)) throw new DataError(file, 'must be an http(s) URL', { item: id, field: 'source_url' });
    if (item.cover !== undefined && !isSnapshotPath(item.cover)) throw new DataError(file, 'must be a path inside the source folder', { item: id, field: 'cover' });
    if (r.completed !== undefined && r.completed !== null) {
      if (typeof r.completed !== 'boolean') throw new DataError(file, 'must be true or false', { item: id, field: 'completed' });
      item.completed = r.completed;
    }
    items.push(item);
  }
  if (items.length === 0) throw new DataError(file, 'has no items');
  return items;
}

/** Parses `user,item,rating,timestamp`. Rows naming an item not in `knownItems` (when given) are an error. */
export function parseInteractionsCsv(text: string, file = 'interactions.csv', knownItems?: Set<string>): Interaction[] {
  const lines = text.split(/\r?\n/);
  const header = lines[0]?.trim().split(',').map((h) => h.trim());
  const want = ['user', 'item', 'rating', 'timestamp'];
  if (!header || want.some((h, i) => header[i] !== h)) throw new DataError(file, `header must be "${want.join(',')}"`);
  const out: Interaction[] = [];
  for (let n = 1; n < lines.length; n++) {
    const line = lines[n].trim();
    if (!line) continue;
    const cells = line.split(',');
    if (cells.length !== 4) throw new DataError(file, `line ${n + 1} has ${cells.length} columns, expected 4`);
    const [user, item] = cells;
    const rating = Number(cells[2]);
    const timestamp = Number(cells[3]);
    if (!user || !item) throw new DataError(file, `line ${n + 1} has an empty user or item`);
    if (!Number.isFinite(rating)) throw new DataError(file, `line ${n + 1}: rating is not a number`, { item, field: 'rating' });
    if (!Number.isFinite(timestamp)) throw new DataError(file, `line ${n + 1}: timestamp is not a number`, { item, field: 'timestamp' });
    if (knownItems && !knownItems.has(item)) throw new DataError(file, `line ${n + 1} names an item not in the catalog`, { item, field: 'item' });
    out.push({ user, item, rating, timestamp });
  }
  return out;
}
