import { hostname } from 'node:os';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { AstroComfyUIError } from './astro-comfyui-error.js';

export interface LockOptions {
  /** Give up after this long, in ms. Default 10 minutes (another build may be generating). */
  timeoutMs?: number;
  /** Called once when the lock is held by someone else and we start waiting. */
  onWait?: (holder: string) => void;
}

/**
 * Takes an exclusive lock file (`open(…, 'wx')`), waiting while another live process holds it. A lock
 * left by a dead process on this machine (a killed build) is taken over. Resolves with the release function.
 */
export async function acquireLock(lockFile: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  await mkdir(path.dirname(lockFile), { recursive: true });
  const deadline = Date.now() + (options.timeoutMs ?? 10 * 60_000);
  const me = `${process.pid}@${hostname()}`;
  let waited = false;
  for (let delay = 10; ; delay = Math.min(delay * 2, 250)) {
    try {
      const handle = await open(lockFile, 'wx');
      await handle.writeFile(me);
      await handle.close();
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await rm(lockFile, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const holder = await readFile(lockFile, 'utf8').catch(() => '');
    if (holder && isStale(holder)) {
      await rm(lockFile, { force: true });
      continue;
    }
    if (!waited) {
      waited = true;
      options.onWait?.(holder || 'another process');
    }
    if (Date.now() > deadline) {
      throw new AstroComfyUIError('LOCKED', `${lockFile} is held by ${holder || 'another process'}.`, 'Another build or astro-comfyui command is running in this project; wait for it, or delete the lock file if no such process exists.');
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

function isStale(holder: string): boolean {
  const [pid, host] = holder.split('@');
  if (host !== hostname() || !pid) return false;
  try {
    process.kill(Number(pid), 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
