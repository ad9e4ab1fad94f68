import { lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { removeStaleTempFiles } from '../remove-stale-temp-files.js';

/**
 * Candidates kept in the cache: 16 generations of four. The panel can pin only the candidates it shows
 * (each generation replaces the last), so older ones are never used again, and at 1–2 MB a picture an
 * author's daily use of the studio would otherwise fill node_modules/.cache by gigabytes.
 */
export const CANDIDATES_KEPT = 64;

/** A candidate is `<key>.png`. */
const CANDIDATE = /^[0-9a-f]{64}\.png$/;

/**
 * Removes all but the `keep` newest candidates (by modification time) from the candidates folder, and
 * the temp files of candidates that a killed dev server left. Only regular files named as candidates are
 * touched: anything else there is left.
 */
export async function pruneCandidates(dir: string, keep = CANDIDATES_KEPT, now = Date.now()): Promise<number> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const files = await Promise.all(
    names
      .filter((name) => CANDIDATE.test(name))
      .map(async (name) => {
        const stats = await lstat(path.join(dir, name)).catch(() => undefined);
        return stats?.isFile() ? { name, mtimeMs: stats.mtimeMs } : undefined;
      }),
  );
  const candidates = files.filter((file) => file !== undefined).sort((a, b) => b.mtimeMs - a.mtimeMs || a.name.localeCompare(b.name));
  const old = candidates.slice(keep);
  await Promise.all(old.map((file) => rm(path.join(dir, file.name), { force: true })));
  const temps = await removeStaleTempFiles(dir, names, (target) => CANDIDATE.test(target), now);
  return old.length + temps.length;
}
