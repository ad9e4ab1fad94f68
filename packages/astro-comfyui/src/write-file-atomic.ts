import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** How long a rename refused on Windows is tried again (as long as Vite tries its own). */
const WINDOWS_RENAME_RETRY_MS = 5000;

/**
 * Writes to a temp file in the same folder, flushes it to the disk, then renames it over the target:
 * readers (Vite, git, a second build) see the old file or the new one, never half of one, even if this
 * process is killed, and after a power cut the name does not point at data that never reached the disk.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, options: { mode?: number } = {}): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`; // parsed by tempFileOf
  // 'wx': a temp name that exists already is someone else's; it is neither written nor removed.
  const handle = await open(temp, 'wx');
  try {
    try {
      await handle.writeFile(data);
      // open's mode is masked by the umask; chmod sets exactly the mode the replaced file had.
      if (options.mode !== undefined) await handle.chmod(options.mode);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await renameOver(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/**
 * Windows refuses to replace a file that another program holds open without sharing its deletion (a virus
 * scanner looking at the new file, an image viewer showing the old one); they let go within moments.
 * There the rename is tried again for a while; elsewhere such a refusal is final and said at once.
 */
async function renameOver(temp: string, file: string): Promise<void> {
  const deadline = Date.now() + WINDOWS_RENAME_RETRY_MS;
  for (let wait = 10; ; wait = Math.min(wait * 2, 250)) {
    try {
      return await rename(temp, file);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const held = code === 'EPERM' || code === 'EACCES' || code === 'EBUSY';
      if (process.platform !== 'win32' || !held || Date.now() + wait > deadline) throw error;
      await sleep(wait);
    }
  }
}

/** A temp file writeFileAtomic made (`<target>.<pid>.<8 hex>.tmp`): its target's name and its writer's pid. */
export function tempFileOf(name: string): { target: string; pid: number } | undefined {
  const match = /^(.+)\.(\d{1,10})\.[0-9a-f]{8}\.tmp$/.exec(name);
  return match ? { target: match[1]!, pid: Number(match[2]) } : undefined;
}
