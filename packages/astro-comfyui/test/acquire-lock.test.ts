import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireLock } from '../src/acquire-lock.js';
import { deadPid } from '../../../test/helpers/dead-pid.js';

let dir: string;
let lock: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lock-'));
  lock = path.join(dir, 'manifest.lock');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const holder = (pid: number, host = hostname()) => JSON.stringify({ pid, host, since: '2026-01-02T03:04:05.000Z', what: 'Generating a.png' });
const age = (file: string, ms: number) => utimes(file, new Date(Date.now() - ms), new Date(Date.now() - ms));

describe('acquireLock', () => {
  it('is created whole: processes killed at random moments never leave an empty or partial lock', async () => {
    const script = fileURLToPath(new URL('./fixtures/lock-forever.mjs', import.meta.url));
    for (let round = 0; round < 10; round++) {
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          const child = spawn(process.execPath, [script, lock], { stdio: ['ignore', 'pipe', 'inherit'] });
          await new Promise((resolve) => child.stdout.once('data', resolve));
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 30));
          child.kill('SIGKILL');
          await new Promise((resolve) => child.on('exit', resolve));
        }),
      );
      const text = await readFile(lock, 'utf8').catch(() => null);
      if (text !== null) expect(JSON.parse(text)).toMatchObject({ pid: expect.any(Number), host: hostname(), what: 'manifest.lock' });
    }
    // Whatever the last one left is a dead holder on this host: taken over at once.
    const started = Date.now();
    const release = await acquireLock(lock, { timeoutMs: 5_000 });
    expect(Date.now() - started).toBeLessThan(2_000);
    await release();
  });

  it('takes over at once from a dead process on this host, without a wait message', async () => {
    await writeFile(lock, holder(await deadPid()));
    const waits: string[] = [];
    const release = await acquireLock(lock, { timeoutMs: 1_000, onWait: (m) => waits.push(m) });
    expect(waits).toEqual([]);
    expect(JSON.parse(await readFile(lock, 'utf8')).pid).toBe(process.pid);
    await release();
    await expect(stat(lock)).rejects.toThrow(/ENOENT/);
  });

  it('takes over an empty lock (an older version killed mid-write) after a short grace, not before', async () => {
    await writeFile(lock, '');
    const started = Date.now();
    const release = await acquireLock(lock, { unreadableGraceMs: 300, timeoutMs: 5_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await release();
    await writeFile(lock, '');
    await age(lock, 60_000);
    const quick = Date.now();
    await (await acquireLock(lock, { timeoutMs: 1_000 }))();
    expect(Date.now() - quick).toBeLessThan(500);
  });

  it('says who holds what and since when, and takes over a lock from another host once its heartbeat stops', async () => {
    await writeFile(lock, holder(4242, 'devcontainer-7'));
    const waits: string[] = [];
    const started = Date.now();
    const release = await acquireLock(lock, { staleMs: 400, timeoutMs: 5_000, onWait: (m) => waits.push(m) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(waits).toEqual([`Generating a.png is locked by process 4242 on devcontainer-7 since 2026-01-02T03:04:05.000Z (${lock})`]);
    await release();
  });

  it('never takes a lock whose holder is alive and beating, however long it holds it', async () => {
    const release = await acquireLock(lock, { heartbeatMs: 40, what: 'The image manifest' });
    try {
      const error = await acquireLock(lock, { staleMs: 300, timeoutMs: 1_000 }).catch((e: unknown) => e);
      expect((error as Error).message).toMatch(
        new RegExp(`^The image manifest is locked by process ${process.pid} on .* since .*, and it was not released within 1\\.0 s\\.$`),
      );
    } finally {
      await release();
    }
  });

  it('releases only its own lock: a holder that stalled past the stale time neither removes nor refreshes the lock that took over', async () => {
    // A holder whose heartbeat did not come in time (its event loop blocked): another one takes over.
    const stalled = await acquireLock(lock, { heartbeatMs: 300 });
    await age(lock, 1_000);
    const taker = await acquireLock(lock, { staleMs: 500, heartbeatMs: 60_000, timeoutMs: 2_000, what: 'The taker' });
    // The taker's lock made to look old: only a heartbeat would make it new again, and the stalled one's
    // next beats (its loop runs again) must not.
    await age(lock, 10_000);
    const taken = await stat(lock);
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect((await stat(lock)).mtimeMs).toBe(taken.mtimeMs);
    await stalled();
    expect(JSON.parse(await readFile(lock, 'utf8'))).toMatchObject({ what: 'The taker' });
    expect((await stat(lock)).ino).toBe(taken.ino);
    await taker();
    await expect(stat(lock)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('stops waiting when its signal aborts (Ctrl-C), leaving the holder its lock', async () => {
    const held = await acquireLock(lock);
    const controller = new AbortController();
    const waiting = acquireLock(lock, { timeoutMs: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(new Error('stopped by Ctrl-C')), 100);
    const started = Date.now();
    await expect(waiting).rejects.toThrow('stopped by Ctrl-C');
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(JSON.parse(await readFile(lock, 'utf8')).pid).toBe(process.pid);
    await held();
  });
});
