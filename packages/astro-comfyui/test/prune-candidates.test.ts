import { mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pruneCandidates } from '../src/toolbar/prune-candidates.js';

let root: string;
let dir: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'candidates-'));
  dir = path.join(root, 'candidates');
  await mkdir(dir);
});
afterEach(() => rm(root, { recursive: true, force: true }));

const key = (i: number) => i.toString(16).padStart(64, '0');
/** A file written `minutesAgo` minutes ago. */
async function write(name: string, minutesAgo: number, folder = dir): Promise<string> {
  const file = path.join(folder, name);
  await writeFile(file, 'png');
  const then = new Date(Date.now() - minutesAgo * 60_000);
  await utimes(file, then, then);
  return file;
}

describe('pruneCandidates', () => {
  it('keeps the newest candidates and fresh temp files, and removes the older ones and stale temp files', async () => {
    // Written in shuffled order: age, not name or creation order, decides.
    const ages = Array.from({ length: 10 }, (_, i) => (i * 7) % 10);
    for (const [i, minutes] of ages.entries()) await write(`${key(i)}.png`, minutes * 60);
    // Temp files: one of a dev server killed two days ago, one of this live process writing now.
    await write(`${key(100)}.png.${process.pid}.0a1b2c3d.tmp`, 2 * 24 * 60);
    await write(`${key(101)}.png.${process.pid}.0e0f1a2b.tmp`, 5);

    expect(await pruneCandidates(dir, 6)).toBe(5);

    const kept = ages.flatMap((minutes, i) => (minutes < 6 ? [`${key(i)}.png`] : []));
    expect((await readdir(dir)).sort()).toEqual([...kept, `${key(101)}.png.${process.pid}.0e0f1a2b.tmp`].sort());
  });

  it("touches nothing but candidate files: the author's files, folders and links stay, and so do their targets", async () => {
    const outside = path.join(root, 'outside');
    await mkdir(outside);
    const target = await write(`${key(9)}.png`, 600, outside);
    await symlink(target, path.join(dir, `${key(8)}.png`));
    await mkdir(path.join(dir, `${key(7)}.png`));
    await write('notes.txt', 600);
    await write(`${key(6)}.PNG`, 600);
    await write(`${key(5)}.png`, 600);
    await write(`${key(4)}.png`, 1);

    expect(await pruneCandidates(dir, 1)).toBe(1);

    expect((await readdir(dir)).sort()).toEqual([`${key(4)}.png`, `${key(6)}.PNG`, `${key(7)}.png`, `${key(8)}.png`, 'notes.txt'].sort());
    expect(await readdir(outside)).toEqual([`${key(9)}.png`]);
  });

  it('does nothing when no candidate was ever made', async () => {
    expect(await pruneCandidates(path.join(root, 'never-made'))).toBe(0);
  });
});
