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
  if (!(await isFile(path.join(start.cwd, 'main.py')))) {
    throw new ComfyUIError(
      'START_FAILED',
      `Cannot start ComfyUI: ${start.cwd} has no main.py, so it is not a ComfyUI folder. ${await adviseFolder(start.cwd)}`,
      {
        url,
      },
    );
  }
}

/** The folder to give instead of `cwd`, for the two installs whose top folder is not ComfyUI's own. */
async function adviseFolder(cwd: string): Promise<string> {
  // ComfyUI's portable build for Windows: ComfyUI_windows_portable\ComfyUI, beside python_embeded.
  const inner = path.join(cwd, 'ComfyUI');
  if (await isFile(path.join(inner, 'main.py'))) {
    const embedded = (await isFile(path.join(cwd, 'python_embeded', 'python.exe'))) ? ', and start.python to "../python_embeded/python.exe"' : '';
    return `Its ComfyUI subfolder has one (ComfyUI's portable build): set start.cwd to ${inner}${embedded}.`;
  }
  // ComfyUI Desktop keeps models and its venv in the folder it was installed to, and ComfyUI's code in the app.
  if ((await isDirectory(path.join(cwd, 'models'))) && (await isDirectory(path.join(cwd, '.venv')))) {
    return 'It looks like the folder of ComfyUI Desktop, whose app runs ComfyUI itself: start the app instead, remove start, and set COMFYUI_URL=http://127.0.0.1:8000, the port it serves on.';
  }
  return 'Set start.cwd to the folder you cloned ComfyUI into (the one with main.py).';
}

const isFile = async (file: string) => (await stat(file).catch(() => undefined))?.isFile() ?? false;
const isDirectory = async (dir: string) => (await stat(dir).catch(() => undefined))?.isDirectory() ?? false;
