import { ensureComfyUI } from '@astro-comfyui/comfyui';
import { AstroComfyUIError } from '../astro-comfyui-error.js';
import type { ResolvedOptions } from '../options.js';
import { createCliLogger } from './cli-logger.js';

/** `astro-comfyui start`: starts ComfyUI with the configured command and supervises it until Ctrl-C. */
export async function runStart(options: ResolvedOptions, signal: AbortSignal): Promise<number> {
  if (options.startNotUsed)
    throw new AstroComfyUIError(
      'INVALID_OPTIONS',
      options.startNotUsed,
      "To start ComfyUI here, take COMFYUI_URL out of the shell and the site's .env files, or set it to a local address such as http://127.0.0.1:8188.",
    );
  if (!options.start) {
    throw new AstroComfyUIError(
      'INVALID_OPTIONS',
      'No start command is configured.',
      'Add start: { cwd: "/path/to/ComfyUI", python: "/path/to/venv/bin/python" } to the astro-comfyui options.',
    );
  }
  const logger = createCliLogger();
  const supervisor = await ensureComfyUI({
    url: options.endpoints[0]!,
    start: options.start,
    logger,
    onLog: (line) => process.stdout.write(`[comfyui] ${line}\n`),
  });
  const status = supervisor.status();
  logger.info(
    status.managed
      ? `ComfyUI is running at ${supervisor.url} (pid ${status.pid}). Press Ctrl-C to stop it.`
      : `ComfyUI was already running at ${supervisor.url}; leaving it alone.`,
  );
  if (!status.managed) {
    await supervisor.dispose();
    return 0;
  }
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  await supervisor.dispose();
  return 0;
}
