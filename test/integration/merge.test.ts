import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { findFreePort } from '../helpers/find-free-port.js';
import { runAstro, runCli, setupBlogWithFake, startAstroDev, waitUntil } from '../helpers/fixture-site.js';

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
    const shown = (route: string) =>
      waitUntil(() => imageOf(route), 30_000, `the image of ${route}`).catch((error: Error) => {
        throw new Error(`${error.message}\n${dev.output.join('')}`);
      });
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
