import { lstat, rm } from 'node:fs/promises';
import path from 'node:path';
import { tempFileOf } from './write-file-atomic.js';

/** A temp file whose writer is gone from this machine is left behind once it is this old. */
const DEAD_WRITER_MS = 60_000;
/** Any temp file this old is left behind: its writer's pid may have been reused, or be another machine's. */
const ANY_WRITER_MS = 24 * 60 * 60_000;

/**
 * Removes the temp files of writeFileAtomic that a killed process left in `folder` (in the images folder,
 * an author could commit them): those whose target `accepts`, whose writer is no longer running here and
 * that are over a minute old, or over a day old whoever wrote them. A live writer's file is never touched.
 * `names` is the folder as the caller just listed it. Returns the names removed.
 */
export async function removeStaleTempFiles(folder: string, names: Iterable<string>, accepts: (target: string) => boolean, now = Date.now()): Promise<string[]> {
  const removed: string[] = [];
  for (const name of names) {
    if (!name.endsWith('.tmp')) continue;
    const temp = tempFileOf(name);
    if (!temp || !accepts(temp.target)) continue;
    const file = path.join(folder, name);
    const stats = await lstat(file).catch(() => undefined);
    if (!stats?.isFile()) continue;
    const age = now - stats.mtimeMs;
    if (age > ANY_WRITER_MS || (age > DEAD_WRITER_MS && !isRunningHere(temp.pid))) {
      await rm(file, { force: true });
      removed.push(name);
    }
  }
  return removed;
}

function isRunningHere(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}
