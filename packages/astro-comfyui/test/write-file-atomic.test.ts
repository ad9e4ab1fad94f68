import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { asWindowsFlags } from '../../../test/helpers/as-windows.js';

const writer = fileURLToPath(new URL('./fixtures/write-atomically.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'write-atomic-'));
  await writeFile(path.join(dir, 'image.png'), 'old');
  await writeFile(path.join(dir, 'holder'), 'another program');
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/**
 * Writes "new" over image.png with writeFileAtomic while another file is mounted over it (in a mount
 * namespace of its own, `unshare -rm`). The kernel refuses to replace it meanwhile (EBUSY), as Windows
 * refuses to replace a file that another program holds open. The mount goes 0.3 s after the writer's temp
 * file appears, that is, once its rename has begun to be refused.
 */
function writeWhileHeld(nodeFlags: string[]) {
  const release = 'for i in $(seq 100); do ls "$DIR"/*.tmp >/dev/null 2>&1 && break; sleep 0.05; done; sleep 0.3; umount "$DIR/image.png"';
  const script = `mount --bind "$DIR/holder" "$DIR/image.png" && { (${release}) >/dev/null 2>&1 & exec "$0" "$@"; }`;
  const args = ['-rm', '--propagation', 'private', 'sh', '-c', script, process.execPath, ...nodeFlags, writer, path.join(dir, 'image.png'), 'new'];
  // From the repository, where `--import tsx` finds tsx.
  return execa('unshare', args, { cwd: repoRoot, env: { DIR: dir }, reject: false, all: true, timeout: 30_000 });
}

describe('writeFileAtomic', () => {
  it('on Windows, replaces a file that another program holds for a moment (a virus scanner, an image viewer) once it is let go', async () => {
    const result = await writeWhileHeld(asWindowsFlags);
    expect(result.all).toMatch(/^written in \d+ ms$/m);
    expect(Number(/written in (\d+) ms/.exec(result.all)?.[1]), 'it waited for the holder').toBeGreaterThanOrEqual(200);
    expect(await readFile(path.join(dir, 'image.png'), 'utf8')).toBe('new');
    expect((await readdir(dir)).sort()).toEqual(['holder', 'image.png']);
  });

  it('elsewhere, says at once that the file could not be replaced, keeps it as it was and leaves no temp file', async () => {
    const result = await writeWhileHeld(['--import', 'tsx']);
    expect(result.all).toContain('failed: EBUSY');
    expect(result.exitCode).toBe(1);
    expect(await readFile(path.join(dir, 'image.png'), 'utf8')).toBe('old');
    expect((await readdir(dir)).sort()).toEqual(['holder', 'image.png']);
  });
});
