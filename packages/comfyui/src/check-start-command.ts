import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ComfyUIError } from './comfyui-error.js';
import type { StartCommand } from './comfyui-supervisor.js';

/**
 * Checks what can be checked before starting ComfyUI: its folder, and `main.py` in it when the default
 * arguments run that. Without this a missing folder fails inside the spawn with no output at all.
 */
export async function checkStartCommand(start: StartCommand, url: string): Promise<void> {
  const folder = await stat(start.cwd).catch(() => undefined);
  if (!folder?.isDirectory()) {
    throw new ComfyUIError(
      'START_FAILED',
      `Cannot start ComfyUI: its folder ${start.cwd} ${folder ? 'is not a folder' : 'does not exist'}. Set start.cwd to the ComfyUI folder (the one with main.py).`,
      { url },
    );
  }
  if (start.args) return; // the author's own command line: only ComfyUI can tell whether it is right
  if (!(await stat(path.join(start.cwd, 'main.py')).catch(() => undefined))?.isFile()) {
    throw new ComfyUIError(
      'START_FAILED',
      `Cannot start ComfyUI: ${start.cwd} has no main.py, so it is not a ComfyUI folder. Set start.cwd to the folder you cloned ComfyUI into (the one with main.py).`,
      { url },
    );
  }
}
