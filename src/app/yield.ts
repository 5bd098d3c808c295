/**
 * Gives the page's thread back for a moment (between the steps of a long computation): `scheduler.yield()` where the
 * browser has it (the continuation keeps its priority), else a message on a fresh channel, which unlike
 * `setTimeout(0)` is not clamped to 4 ms after a few nested calls. `behind`: always the message, so that the tasks
 * already waiting run first — for background work that what the reader waits for must not queue behind (the kept
 * rows read while the snapshot worker's answer waits: at 100k titles it waited ~150 ms for the whole read).
 */
export function yieldToPage(behind = false): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  if (scheduler?.yield && !behind) return scheduler.yield();
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/**
 * The pause of one stepped computation on the page (ranking, More like this, rows read into memory): it gives the
 * thread back only once `budgetMs` have passed since it last did (config.stepBudgetMs), so that fine steps cost
 * nothing on a fast device and no task runs much past the budget on a slow one. The first pause always gives it
 * back: the task that started the computation may have run for long already (a message, a redraw). `behind`: as
 * yieldToPage's.
 */
export function pauseAfter(budgetMs: number, behind = false): () => Promise<void> {
  let since = -Infinity;
  return async () => {
    if (performance.now() - since < budgetMs) return;
    await yieldToPage(behind);
    since = performance.now();
  };
}
