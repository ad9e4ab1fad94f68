import { existsSync } from 'node:fs';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { runAstro, runCli, setupBlogWithFake } from '../helpers/fixture-site.js';

const cleanups = useCleanups();

const generatedDir = (root: string) => path.join(root, 'src/assets/generated');
const manifestFile = (root: string) => path.join(generatedDir(root), 'images.lock.json');

describe('input from outside is never trusted', () => {
  it('refuses a manifest entry whose file points outside the images folder: prune deletes nothing', async () => {
    const { root, env } = await setupBlogWithFake(cleanups);
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    const manifest = JSON.parse(await readFile(manifestFile(root), 'utf8'));
    // An orphaned entry (no post uses its key) that a hand edit or a bad merge pointed at the config.
    manifest.images['f'.repeat(64)] = { ...(Object.values(manifest.images)[0] as object), file: '../../../astro.config.mjs' };
    await writeFile(manifestFile(root), JSON.stringify(manifest, null, 2));
    const before = await readdir(generatedDir(root));

    const pruned = await runCli(root, ['prune'], env);
    expect(pruned.exitCode).toBe(1);
    expect(pruned.stderr).toContain(`has an invalid entry "${'f'.repeat(64)}": "file" must be a plain file name inside the images folder`);
    expect(pruned.stderr).toContain('Restore the file from git');
    expect(existsSync(path.join(root, 'astro.config.mjs'))).toBe(true);
    expect(await readdir(generatedDir(root))).toEqual(before);

    const build = await runAstro(root, ['build'], env);
    expect(build.exitCode).not.toBe(0);
    expect(build.all).toContain('has an invalid entry');
  });

  it("refuses an entry that points at another image's file", async () => {
    const { root, env } = await setupBlogWithFake(cleanups);
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    const manifest = JSON.parse(await readFile(manifestFile(root), 'utf8'));
    const [first, second] = Object.keys(manifest.images);
    manifest.images[first!].file = manifest.images[second!].file;
    await writeFile(manifestFile(root), JSON.stringify(manifest, null, 2));
    const status = await runCli(root, ['status'], env);
    expect(status.exitCode).toBe(1);
    expect(status.stderr).toContain(`"file" must end with "-${first!.slice(0, 12)}.png"`);
  });

  it('never commits a download that is not the requested PNG; the next build against a healthy ComfyUI makes it', async () => {
    const { fake, root, env } = await setupBlogWithFake(cleanups);
    fake.faults.breakView('html');
    const broken = await runCli(root, ['generate', '--only', 'src/content/blog/harbour.md'], env);
    expect(broken.exitCode).toBe(1);
    expect(broken.stderr).toContain(`harbour.md › image`);
    expect(broken.stderr).toContain(`ComfyUI at ${fake.url} returned an unusable image`);
    expect(broken.stderr).toContain('it is not a PNG');
    expect((await readdir(generatedDir(root)).catch(() => [])).filter((f) => f.endsWith('.png'))).toEqual([]);
    expect(existsSync(manifestFile(root)) ? Object.keys(JSON.parse(await readFile(manifestFile(root), 'utf8')).images) : []).toEqual([]);

    fake.faults.breakView(null);
    const healthy = await runCli(root, ['generate', '--only', 'src/content/blog/harbour.md'], env);
    expect(healthy.exitCode, String(healthy.all)).toBe(0);
    expect((await readdir(generatedDir(root))).filter((f) => f.endsWith('.png'))).toHaveLength(1);
  });
});
