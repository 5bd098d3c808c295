/**
 * Step-wise computations: a generator that yields between steps lets a page give its thread back (await a pause
 * after each `next()`), and runs to the end at once where nothing waits (Node, workers, tests).
 */

/** Runs steps to the end at once (the synchronous form of a step-wise computation). */
export function runSteps<T>(steps: Generator<void, T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}
