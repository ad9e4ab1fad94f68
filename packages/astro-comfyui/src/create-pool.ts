import type { ComfyUIPool, ComfyUISupervisor, Logger } from '@astro-comfyui/comfyui';
import type { ResolvedOptions } from './options.js';

/**
 * The pool of the configured endpoints. Only the first endpoint can be local and started: by the dev
 * session's supervisor when there is one, otherwise by the `start` command (the options allow `start`
 * with a single endpoint only). The others are machines used as they are.
 */
export async function createPool(
  options: ResolvedOptions,
  context: { logger: Logger; supervisor?: ComfyUISupervisor | undefined; pollIntervalMs?: number; timeoutMs?: number },
): Promise<ComfyUIPool> {
  // The client (undici) and supervisor (execa) load only when ComfyUI is needed: a build whose images
  // are all committed never pays for them.
  const { createComfyUIPool } = await import('@astro-comfyui/comfyui');
  const first = context.supervisor ? { supervisor: context.supervisor } : options.start ? { start: options.start } : {};
  return createComfyUIPool({
    endpoints: options.endpoints.map((url, i) => (i === 0 ? { url, ...first } : { url })),
    queueAhead: options.queueAhead,
    pollIntervalMs: context.pollIntervalMs ?? options.pollIntervalMs,
    jobDeadlineMs: options.imageDeadlineMs,
    logger: context.logger,
    ...(context.timeoutMs ? { timeoutMs: context.timeoutMs } : {}),
  });
}
