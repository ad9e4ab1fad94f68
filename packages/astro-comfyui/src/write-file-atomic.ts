import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';

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
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** A temp file writeFileAtomic made (`<target>.<pid>.<8 hex>.tmp`): its target's name and its writer's pid. */
export function tempFileOf(name: string): { target: string; pid: number } | undefined {
  const match = /^(.+)\.(\d{1,10})\.[0-9a-f]{8}\.tmp$/.exec(name);
  return match ? { target: match[1]!, pid: Number(match[2]) } : undefined;
}
