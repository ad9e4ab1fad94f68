import { lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Candidates kept in the cache: 16 generations of four. The panel can pin only the candidates it shows
 * (each generation replaces the last), so older ones are never used again, and at 1–2 MB a picture an
 * author's daily use of the studio would otherwise fill node_modules/.cache by gigabytes.
 */
export const CANDIDATES_KEPT = 64;

/** A temp file older than this was left by a dev server that was killed while writing it. */
const STALE_TEMP_MS = 60 * 60_000;

/** `<key>.png`, and the temp files writeFileAtomic makes for one: `<key>.png.<pid>.<hex>.tmp`. */
const CANDIDATE = /^[0-9a-f]{64}\.png$/;
const CANDIDATE_TEMP = /^[0-9a-f]{64}\.png\.\d+\.[0-9a-f]+\.tmp$/;

/**
 * Removes all but the `keep` newest candidates (by modification time) and stale temp files from the
 * candidates folder. Only regular files named as candidates are touched: anything else there is left.
 */
export async function pruneCandidates(dir: string, keep = CANDIDATES_KEPT, now = Date.now()): Promise<number> {
  const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  const files = await Promise.all(
    names
      .filter((name) => CANDIDATE.test(name) || CANDIDATE_TEMP.test(name))
      .map(async (name) => {
        const stats = await lstat(path.join(dir, name)).catch(() => undefined);
        return stats?.isFile() ? { name, mtimeMs: stats.mtimeMs } : undefined;
      }),
  );
  const found = files.filter((file) => file !== undefined);
  const candidates = found.filter((file) => CANDIDATE.test(file.name)).sort((a, b) => b.mtimeMs - a.mtimeMs || a.name.localeCompare(b.name));
  const stale = [...candidates.slice(keep), ...found.filter((file) => CANDIDATE_TEMP.test(file.name) && now - file.mtimeMs > STALE_TEMP_MS)];
  await Promise.all(stale.map((file) => rm(path.join(dir, file.name), { force: true })));
  return stale.length;
}
