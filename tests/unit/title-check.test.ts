/**
 * The loader checks items.json's titles by hand (acceptedTitle) before falling back on TitleSchema: the two must
 * agree. Every title the hand check accepts is exactly what TitleSchema outputs, and every title TitleSchema
 * accepts as it is (no keys it would drop) passes the hand check, so no title takes the slow path for nothing.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as v from 'valibot';
import { acceptedTitle, TitleSchema } from '../../src/core/schema/snapshot.ts';

const anything = fc.oneof(fc.string(), fc.constant(''), fc.double(), fc.constant(Number.NaN), fc.constant(Infinity), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.string(), { maxLength: 3 }), fc.constant({}));
const field = <T>(good: fc.Arbitrary<T>) => fc.oneof({ arbitrary: good, weight: 30 }, { arbitrary: anything, weight: 1 });
const optional = <T>(good: fc.Arbitrary<T>) => fc.option(field(good), { nil: undefined, freq: 3 });

const title = fc
  .record({
    id: field(fc.string({ minLength: 1 })),
    title: field(fc.string({ minLength: 1 })),
    genres: field(fc.array(fc.string(), { maxLength: 4 })),
    popularity: field(fc.double({ min: 0, max: 1, noNaN: true })),
    synopsis: optional(fc.string()),
    author: optional(fc.string()),
    age: optional(fc.string()),
    cover: optional(fc.string()),
    coverSquare: optional(fc.string()),
    rating: optional(fc.double({ noNaN: true, noDefaultInfinity: true })),
    likes: optional(fc.integer()),
    comments: optional(fc.integer()),
    votes: optional(fc.integer()),
    year: optional(fc.integer()),
    interactions: optional(fc.integer()),
    completed: optional(fc.boolean()),
    sourceUrl: optional(fc.constantFrom('https://comic.naver.com/x', 'http://example.com/', 'javascript:alert(1)', 'ftp://x', 'not a url')),
    // A key TitleSchema does not know, now and then (fc.option's freq is the odds of nil, 1 in freq: not what is wanted here).
    extra: fc.oneof({ arbitrary: fc.constant(undefined), weight: 8 }, { arbitrary: fc.string(), weight: 1 }),
  })
  // As JSON.parse gives them: no key whose value is undefined.
  .map((t) => JSON.parse(JSON.stringify(t)) as Record<string, unknown>);

describe('the hand check of items.json titles (acceptedTitle)', () => {
  it('accepts exactly what TitleSchema accepts unchanged, and gives its output', () => {
    let accepted = 0;
    fc.assert(
      fc.property(title, (t) => {
        const slow = v.safeParse(TitleSchema, t);
        const fast = acceptedTitle(structuredClone(t));
        if (fast) {
          accepted++;
          expect(slow.success).toBe(true);
          expect(fast).toEqual(slow.output);
        } else {
          // Refused by hand: TitleSchema refuses it too, or drops a key it does not know.
          expect(!slow.success || 'extra' in t).toBe(true);
        }
      }),
      { numRuns: 2000 },
    );
    expect(accepted).toBeGreaterThan(100); // the generator reaches both answers
  });

  it('turns away what is not a title object', () => {
    for (const x of [null, undefined, 'title', 3, [], [{ id: 'a' }]]) expect(acceptedTitle(x)).toBeUndefined();
    expect(acceptedTitle({ id: 'a', title: 'A', genres: [], popularity: 0.5 })).toEqual({ id: 'a', title: 'A', genres: [], popularity: 0.5 });
    expect(acceptedTitle(JSON.parse('{"id":"a","title":"A","genres":[],"popularity":0.5,"__proto__":{"x":1}}'))).toBeUndefined();
  });
});
