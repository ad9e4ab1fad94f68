import { fileURLToPath } from 'node:url';

/** The `python main.py` stand-in, as a supervisor start command (`python` = this Node with tsx). */
export const fakeLauncherPath = fileURLToPath(new URL('../fake-comfyui/main.ts', import.meta.url));

export function fakeStartCommand(env: Record<string, string> = {}, startTimeoutMs = 30_000) {
  return {
    cwd: fileURLToPath(new URL('../fake-comfyui/', import.meta.url)),
    python: process.execPath,
    args: ['--import', 'tsx', fakeLauncherPath],
    env,
    startTimeoutMs,
  };
}

export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
