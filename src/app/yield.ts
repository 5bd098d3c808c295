/**
 * Gives the page's thread back for a moment (between the steps of a long computation): `scheduler.yield()` where the
 * browser has it (the continuation keeps its priority), else a message on a fresh channel, which unlike
 * `setTimeout(0)` is not clamped to 4 ms after a few nested calls.
 */
export function yieldToPage(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler;
  if (scheduler?.yield) return scheduler.yield();
  return new Promise((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}
