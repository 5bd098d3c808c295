/**
 * The temporal per-user hold-out split of the offline evaluation protocol (shared/design/evaluation.md).
 *
 * Rules, per user:
 * 1. Positives are ratings ≥ 4; a data set whose ratings are all ≤ 1 is implicit and every row is positive.
 * 2. The user's interactions are sorted by (timestamp, item), where items compare by their position in the
 *    catalog. For MovieLens (ids "1".."1682" listed in numeric order) this equals a numeric id compare, and it
 *    is what reproduces the reference table; a plain string compare ("10" < "9") moves ties in time and gives
 *    e.g. popular HR@10 0.455 instead of the reference 0.4392, so it is not used.
 * 3. Users with fewer than 5 positives are not evaluated; all their interactions train every method.
 * 4. Test set: the items of the last max(1, round(0.2 × #positives)) positives.
 * 5. Training history: every interaction (any rating) before the first test positive. Everything after it
 *    that is not a test item is hidden from all methods.
 *
 * Data sets with repeated (user, item) rows: a test item that already occurs in the training history is
 * dropped from the test set (it could never be recommended, and keeping it would leak it); a user whose
 * test set or training history ends up empty is treated as not evaluated.
 */
import { DataError } from './errors.ts';
import type { Interaction, SourceItem } from './source.ts';

/** One training interaction of a user, in time order. */
export interface HistoryEvent {
  /** Catalog index of the item (position in `TrainData.items`). */
  item: number;
  rating: number;
  /** UNIX seconds. */
  timestamp: number;
}

/** What a method may know about a user: the visible (training) part only, never the test items. */
export interface TrainUser {
  id: string;
  /** Row of this user in the binary matrix. */
  row: number;
  /** Training interactions sorted by (timestamp, catalog index). All interactions for a non-evaluated user. */
  history: readonly HistoryEvent[];
  /** Distinct item indices of `history`, ascending: the user's row of the binary matrix. */
  seen: Int32Array;
}

/** A user the protocol scores: the visible part plus the held-out test items. */
export interface EvalUser {
  user: TrainUser;
  /** Held-out item indices, ascending; never in `user.seen`. */
  test: Int32Array;
}

/** Binary user × item matrix, stored both ways so row and column walks are cheap. */
export interface BinaryMatrix {
  users: number;
  items: number;
  /** userItems[row] = ascending item indices with a 1. */
  userItems: Int32Array[];
  /** itemUsers[item] = ascending user rows with a 1. */
  itemUsers: Int32Array[];
  /** Number of ones. */
  nnz: number;
}

/** Everything a method may train on. */
export interface TrainData {
  items: readonly SourceItem[];
  itemIndex: ReadonlyMap<string, number>;
  /** Every user of the data set, one per matrix row (users[r].row === r), ordered by id. */
  users: readonly TrainUser[];
  matrix: BinaryMatrix;
  /** True when every rating is ≤ 1 (implicit feedback). */
  implicit: boolean;
}

export interface EvalSplit {
  train: TrainData;
  /** The evaluated users, in matrix-row order. */
  evaluated: readonly EvalUser[];
}

export interface SplitOptions {
  /** Rating at or above which an explicit interaction is a positive (default 4). */
  positiveRating?: number;
  /** Users with fewer positives are not evaluated (default 5). */
  minPositives?: number;
  /** Share of a user's positives held out, rounded, at least one (default 0.2). */
  testFraction?: number;
}

/** Numeric ids compare as numbers ("9" < "10"); anything else as strings. Used only to order users. */
function compareIds(a: string, b: string): number {
  const na = /^\d+$/.test(a) ? Number(a) : NaN;
  const nb = /^\d+$/.test(b) ? Number(b) : NaN;
  if (!Number.isNaN(na) && !Number.isNaN(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Number of held-out positives for a user with `positives` positives. */
export function testSize(positives: number, fraction = 0.2): number {
  return Math.max(1, Math.round(fraction * positives));
}

export function temporalSplit(items: readonly SourceItem[], interactions: readonly Interaction[], options: SplitOptions = {}): EvalSplit {
  const positiveRating = options.positiveRating ?? 4;
  const minPositives = options.minPositives ?? 5;
  const fraction = options.testFraction ?? 0.2;

  const itemIndex = new Map<string, number>();
  items.forEach((it, i) => itemIndex.set(it.id, i));

  // Group by user, mapping items to catalog indices once.
  const byUser = new Map<string, HistoryEvent[]>();
  let implicit = true;
  for (const x of interactions) {
    const item = itemIndex.get(x.item);
    if (item === undefined) throw new DataError('interactions.csv', 'names an item not in the catalog', { item: x.item, field: 'item' });
    if (x.rating > 1) implicit = false;
    let list = byUser.get(x.user);
    if (!list) byUser.set(x.user, (list = []));
    list.push({ item, rating: x.rating, timestamp: x.timestamp });
  }
  if (byUser.size === 0) throw new DataError('interactions.csv', 'has no interactions');
  const isPositive = (e: HistoryEvent) => implicit || e.rating >= positiveRating;

  const users: TrainUser[] = [];
  const evaluated: EvalUser[] = [];
  for (const id of [...byUser.keys()].sort(compareIds)) {
    const events = byUser.get(id)!;
    // Array.prototype.sort is stable, so exact duplicates keep their file order.
    events.sort((a, b) => a.timestamp - b.timestamp || a.item - b.item);

    const positiveAt: number[] = [];
    events.forEach((e, i) => {
      if (isPositive(e)) positiveAt.push(i);
    });

    let history: HistoryEvent[] = events;
    let test: Int32Array | null = null;
    if (positiveAt.length >= minPositives) {
      const firstTestPositive = positiveAt.length - testSize(positiveAt.length, fraction);
      const firstTest = positiveAt[firstTestPositive];
      const candidateHistory = events.slice(0, firstTest);
      const inHistory = new Set(candidateHistory.map((e) => e.item));
      const testItems = new Set<number>();
      for (let p = firstTestPositive; p < positiveAt.length; p++) {
        const item = events[positiveAt[p]].item;
        if (!inHistory.has(item)) testItems.add(item);
      }
      // An empty history (possible only with minPositives 1) leaves nothing to recommend from: not evaluated.
      if (testItems.size > 0 && candidateHistory.length > 0) {
        history = candidateHistory;
        test = Int32Array.from([...testItems].sort((a, b) => a - b));
      }
    }
    const seen = Int32Array.from(new Set(history.map((e) => e.item))).sort();
    const user: TrainUser = { id, row: users.length, history, seen };
    users.push(user);
    if (test) evaluated.push({ user, test });
  }

  return { train: { items, itemIndex, users, matrix: buildMatrix(users, items.length), implicit }, evaluated };
}

/** The binary matrix from the users' visible rows (TrainUser.seen), with the item → users index beside it. */
export function buildMatrix(users: readonly TrainUser[], nItems: number): BinaryMatrix {
  const counts = new Int32Array(nItems);
  let nnz = 0;
  for (const u of users) {
    for (const i of u.seen) counts[i]++;
    nnz += u.seen.length;
  }
  const itemUsers = Array.from(counts, (c) => new Int32Array(c));
  const fill = new Int32Array(nItems);
  // Rows are visited in ascending order, so every column list comes out ascending.
  for (const u of users) for (const i of u.seen) itemUsers[i][fill[i]++] = u.row;
  return { users: users.length, items: nItems, userItems: users.map((u) => u.seen), itemUsers, nnz };
}
