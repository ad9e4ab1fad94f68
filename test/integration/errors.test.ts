import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { fakeStartCommand } from '../helpers/fake-launcher.js';
import { copyFixture, runAstro, runCli, setupBlogWithFake } from '../helpers/fixture-site.js';
import { findFreePort } from '../helpers/find-free-port.js';

const cleanups = useCleanups();

describe('errors keep their whole cause and come before GPU work', () => {
  it('a folder that cannot be written fails before any generation, naming it', async () => {
    const { fake, root, env } = await setupBlogWithFake(cleanups);
    // src/assets is a file, so the images folder below it can never be created (as on a read-only disk).
    await writeFile(path.join(root, 'src/assets'), 'not a folder');
    const result = await runCli(root, ['generate'], env);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/Cannot write to the generated images folder .*src\/assets\/generated \(ENOTDIR\); nothing was generated\./);
    expect(fake.stats.promptsQueued).toBe(0);
  });

  it('images checked out as Git LFS pointers fail the build with how to fetch them, not with an image error', async () => {
    const { root, env } = await setupBlogWithFake(cleanups);
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    const folder = path.join(root, 'src/assets/generated');
    // What a checkout without `git lfs pull` leaves of every PNG tracked by LFS.
    for (const file of (await readdir(folder)).filter((name) => name.endsWith('.png'))) {
      await writeFile(
        path.join(folder, file),
        'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 48211\n',
      );
    }
    const build = await runAstro(root, ['build'], { ...env, CI: '1' }, { all: true });
    expect(build.exitCode).toBe(1);
    expect(build.all).toMatch(/src\/assets\/generated\/[a-z]+-[0-9a-f]{12}\.png is a Git LFS pointer, not an image/);
    expect(build.all).toContain('git lfs pull');
    expect(build.all).not.toContain('NoImageMetadata');
    // status says it too, and does not count them as generated.
    const status = await runCli(root, ['status'], { ...env, CI: '1' });
    expect(status.exitCode).toBe(3);
    expect(status.stdout).toMatch(/Not fetched: src\/assets\/generated\/[a-z]+-[0-9a-f]{12}\.png is a Git LFS pointer.*git lfs pull/);
    expect(status.stdout).not.toContain('cut short');
  });

  it('a ComfyUI that fails to start is reported with its log, and the hint does not ask for a start command that is set', async () => {
    const site = await copyFixture('blog');
    cleanups.push(site.cleanup);
    const url = `http://127.0.0.1:${await findFreePort()}`;
    const result = await runCli(site.root, ['generate'], {
      COMFYUI_URL: url,
      ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ start: fakeStartCommand({ FAKE_COMFYUI_FAIL_START: '1' }) }),
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('exited with code 1 while starting');
    expect(result.stderr).toContain("ModuleNotFoundError: No module named 'torch'");
    expect(result.stderr).toContain('ComfyUI could not be started: the reason and its log are above.');
    expect(result.stderr).not.toContain('set start: { cwd }');
  });

  it('a failed image says how many others were kept, and none when none were', async () => {
    const { fake, root, env } = await setupBlogWithFake(cleanups);
    fake.faults.failNode('KSampler', 'CUDA out of memory', 'torch.OutOfMemoryError');
    const result = await runCli(root, ['generate'], env);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain('4 of 4 images could not be generated');
    expect(result.stderr).toContain('No image was generated; fix the cause above and build again.');
    expect(result.stderr).not.toContain('were generated and kept');
    expect((await readdir(path.join(root, 'src/assets/generated')).catch(() => [])).filter((f) => f.endsWith('.png'))).toEqual([]);
  });
});
