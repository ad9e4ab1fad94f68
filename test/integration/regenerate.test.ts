import { chmod, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseFrontmatter } from 'astro/markdown';
import { buildSd35Workflow } from '../../packages/comfyui/src/index.js';
import { describe, expect, it } from 'vitest';
import { startFakeComfyUI } from '../fake-comfyui/fake-comfyui.js';
import { useCleanups } from '../helpers/cleanups.js';
import { replaceOnce, runAstro, runCli, setupBlogWithFake } from '../helpers/fixture-site.js';

const cleanups = useCleanups();
const manifestOf = async (root: string) =>
  JSON.parse(await readFile(path.join(root, 'src/assets/generated/images.lock.json'), 'utf8')).images as Record<
    string,
    { file: string; seed: number; posts: string[] }
  >;

/** The blog with every image generated, then its harbour post's prompt given `regenerate: true`. */
async function harbourAskingToRegenerate() {
  const { fake, root, env } = await setupBlogWithFake(cleanups);
  expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
  const post = path.join(root, 'src/content/blog/harbour.md');
  const text = replaceOnce(await readFile(post, 'utf8'), /^image: (.*)$/m, 'image: { prompt: $1, regenerate: true }', post);
  await writeFile(post, text);
  return { fake, root, env, post, text };
}

describe('what --force and regenerate: true promise, against a ComfyUI that caches', () => {
  it('--force runs every node again on ComfyUI (no answer from its cache) and keeps the seeds', async () => {
    const { fake, root, env } = await setupBlogWithFake(cleanups);
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    const before = await manifestOf(root);
    const { samplerRuns, nodesExecuted } = fake.stats;
    const forced = await runCli(root, ['generate', '--force'], env);
    expect(forced.exitCode, String(forced.all)).toBe(0);
    // 4 images, each its whole graph (the fixture uses the default Large Turbo graph), loaders included,
    // so a model file replaced under the same name is read again.
    const graphSize = Object.keys(buildSd35Workflow({ prompt: 'x', width: 128, height: 128, seed: 1 }).workflow).length;
    expect(fake.stats.samplerRuns - samplerRuns).toBe(4);
    expect(fake.stats.nodesExecuted - nodesExecuted).toBe(4 * graphSize);
    const after = await manifestOf(root);
    expect(Object.keys(after)).toEqual(Object.keys(before));
    expect(Object.values(after).map((e) => e.seed)).toEqual(Object.values(before).map((e) => e.seed));
  });

  it('regenerate: true makes a new image with a new seed and records that seed in the post, so later builds keep it', async () => {
    const { fake, root, env } = await setupBlogWithFake(cleanups);
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    const post = path.join(root, 'src/content/blog/harbour.md');
    const text = await readFile(post, 'utf8');
    const { image } = parseFrontmatter(text).frontmatter as { image: string | { prompt: string } };
    const prompt = typeof image === 'string' ? image : image.prompt;
    const oldKeys = Object.entries(await manifestOf(root))
      .filter(([, e]) => e.posts.includes('src/content/blog/harbour.md'))
      .map(([k]) => k);
    await writeFile(
      post,
      replaceOnce(text, /^image:.*(\n[ \t]+.*)*$/m, `image: { prompt: ${JSON.stringify(prompt)}, alt: "The harbour", regenerate: true }`, post),
    );

    const runs = fake.stats.samplerRuns;
    const result = await runCli(root, ['generate'], env);
    expect(result.exitCode, String(result.all)).toBe(0);
    expect(fake.stats.samplerRuns - runs).toBe(1);
    const written = parseFrontmatter(await readFile(post, 'utf8')).frontmatter as { title: string; image: Record<string, unknown> };
    expect(written.title).toBeTruthy();
    expect(written.image).toEqual({ prompt, alt: 'The harbour', seed: expect.any(Number) });
    expect(result.all).toContain(`recorded seed ${written.image.seed} in place of regenerate: true`);
    const entry = Object.entries(await manifestOf(root)).find(([k, e]) => e.posts.includes('src/content/blog/harbour.md') && !oldKeys.includes(k));
    expect(entry?.[1].seed).toBe(written.image.seed);

    // The next run finds that image: nothing is generated again.
    const again = await runCli(root, ['generate'], env);
    expect(again.exitCode).toBe(0);
    expect(fake.stats.samplerRuns - runs).toBe(1);
  });

  it('regenerate: true in a list item records the seed in that item, and the other items keep their bytes', async () => {
    const { fake, root, env } = await setupBlogWithFake(cleanups);
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    const post = path.join(root, 'src/content/blog/gallery.md');
    const text = await readFile(post, 'utf8');
    const owl = '  - prompt: "an owl on a branch"\n    format: square\n    alt: An owl\n';
    await writeFile(post, replaceOnce(text, owl, '  - { prompt: "an owl on a branch", format: square, alt: An owl, regenerate: true }\n', post));

    const runs = fake.stats.samplerRuns;
    const result = await runCli(root, ['generate'], env);
    expect(result.exitCode, String(result.all)).toBe(0);
    expect(fake.stats.samplerRuns - runs).toBe(1);
    const after = await readFile(post, 'utf8');
    const { images } = parseFrontmatter(after).frontmatter as { images: Array<Record<string, unknown>> };
    expect(images[1]).toEqual({ prompt: 'an owl on a branch', format: 'square', alt: 'An owl', seed: expect.any(Number) });
    expect(result.all).toContain(`images[1]: recorded seed ${images[1]!.seed} in place of regenerate: true`);
    expect(after.replace(/^ {2}- \{ prompt: "an owl.*\n/m, '')).toBe(text.replace(owl, ''));
    expect(Object.keys(parseFrontmatter(after).frontmatter)).not.toContain('image');
  });

  it('regenerate: true in a read-only post keeps the new image, leaves the post as it was and says which seed to write', async () => {
    const { fake, root, env, post, text } = await harbourAskingToRegenerate();
    await chmod(post, 0o444);

    const runs = fake.stats.samplerRuns;
    const result = await runCli(root, ['generate'], env);
    expect(result.exitCode, String(result.all)).toBe(0);
    expect(fake.stats.samplerRuns - runs).toBe(1);
    expect(await readFile(post, 'utf8')).toBe(text);
    const seed = Number(/image was regenerated with seed (\d+), but the post could not be updated/.exec(String(result.all))?.[1]);
    expect(String(result.all)).toContain('it is read-only (mode 444); make it writable (chmod u+w) first');
    expect(String(result.all)).toContain(`write seed: ${seed} there and remove regenerate: true to keep this image`);
    const made = Object.values(await manifestOf(root)).filter((e) => e.posts.includes('src/content/blog/harbour.md') && e.seed === seed);
    expect(made).toHaveLength(1);

    // The advice, followed: the image just made is the post's, and nothing is generated again.
    await chmod(post, 0o644);
    await writeFile(post, replaceOnce(text, 'regenerate: true', `seed: ${seed}`, post));
    const again = await runCli(root, ['generate'], env);
    expect(again.exitCode, String(again.all)).toBe(0);
    expect(fake.stats.samplerRuns - runs).toBe(1);
  });

  it.each(['placeholder', 'error'])(
    'regenerate: true waits while no ComfyUI answers: the post keeps its image, no file is left behind (onMissing: %s)',
    async (onMissing) => {
      const { fake, root, env, post, text } = await harbourAskingToRegenerate();
      const folder = path.join(root, 'src/assets/generated');
      const files = await readdir(folder);
      const lock = await readFile(path.join(folder, 'images.lock.json'), 'utf8');
      const page = async () => /<img[^>]+data-placeholder="(\w+)"[^>]*>/.exec(await readFile(path.join(root, 'dist/harbour/index.html'), 'utf8'))?.[0];
      const down = { COMFYUI_URL: 'http://127.0.0.1:9', ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ onMissing }) };
      expect((await runAstro(root, ['build'], { ...env, CI: '1' })).exitCode).toBe(0);
      const shown = await page();
      expect(shown).toContain('data-placeholder="false"');
      // Twice: each run used to leave a placeholder under a new random seed, shown in place of the real image.
      for (let i = 0; i < 2; i++) {
        const build = await runAstro(root, ['build'], down);
        expect(build.exitCode, String(build.all)).toBe(0);
        expect(build.all).toContain(
          'regenerate: true waits, as no ComfyUI answers: src/content/blog/harbour.md › image keeps the image it has until a ComfyUI can make a new one.\n- http://127.0.0.1:9: ComfyUI is not reachable',
        );
        expect(build.all).not.toContain('PLACEHOLDER');
        expect(await page()).toBe(shown);
        expect(await readdir(folder)).toEqual(files);
        expect(await readFile(path.join(folder, 'images.lock.json'), 'utf8')).toBe(lock);
        expect(await readFile(post, 'utf8')).toBe(text);
      }
      // A ComfyUI without the checkpoint: the same, and what it lacks is said.
      const lacking = await startFakeComfyUI({ models: { checkpoints: [] } });
      cleanups.push(() => lacking.close());
      const withoutModel = await runAstro(root, ['build'], { ...down, COMFYUI_URL: lacking.url });
      expect(withoutModel.exitCode, String(withoutModel.all)).toBe(0);
      expect(withoutModel.all).toContain(
        'regenerate: true waits, as no ComfyUI has what the images need: src/content/blog/harbour.md › image keeps the image it has',
      );
      expect(withoutModel.all).toContain('sd3.5_large_turbo.safetensors is missing: put it in ComfyUI/models/checkpoints/');
      expect(await readdir(folder)).toEqual(files);
      expect(lacking.stats.promptsQueued).toBe(0);
      // `generate` was asked for the new image: it fails.
      const generate = await runCli(root, ['generate'], down);
      expect(generate.exitCode).toBe(1);
      expect(await readdir(folder)).toEqual(files);
      // With a ComfyUI, the new image is made and its seed recorded.
      const queued = fake.stats.promptsQueued;
      const made = await runAstro(root, ['build'], env);
      expect(made.exitCode, String(made.all)).toBe(0);
      expect(fake.stats.promptsQueued).toBe(queued + 1);
      expect(await readFile(post, 'utf8')).not.toContain('regenerate: true');
      expect(await page()).not.toBe(shown);
    },
  );

  it('regenerate: true is ignored, with a warning, in CI', async () => {
    const { fake, root, env, post, text } = await harbourAskingToRegenerate();
    const queued = fake.stats.promptsQueued;
    const build = await runAstro(root, ['build'], { ...env, CI: '1' });
    expect(build.exitCode, String(build.all)).toBe(0);
    expect(build.all).toContain('regenerate: true is ignored in frozen mode (CI) for src/content/blog/harbour.md › image');
    expect(fake.stats.promptsQueued).toBe(queued);
    expect(await readFile(post, 'utf8')).toBe(text);
  });
});
