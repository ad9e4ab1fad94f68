import { watch } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeStaleTempFiles } from '../src/remove-stale-temp-files.js';
import { tempFileOf, writeFileAtomic } from '../src/write-file-atomic.js';
import { deadPid } from '../../../test/helpers/dead-pid.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'temp-files-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

async function write(name: string, secondsAgo: number): Promise<void> {
  await writeFile(path.join(dir, name), 'half an image');
  const then = new Date(Date.now() - secondsAgo * 1000);
  await utimes(path.join(dir, name), then, then);
}
const png = (target: string) => target.endsWith('.png');

describe('removeStaleTempFiles', () => {
  it("removes what a killed writer left, never a live writer's file, and only temp files of accepted targets", async () => {
    const dead = await deadPid();
    const live = process.ppid;
    await write(`harbour-0123456789ab.png.${dead}.0a0b0c0d.tmp`, 120);
    await write(`images.lock.json.${dead}.0a0b0c0e.tmp`, 120);
    // Just written: its writer may be another machine's, sharing the folder.
    await write(`owl-0123456789ab.png.${dead}.0a0b0c0f.tmp`, 10);
    await write(`fox-0123456789ab.png.${live}.1a0b0c0d.tmp`, 2 * 60 * 60);
    // A day old: the pid it names may have been reused.
    await write(`tide-0123456789ab.png.${live}.2a0b0c0d.tmp`, 25 * 60 * 60);
    await write(`notes.txt.${dead}.3a0b0c0d.tmp`, 120);
    await write('photo.png.tmp', 3 * 24 * 60 * 60);
    await mkdir(path.join(dir, `shell-0123456789ab.png.${dead}.4a0b0c0d.tmp`));

    const removed = await removeStaleTempFiles(dir, await readdir(dir), (target) => png(target) || target === 'images.lock.json');

    expect(removed.sort()).toEqual(
      [`harbour-0123456789ab.png.${dead}.0a0b0c0d.tmp`, `images.lock.json.${dead}.0a0b0c0e.tmp`, `tide-0123456789ab.png.${live}.2a0b0c0d.tmp`].sort(),
    );
    expect((await readdir(dir)).sort()).toEqual(
      [
        `owl-0123456789ab.png.${dead}.0a0b0c0f.tmp`,
        `fox-0123456789ab.png.${live}.1a0b0c0d.tmp`,
        `notes.txt.${dead}.3a0b0c0d.tmp`,
        'photo.png.tmp',
        `shell-0123456789ab.png.${dead}.4a0b0c0d.tmp`,
      ].sort(),
    );
  });

  it('recognises the temp files writeFileAtomic makes, and leaves them to their writer while it runs', async () => {
    const seen = new Set<string>();
    const watcher = watch(dir, (_event, name) => name && seen.add(name));
    try {
      await writeFileAtomic(path.join(dir, 'lighthouse-0123456789ab.png'), Buffer.alloc(1 << 20));
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      watcher.close();
    }
    const temps = [...seen].filter((name) => name !== 'lighthouse-0123456789ab.png');
    expect(temps).toHaveLength(1);
    expect(tempFileOf(temps[0]!)).toEqual({ target: 'lighthouse-0123456789ab.png', pid: process.pid });
    // As if this process were still writing it an hour later: its writer is alive, so it stays.
    await write(temps[0]!, 60 * 60);
    expect(await removeStaleTempFiles(dir, await readdir(dir), png)).toEqual([]);
    expect((await readdir(dir)).sort()).toEqual(['lighthouse-0123456789ab.png', temps[0]!].sort());
  });
});
