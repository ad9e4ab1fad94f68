import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { fakeStartCommand } from '../helpers/fake-launcher.js';
import { copyFixture, runCli, setupBlogWithFake } from '../helpers/fixture-site.js';
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
