import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { findFreePort } from '../helpers/find-free-port.js';
import { runAstro, runCli, setupBlogWithFake, startAstroDev } from '../helpers/fixture-site.js';

const cleanups = useCleanups();
const manifestPath = 'src/assets/generated/images.lock.json';

/**
 * A site in a real git repository: images generated and committed on main, then two branches that
 * each add three posts and generate their images, then `git merge` of one into the other, which
 * conflicts in images.lock.json as it does for every author.
 */
async function mergeTwoBranches() {
  const { fake, root, env } = await setupBlogWithFake(cleanups);
  const git = (...args: string[]) =>
    execa('git', ['-c', 'user.name=Author', '-c', 'user.email=author@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd: root, reject: false });
  const generate = async () => expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
  const addPosts = async (prefix: string) => {
    for (let i = 1; i <= 3; i++) {
      await writeFile(path.join(root, `src/content/blog/${prefix}${i}.md`), `---\ntitle: ${prefix} ${i}\nimage: "a ${prefix} kite number ${i}"\n---\n`);
    }
  };
  await writeFile(path.join(root, '.gitignore'), 'node_modules/\n.astro/\ndist/\n');
  await git('init');
  await generate();
  await git('add', '-A');
  await git('commit', '-m', 'base');
  await git('checkout', '-b', 'left');
  await addPosts('left');
  await generate();
  await git('add', '-A');
  await git('commit', '-m', 'left posts');
  await git('checkout', '-b', 'right', 'main');
  await addPosts('right');
  await generate();
  await git('add', '-A');
  await git('commit', '-m', 'right posts');
  await git('checkout', 'left');
  const merge = await git('merge', 'right', '-m', 'merge right');
  expect(merge.exitCode).not.toBe(0);
  expect(await readFile(path.join(root, manifestPath), 'utf8')).toMatch(/^<<<<<<< /m);
  return { fake, root, env, git, generated: fake.stats.promptsQueued };
}

const keysOf = async (root: string) => Object.keys(JSON.parse(await readFile(path.join(root, manifestPath), 'utf8')).images);
const pngsOf = async (root: string) => (await readdir(path.join(root, 'src/assets/generated'))).filter((f) => f.endsWith('.png')).sort();

describe("two authors' branches", () => {
  it('a conflicted manifest is explained in CI and merged by the next run outside CI, without generating again', async () => {
    const { fake, root, env, generated } = await mergeTwoBranches();
    expect(generated).toBe(10);

    const ci = await runCli(root, ['status'], { ...env, CI: '1' });
    expect(ci.exitCode).toBe(1);
    expect(ci.stderr).toContain('images.lock.json has unresolved git merge conflicts');
    expect(ci.stderr).toContain('outside CI: it merges both sides by itself');

    const local = await runCli(root, ['generate'], env);
    expect(local.exitCode, String(local.all)).toBe(0);
    expect(local.all).toContain('Merged the git conflict in src/assets/generated/images.lock.json');
    expect(fake.stats.promptsQueued).toBe(generated);
    expect(await keysOf(root)).toHaveLength(10);
    expect(await readFile(path.join(root, manifestPath), 'utf8')).not.toMatch(/^[<=>]{7}/m);
    expect((await runCli(root, ['status'], { ...env, CI: '1' })).exitCode).toBe(0);
  });

  it('astro dev merges a conflicted manifest too, and its pages show the images of both sides without generating again', async () => {
    const { fake, root, env, generated } = await mergeTwoBranches();
    const dev = await startAstroDev(root, await findFreePort(), env);
    cleanups.push(() => dev.stop());
    const imageOf = async (route: string) => {
      const html = await (await fetch(`${dev.url}${route}`)).text();
      return /<img[^>]+src="([^"]+)"/.exec(html)?.[1];
    };
    const shown = (route: string) => dev.until(() => imageOf(route), 30_000, `the image of ${route}`);
    await shown('/left1/');
    await shown('/right3/');
    expect(dev.output.join('')).toContain('Merged the git conflict in src/assets/generated/images.lock.json');
    expect(await readFile(path.join(root, manifestPath), 'utf8')).not.toMatch(/^[<=>]{7}/m);
    expect(await keysOf(root)).toHaveLength(10);
    expect(fake.stats.promptsQueued).toBe(generated);
  });

  it("after taking one side (--theirs), a CI build re-adopts the other side's images from their files and prune deletes none of them", async () => {
    const { fake, root, env, git, generated } = await mergeTwoBranches();
    await git('checkout', '--theirs', manifestPath);
    await git('add', '-A');
    await git('commit', '-m', 'merge right, manifest from right');
    expect(await keysOf(root)).toHaveLength(7);
    const files = await pngsOf(root);
    expect(files).toHaveLength(10);

    const status = await runCli(root, ['status'], { ...env, CI: '1' });
    expect(status.exitCode, String(status.all)).toBe(0);
    expect(status.stdout).toContain('Re-adoptable (their manifest entries are missing; the next build or generate restores them): 3');

    const build = await runAstro(root, ['build'], { ...env, CI: '1' });
    expect(build.exitCode, String(build.all)).toBe(0);
    expect(build.all).toMatch(/Re-adopted 3 images whose entries were missing from src\/assets\/generated\/images\.lock\.json.*left1-/);
    expect(await keysOf(root)).toHaveLength(10);

    const pruned = await runCli(root, ['prune'], env);
    expect(pruned.exitCode, String(pruned.all)).toBe(0);
    expect(pruned.stdout).toContain('Nothing to prune');
    expect(await pngsOf(root)).toEqual(files);
    expect(fake.stats.promptsQueued).toBe(generated);
  });

  it('an image both branches made: the manifest follows the file git kept, a kept placeholder says how to take the real one, and taking it generates nothing', async () => {
    const { fake, root, env } = await setupBlogWithFake(cleanups);
    const git = (...args: string[]) =>
      execa('git', ['-c', 'user.name=Author', '-c', 'user.email=author@example.com', '-c', 'init.defaultBranch=main', ...args], { cwd: root, reject: false });
    const commit = async (message: string) => {
      await git('add', '-A');
      expect((await git('commit', '-m', message)).exitCode).toBe(0);
    };
    // One author's laptop has no ComfyUI: the same post gets a placeholder there and a real image on the GPU box.
    const offline = { COMFYUI_URL: `http://127.0.0.1:${await findFreePort()}`, ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ onMissing: 'placeholder' }) };
    const writeKite = () => writeFile(path.join(root, 'src/content/blog/kite.md'), '---\ntitle: Kite\nimage: "a red kite over the dunes"\n---\n');
    const kiteEntry = async () =>
      Object.values(JSON.parse(await readFile(path.join(root, manifestPath), 'utf8')).images as Record<string, { file: string; placeholder: boolean }>).find(
        (e) => e.file.startsWith('kite-'),
      );
    await writeFile(path.join(root, '.gitignore'), 'node_modules/\n.astro/\ndist/\n');
    await git('init');
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    await commit('base');
    await git('checkout', '-b', 'laptop');
    await writeKite();
    // The laptop builds the site, with the placeholder (`generate` never writes one).
    const laptop = await runAstro(root, ['build'], { ...env, ...offline });
    expect(laptop.exitCode, String(laptop.all)).toBe(0);
    expect(await kiteEntry()).toMatchObject({ placeholder: true });
    await commit('kite, placeholder');
    await git('checkout', '-b', 'gpu', 'main');
    await writeKite();
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    await commit('kite, real');
    await git('checkout', 'laptop');
    expect((await git('merge', 'gpu', '-m', 'merge gpu')).exitCode).not.toBe(0);
    const kite = (await pngsOf(root)).find((f) => f.startsWith('kite-'))!;
    expect((await git('status', '--porcelain')).stdout).toContain(`AA src/assets/generated/${kite}`);

    // Still offline: the manifest is merged and says the kite in place is the placeholder it is.
    const merged = await runAstro(root, ['build'], { ...env, ...offline });
    expect(merged.exitCode, String(merged.all)).toBe(0);
    expect(merged.all).toContain('Both sides made an image under the same name');
    expect(merged.all).toContain(`- ${kite}`);
    expect(merged.all).toContain(`git checkout --theirs -- src/assets/generated/${kite}`);
    expect(merged.all).toContain('git add src/assets/generated');
    expect(await kiteEntry()).toMatchObject({ placeholder: true });

    // The author takes the real image, as told, and commits: the next run records it without making it again.
    await git('checkout', '--theirs', '--', `src/assets/generated/${kite}`);
    await commit('merge gpu');
    const queued = fake.stats.promptsQueued;
    const status = await runCli(root, ['status'], env);
    expect(status.stdout).toContain('Real images listed as placeholders (the next build or generate records them as real): 1');
    const after = await runCli(root, ['generate'], env);
    expect(after.exitCode, String(after.all)).toBe(0);
    expect(after.all).toContain(`1 image that src/assets/generated/images.lock.json listed as placeholders is real now`);
    expect(fake.stats.promptsQueued).toBe(queued);
    expect(await kiteEntry()).toMatchObject({ placeholder: false });
  });

  it('prune never deletes a file named for an image a post uses, even when nothing can re-adopt it', async () => {
    const { root, env } = await setupBlogWithFake(cleanups);
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    const files = await pngsOf(root);
    // A file without any metadata (e.g. re-encoded by an image tool) and no manifest at all.
    await writeFile(path.join(root, manifestPath), JSON.stringify({ version: 1, images: {} }));
    const { default: sharp } = await import('sharp');
    for (const file of files) {
      const full = path.join(root, 'src/assets/generated', file);
      await writeFile(
        full,
        await sharp(await readFile(full))
          .png()
          .toBuffer(),
      );
    }
    const pruned = await runCli(root, ['prune'], env);
    expect(pruned.exitCode, String(pruned.all)).toBe(0);
    expect(pruned.stdout).toContain('Nothing to prune');
    expect(await pngsOf(root)).toEqual(files);
  });
});
