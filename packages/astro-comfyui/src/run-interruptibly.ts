import type { Logger } from '@astro-comfyui/comfyui';
import { LeaveRunning } from '@astro-comfyui/comfyui/workflows';

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * Runs `run` so that Ctrl-C (or SIGTERM) stops it cleanly: the first signal aborts `run`'s signal with
 * LeaveRunning, so the jobs still waiting in ComfyUI's queue are taken back (else a shared GPU would go on
 * making images for nobody), an image being made finishes there for the next run to collect, and the
 * images made so far are recorded; a second signal quits at once. The listeners exist only while `run`
 * runs: before and after, the signals do what they did.
 */
export async function runInterruptibly<T>(logger: Logger, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) process.exit(signal === 'SIGINT' ? 130 : 143);
    logger.warn(
      "Stopping: taking back the jobs still waiting in ComfyUI's queue; an image it is making finishes there for the next run (press Ctrl-C again to quit at once).",
    );
    controller.abort(new LeaveRunning());
  };
  for (const signal of SIGNALS) process.on(signal, onSignal);
  try {
    return await run(controller.signal);
  } finally {
    for (const signal of SIGNALS) process.off(signal, onSignal);
  }
}

/**
 * `signal`, but a LeaveRunning abort becomes a plain one, which interrupts the job: for a job whose prompt
 * id no later run asks for again (a forced run's own id, a regenerated image's new random seed), a job
 * left running would be made for nobody. `release()` drops the listener once the job settled, so a
 * long-lived signal (dev) does not gather one per job.
 */
export function interruptingSignal(signal: AbortSignal): { signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return { signal: controller.signal, release: () => signal.removeEventListener('abort', onAbort) };
}
