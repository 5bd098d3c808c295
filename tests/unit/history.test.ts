import { describe, it, expect } from 'vitest';
import { applyAction, exportHistory, mergeHistory, parseHistoryFile, isConsumed, type HistoryEntry } from '../../src/core/history.ts';
import { DataError } from '../../src/core/errors.ts';

describe('history actions', () => {
  it('like and dislike exclude each other; a like or a rating marks the title read', () => {
    let e = applyAction(undefined, 'a', { kind: 'like', on: true }, 10)!;
    expect(e).toEqual({ id: 'a', likedAt: 10, readAt: 10 });
    e = applyAction(e, 'a', { kind: 'dislike', on: true }, 20)!;
    expect(e).toEqual({ id: 'a', dislikedAt: 20, readAt: 10 });
    e = applyAction(e, 'a', { kind: 'rate', value: 4 }, 30)!;
    expect(e.rating).toBe(4);
    expect(() => applyAction(e, 'a', { kind: 'rate', value: 6 }, 40)).toThrow(RangeError);
  });

  it('forgets a title when nothing is left, and a bookmark alone is not consumed', () => {
    const b = applyAction(undefined, 'a', { kind: 'bookmark', on: true }, 1)!;
    expect(isConsumed(b)).toBe(false);
    expect(applyAction(b, 'a', { kind: 'bookmark', on: false }, 2)).toBeNull();
  });
});

describe('history export and import', () => {
  const entries: HistoryEntry[] = [
    { id: '1', readAt: 1, likedAt: 1 },
    { id: '2', readAt: 2, rating: 5, ratedAt: 2 },
  ];

  it('round-trips an export', () => {
    const text = JSON.stringify(exportHistory(entries, 'demo'));
    expect(parseHistoryFile(text).entries).toEqual(entries);
  });

  const bad: Array<[string, string, RegExp]> = [
    ['not JSON', '{"format":', /not JSON/],
    ['another file', JSON.stringify({ hello: 1 }), /not a Toonpick history export/],
    ['a future version', JSON.stringify({ format: 'toonpick-history', version: 9, entries: [] }), /unknown version 9/],
    ['entries not an array', JSON.stringify({ format: 'toonpick-history', version: 1, entries: {} }), /field "entries"/],
    ['a rating of 7', JSON.stringify({ format: 'toonpick-history', version: 1, entries: [{ id: 'x', rating: 7, ratedAt: 1 }] }), /item x, field "rating"/],
    ['liked and disliked', JSON.stringify({ format: 'toonpick-history', version: 1, entries: [{ id: 'x', likedAt: 1, dislikedAt: 2 }] }), /both liked and disliked/],
    ['a string time', JSON.stringify({ format: 'toonpick-history', version: 1, entries: [{ id: 'x', readAt: 'yesterday' }] }), /field "readAt"/],
    ['an unknown field', JSON.stringify({ format: 'toonpick-history', version: 1, entries: [{ id: 'x', readAt: 1, evil: '<img>' }] }), /field "evil"/],
    ['a duplicate id', JSON.stringify({ format: 'toonpick-history', version: 1, entries: [{ id: 'x', readAt: 1 }, { id: 'x', readAt: 2 }] }), /appears twice/],
  ];
  for (const [what, text, msg] of bad) {
    it(`refuses ${what}`, () => {
      expect(() => parseHistoryFile(text)).toThrow(DataError);
      expect(() => parseHistoryFile(text)).toThrow(msg);
    });
  }

  it('merges by the most recent touch per title', () => {
    const merged = mergeHistory(entries, [{ id: '1', readAt: 5, dislikedAt: 5 }, { id: '3', readAt: 3 }]);
    expect(merged.find((e) => e.id === '1')).toEqual({ id: '1', readAt: 5, dislikedAt: 5 });
    expect(merged.map((e) => e.id).sort()).toEqual(['1', '2', '3']);
  });
});

describe('review notes', () => {
  it('a note is kept with its time and mood, counts like a rating, and an empty note removes it', async () => {
    const { applyAction, ratingOf, parseHistoryFile, exportHistory } = await import('../../src/core/history.ts');
    const { readingsFromHistory } = await import('../../src/core/rank/reader.ts');
    const { defaultConfig } = await import('../../src/core/config.ts');
    const e = applyAction(undefined, 't1', { kind: 'note', text: '  그림은 최고  ', sentiment: 0.9 }, 1000)!;
    expect(e).toMatchObject({ id: 't1', note: '그림은 최고', noteAt: 1000, noteSentiment: 0.9, readAt: 1000 });
    expect(ratingOf(e)).toBeCloseTo(4.6);
    const bad = applyAction(undefined, 't2', { kind: 'note', text: '별로', sentiment: 0.1 }, 2000)!;
    const readings = readingsFromHistory([e, bad], new Map([['t1', 0], ['t2', 1]]), defaultConfig.ranker);
    expect(readings.map((r) => r.taste)).toEqual([expect.closeTo(0.8, 5), expect.closeTo(-0.8, 5)]);
    // An explicit rating wins over the note's mood.
    expect(ratingOf(applyAction(e, 't1', { kind: 'rate', value: 2 }, 3000)!)).toBe(2);
    // Round trip through an export; a note without its time is refused.
    expect(parseHistoryFile(JSON.stringify(exportHistory([e]))).entries[0]).toEqual(e);
    const noTime = { ...e, noteAt: undefined };
    expect(() => parseHistoryFile(JSON.stringify(exportHistory([noTime])))).toThrow(/field "noteAt": is required with a note/);
    expect(() => parseHistoryFile(JSON.stringify(exportHistory([{ ...e, note: 'x'.repeat(501) }])))).toThrow(/field "note": must be a string of at most 500/);
    // Clearing the text forgets the note (and, with nothing else done, leaves the read mark).
    expect(applyAction(e, 't1', { kind: 'note', text: ' ' }, 4000)).toEqual({ id: 't1', readAt: 1000 });
  });
});
