import { describe, expect, it } from 'vitest';
import { pauseAfter } from '../../src/app/yield.ts';

/** Busy for `ms` (a step of work that holds the thread). */
function busy(ms: number): void {
  for (const end = performance.now() + ms; performance.now() < end; );
}

/** Runs `steps` busy steps of `ms` each with `pause` before each; answers whether a task queued first ran in between. */
async function interleaved(pause: () => Promise<void>, steps: number, ms: number): Promise<boolean> {
  let ran = false;
  setTimeout(() => (ran = true), 0);
  for (let i = 0; i < steps; i++) {
    await pause();
    busy(ms);
  }
  const between = ran;
  await new Promise((r) => setTimeout(r, 5));
  expect(ran).toBe(true); // it did run afterwards
  return between;
}

describe('pauseAfter (src/app/yield.ts): the pause of a stepped computation on the page', () => {
  it('keeps the thread while the budget lasts: no other task runs between steps after the first pause', async () => {
    const pause = pauseAfter(Infinity);
    await pause(); // the first pause gives the thread back: the task that started the work may have run for long
    expect(await interleaved(pause, 40, 0.25)).toBe(false);
  });

  it('always gives the thread back at the first pause, and then only once the budget is spent', async () => {
    // A pause that gives the thread back does not settle within microtasks; one that keeps it does.
    const yields = async (pause: Promise<void>) => {
      let settled = false;
      void pause.then(() => (settled = true));
      for (let i = 0; i < 20; i++) await Promise.resolve();
      const keptThread = settled;
      await pause;
      return !keptThread;
    };
    const kept = pauseAfter(Infinity);
    expect([await yields(kept()), await yields(kept()), await yields(kept())]).toEqual([true, false, false]);
    const none = pauseAfter(0);
    expect([await yields(none()), await yields(none())]).toEqual([true, true]);
  });

  it('gives the thread back once the budget is spent, so a waiting task runs between steps', async () => {
    expect(await interleaved(pauseAfter(0), 40, 0.25)).toBe(true);
    expect(await interleaved(pauseAfter(2), 40, 0.25)).toBe(true);
  });
});
