import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { link, mkdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { formatDuration } from '@astro-comfyui/comfyui/workflows';
import { AstroComfyUIError } from './astro-comfyui-error.js';

/** How often a holder refreshes its lock's mtime, so others can tell a live holder from a dead one. */
export const LOCK_HEARTBEAT_MS = 5_000;
/** A lock whose mtime is older than this lost its holder, on this host or another (a shared cache). */
export const LOCK_STALE_MS = 30_000;
/** How long to wait for a lock by default: another build may be generating. */
export const LOCK_TIMEOUT_MS = 10 * 60_000;
/** An unreadable lock (written by an older version, or a foreign tool) is stale after this long. */
export const LOCK_UNREADABLE_GRACE_MS = 2_000;

export interface LockHolder {
  pid: number;
  host: string;
  /** ISO time the lock was taken. */
  since: string;
  /** What the holder is doing, for the wait message. */
  what: string;
  /** This lock's own random id: a file system may give a lock taken over the inode of the one it replaced. */
  token?: string;
}

export interface LockOptions {
  /** What the lock guards, shown to whoever has to wait for it. */
  what?: string;
  /** Give up after this long, in ms. Default 10 minutes (another build may be generating). */
  timeoutMs?: number;
  /** Stops the wait (Ctrl-C): the lock is then not taken, and the signal's reason is thrown. */
  signal?: AbortSignal;
  /** Called once when the lock is held by someone else and we start waiting. */
  onWait?: (message: string) => void;
  /** For tests; defaults are the constants above. */
  heartbeatMs?: number;
  staleMs?: number;
  unreadableGraceMs?: number;
}

/**
 * Takes an exclusive lock file and resolves with its release function. The file is created complete
 * (written under a temp name, then hard-linked into place), so no crash leaves an empty lock. While held,
 * its mtime is refreshed every `heartbeatMs`. A lock is taken over when its holder is a dead process on
 * this host, when it is unreadable past a short grace, or when its heartbeat stopped (any host).
 */
export async function acquireLock(lockFile: string, options: LockOptions = {}): Promise<() => Promise<void>> {
  const heartbeatMs = options.heartbeatMs ?? LOCK_HEARTBEAT_MS;
  const staleMs = options.staleMs ?? LOCK_STALE_MS;
  const graceMs = options.unreadableGraceMs ?? LOCK_UNREADABLE_GRACE_MS;
  await mkdir(path.dirname(lockFile), { recursive: true });
  const timeoutMs = options.timeoutMs ?? LOCK_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  const token = randomBytes(8).toString('hex');
  const me: LockHolder = { pid: process.pid, host: hostname(), since: new Date().toISOString(), what: options.what ?? path.basename(lockFile), token };
  let waited = false;
  for (let delay = 10; ; delay = Math.min(delay * 2, 250)) {
    if (await createComplete(lockFile, me)) return holdLock(lockFile, heartbeatMs, token);
    const seen = await inspect(lockFile);
    if (seen === 'gone') continue;
    const age = Date.now() - seen.mtimeMs;
    const stale = seen.holder === undefined ? age > graceMs : age > staleMs || isDeadHere(seen.holder);
    if (stale) {
      await removeIfUnchanged(lockFile, seen);
      continue;
    }
    if (!waited) {
      waited = true;
      options.onWait?.(describeHolder(lockFile, seen.holder));
    }
    options.signal?.throwIfAborted();
    if (Date.now() > deadline) {
      throw new AstroComfyUIError(
        'LOCKED',
        `${describeHolder(lockFile, seen.holder)}, and it was not released within ${formatDuration(timeoutMs)}.`,
        'Another build or astro-comfyui command is working in this project; wait for it. A lock whose holder died is taken over by itself within 30 s.',
      );
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

/** Writes the holder to a temp file, then links it into place: the lock appears whole or not at all. */
async function createComplete(lockFile: string, me: LockHolder): Promise<boolean> {
  const temp = `${lockFile}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, JSON.stringify(me));
  try {
    await link(temp, lockFile);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    // File systems without hard links: exclusive create, then write (not atomic, hence the grace above).
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS') throw error;
    try {
      await writeFile(lockFile, JSON.stringify(me), { flag: 'wx' });
      return true;
    } catch (fallback) {
      if ((fallback as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw fallback;
    }
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * Keeps the lock just created fresh, and releases it. Both touch the file only while it is still this
 * lock (it holds this lock's token): a holder stalled past the stale time (its event loop blocked) may
 * have been taken over, and must then neither remove nor keep alive the lock of the one that took over.
 */
function holdLock(lockFile: string, heartbeatMs: number, token: string): () => Promise<void> {
  const ours = async () => parseHolder(await readFile(lockFile, 'utf8').catch(() => ''))?.token === token;
  const beat = setInterval(() => {
    const now = new Date();
    void ours()
      .then((still) => (still ? utimes(lockFile, now, now) : undefined))
      .catch(() => {});
  }, heartbeatMs);
  // The heartbeat must never keep a finished build alive.
  beat.unref();
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    clearInterval(beat);
    if (await ours()) await rm(lockFile, { force: true });
  };
}

type Seen = { holder: LockHolder | undefined; mtimeMs: number; ino: number };

async function inspect(lockFile: string): Promise<Seen | 'gone'> {
  try {
    const [info, text] = await Promise.all([stat(lockFile), readFile(lockFile, 'utf8')]);
    return { holder: parseHolder(text), mtimeMs: info.mtimeMs, ino: info.ino };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const value = JSON.parse(text) as LockHolder;
    return Number.isInteger(value?.pid) && typeof value.host === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Removes a stale lock unless it was replaced meanwhile (another waiter took it over first). */
async function removeIfUnchanged(lockFile: string, seen: Seen): Promise<void> {
  const now = await stat(lockFile).catch(() => undefined);
  if (now && now.ino === seen.ino && now.mtimeMs === seen.mtimeMs) await rm(lockFile, { force: true });
}

function isDeadHere(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return false;
  try {
    process.kill(holder.pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function describeHolder(lockFile: string, holder: LockHolder | undefined): string {
  if (!holder) return `${lockFile} is held by an unknown process`;
  return `${holder.what} is locked by process ${holder.pid} on ${holder.host} since ${holder.since} (${lockFile})`;
}
