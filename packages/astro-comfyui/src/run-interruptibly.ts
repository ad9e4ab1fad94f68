import type { Logger } from '@astro-comfyui/comfyui';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Runs `run` so that Ctrl-C (or SIGTERM) stops it cleanly: the first signal aborts `run`'s signal, so the
 * jobs already sent to ComfyUI are taken out of its queue or interrupted (else a shared GPU goes on making
 * images nobody collects) and the images made so far are recorded; a second one quits at once. The
 * listeners exist only while `run` runs: before and after, the signals do what they did.
 */
export async function runInterruptibly<T>(logger: Logger, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
    logger.warn('Stopping: cancelling the jobs sent to ComfyUI and keeping the images made so far (press Ctrl-C again to quit at once).');
    controller.abort();
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  try {
    return await run(controller.signal);
  } finally {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  }
}
