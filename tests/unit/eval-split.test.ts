import { describe, it, expect } from 'vitest';
import { temporalSplit, testSize, type EvalSplit } from '../../src/core/split.ts';
import { DataError } from '../../src/core/errors.ts';
import type { Interaction, SourceItem } from '../../src/core/source.ts';

// Catalog ids chosen so that string order ("10" < "2") differs from catalog order (2 before 10).
const ids = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];
const items: SourceItem[] = ids.map((id) => ({ id, title: `t${id}`, synopsis: '', genres: [] }));
const idx = (id: string) => ids.indexOf(id);
const row = (user: string, item: string, rating: number, timestamp: number): Interaction => ({ user, item, rating, timestamp });

/**
 * u1: 6 positives → 1 test item; a negative before the test stays in the history, one after it is hidden.
 *     Items 10 and 2 share the last timestamp: catalog order puts 2 first, so 10 is the test item.
 * u2: 4 positives → not evaluated, everything trains.
 * u3: 10 positives → 2 test items; interactions arrive unsorted in the file.
 */
const interactions: Interaction[] = [
  row('u1', '1', 5, 100),
  row('u1', '3', 4, 101),
  row('u1', '4', 2, 102), // negative before the test: history
  row('u1', '5', 4, 103),
  row('u1', '6', 5, 104),
  row('u1', '10', 4, 200), // same time as item 2, later in catalog order → last positive → test
  row('u1', '2', 4, 200),
  row('u1', '12', 1, 300), // negative after the first test item: hidden
  row('u2', '1', 5, 10),
  row('u2', '2', 5, 11),
  row('u2', '3', 5, 12),
  row('u2', '12', 4, 13),
  row('u2', '11', 3, 14),
  ...['11', '10', '9', '8', '7', '6', '5', '4', '3', '2'].map((id, n) => row('u3', id, 4, 1000 - n)),
  row('u3', '12', 2, 999), // negative at the first test item's time, after it in catalog order: hidden
];

function split(): EvalSplit {
  return temporalSplit(items, interactions);
}

describe('temporalSplit', () => {
  it('holds out max(1, round(0.2·#positives)) positives', () => {
    expect([4, 5, 6, 7, 8, 10, 12, 13].map((n) => testSize(n))).toEqual([1, 1, 1, 1, 2, 2, 2, 3]);
  });

  it('evaluates only users with at least 5 positives', () => {
    const s = split();
    expect(s.evaluated.map((e) => e.user.id)).toEqual(['u1', 'u3']);
    expect(s.train.users.map((u) => u.id)).toEqual(['u1', 'u2', 'u3']);
    s.train.users.forEach((u, r) => expect(u.row).toBe(r));
  });

  it('u1: last positive in (timestamp, catalog order) is the test item; earlier negatives train, later ones are hidden', () => {
    const u1 = split().evaluated[0];
    expect([...u1.test]).toEqual([idx('10')]);
    expect(u1.user.history.map((e) => items[e.item].id)).toEqual(['1', '3', '4', '5', '6', '2']);
    expect(u1.user.history[2]).toEqual({ item: idx('4'), rating: 2, timestamp: 102 });
    expect([...u1.user.seen]).toEqual(['1', '2', '3', '4', '5', '6'].map(idx));
  });

  it('u3: two test items, everything at or after the first one is out of the history', () => {
    const u3 = split().evaluated[1];
    // Positives by time: 2@991, 3@992, …, 10@999, 11@1000; the negative 12@999 sorts after 10@999 (catalog order).
    expect([...u3.test]).toEqual([idx('10'), idx('11')]);
    expect(u3.user.history.map((e) => items[e.item].id)).toEqual(['2', '3', '4', '5', '6', '7', '8', '9']);
    const firstTestTime = 999;
    for (const e of u3.user.history) expect(e.timestamp).toBeLessThanOrEqual(firstTestTime);
  });

  it('never leaks a test item into a history or the binary matrix row', () => {
    const s = split();
    for (const e of s.evaluated) {
      const seen = new Set(e.user.seen);
      for (const t of e.test) expect(seen.has(t)).toBe(false);
      for (const h of e.user.history) expect(e.test.includes(h.item)).toBe(false);
      expect([...s.train.matrix.userItems[e.user.row]]).toEqual([...e.user.seen]);
      for (const t of e.test) expect(s.train.matrix.itemUsers[t].includes(e.user.row)).toBe(false);
    }
  });

  it('builds the binary matrix from histories of evaluated users and all rows of the others', () => {
    const { matrix } = split().train;
    expect(matrix.users).toBe(3);
    expect(matrix.items).toBe(12);
    // u2 keeps every interaction, whatever the rating.
    expect([...matrix.userItems[1]]).toEqual(['1', '2', '3', '11', '12'].map(idx));
    // Column of item 12: only u2 (u1's and u3's 12 are hidden).
    expect([...matrix.itemUsers[idx('12')]]).toEqual([1]);
    expect([...matrix.itemUsers[idx('2')]]).toEqual([0, 1, 2]);
    expect(matrix.nnz).toBe(6 + 5 + 8);
    const colSum = matrix.itemUsers.reduce((s, c) => s + c.length, 0);
    expect(colSum).toBe(matrix.nnz);
  });

  it('treats a data set whose ratings are all ≤ 1 as implicit: every row is positive', () => {
    const implicit = ['1', '2', '3', '4', '5'].map((id, n) => row('a', id, 1, n));
    const s = temporalSplit(items, implicit);
    expect(s.train.implicit).toBe(true);
    expect(s.evaluated).toHaveLength(1);
    expect([...s.evaluated[0].test]).toEqual([idx('5')]);
    // The same rows with rating 1 on a 1–5 scale (another row rated 5) are negatives: nobody is evaluated.
    const explicit = temporalSplit(items, [...implicit, row('b', '1', 5, 0)]);
    expect(explicit.train.implicit).toBe(false);
    expect(explicit.evaluated).toHaveLength(0);
  });

  it('drops a test item the user already has in the training history (repeated rows)', () => {
    const rows = [...['1', '2', '3', '4', '5'].map((id, n) => row('a', id, 5, n)), row('a', '6', 5, 10), row('a', '1', 5, 11)];
    // 7 positives → 1 test: the repeat of item 1, already in the history → dropped → user not evaluated.
    const s = temporalSplit(items, rows);
    expect(s.evaluated).toHaveLength(0);
    expect(s.train.users[0].history).toHaveLength(7);
    expect([...s.train.users[0].seen]).toEqual(['1', '2', '3', '4', '5', '6'].map(idx));
  });

  it('rejects interactions naming an item outside the catalog', () => {
    expect(() => temporalSplit(items, [row('a', '99', 5, 0)])).toThrow(DataError);
  });
});
