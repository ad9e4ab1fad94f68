import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { readPngInfo } from '../fake-comfyui/encode-png.js';
import type { FakeComfyUI } from '../fake-comfyui/fake-comfyui.js';
import { fixtureImageService, replaceInFile, runAstro, runCli, setupBlogWithFake, useMdx, waitForOutput, waitUntil } from '../helpers/fixture-site.js';
import { waitForEvent } from '../helpers/wait-for-event.js';

const cleanups = useCleanups();

const setup = () => setupBlogWithFake(cleanups);

const generated = (root: string) => path.join(root, 'src/assets/generated');
const readManifest = async (root: string) => JSON.parse(await readFile(path.join(generated(root), 'images.lock.json'), 'utf8'));
const build = (root: string, fake: FakeComfyUI | undefined, env: Record<string, string> = {}) =>
  runAstro(root, ['build'], { COMFYUI_URL: fake?.url ?? 'http://127.0.0.1:9', ...env });

/** Makes the fixture's images with the CLI, for tests whose subject starts from committed images. */
async function generateWithCli(root: string, fake: FakeComfyUI): Promise<void> {
  const made = await runCli(root, ['generate'], { COMFYUI_URL: fake.url });
  expect(made.exitCode, String(made.all)).toBe(0);
}

/** Makes the fixture an on-demand site (output: server, @astrojs/node) whose post pages are rendered per request. */
async function makeOnDemand(root: string): Promise<void> {
  const config = path.join(root, 'astro.config.mjs');
  await replaceInFile(config, "import comfyui from 'astro-comfyui';", "import comfyui from 'astro-comfyui';\nimport node from '@astrojs/node';");
  await replaceInFile(config, 'export default defineConfig({', `export default defineConfig({\n  output: 'server',\n  adapter: node({ mode: 'standalone' }),`);
  // Rendered per request: the post comes from the URL, not from getStaticPaths.
  await writeFile(
    path.join(root, 'src/pages/[...slug].astro'),
    `---
import { getEntry } from 'astro:content';
import { Picture } from 'astro:assets';
import { getPostImage } from 'astro-comfyui/images';
const post = await getEntry('blog', Astro.params.slug ?? '');
if (!post) return new Response('No such post', { status: 404 });
const image = getPostImage(post);
---
<html><body><h1>{post.data.title}</h1>{image && <Picture src={image.src} alt={image.alt} formats={['avif', 'webp']} />}</body></html>
`,
  );
}

/** Starts the built on-demand site's server; its URL. */
async function startServer(root: string): Promise<string> {
  const server = execa(process.execPath, [path.join(root, 'dist/server/entry.mjs')], { env: { HOST: '127.0.0.1', PORT: '0' }, all: true, reject: false });
  cleanups.push(async () => {
    server.kill();
    await server;
  });
  let output = '';
  server.all!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return waitUntil(async () => /Server listening on (http:\/\/\S+)/.exec(output)?.[1], 30_000, 'the server');
}

/** The /_image URL of the lighthouse's AVIF in an on-demand page. */
const onDemandAvif = (html: string) =>
  /<source srcset="(\/_image\?href=%2F_astro%2Flighthouse-[0-9a-f]{12}\.[^"]+&amp;f=avif)"/.exec(html)?.[1]?.replaceAll('&amp;', '&');

describe('astro build with astro-comfyui', () => {
  it('generates each post image once, optimises it to avif/webp, and regenerates only what changed', async () => {
    const { fake, root } = await setup();
    const first = await build(root, fake);
    expect(first.exitCode, String(first.all)).toBe(0);
    expect(first.all).toContain('Generating 4 images with ComfyUI');
    expect(fake.stats.promptsQueued).toBe(4);

    const html = await readFile(path.join(root, 'dist/lighthouse/index.html'), 'utf8');
    expect(html).toMatch(/<source srcset="\/_astro\/lighthouse-[0-9a-f]{12}\.[\w-]+\.avif" type="image\/avif">/);
    expect(html).toMatch(/<source srcset="\/_astro\/lighthouse-[0-9a-f]{12}\.[\w-]+\.webp" type="image\/webp">/);
    expect(html).toContain('alt="A lighthouse at dusk"');
    const gallery = await readFile(path.join(root, 'dist/gallery/index.html'), 'utf8');
    expect(gallery.match(/<picture>/g)).toHaveLength(2);
    const assets = await readdir(path.join(root, 'dist/_astro'));
    expect(assets.filter((f) => f.endsWith('.avif'))).toHaveLength(4);
    expect(assets.filter((f) => f.endsWith('.webp'))).toHaveLength(4);

    const manifest = await readManifest(root);
    const entries = Object.values(manifest.images) as Array<{ file: string; prompt: string; placeholder: boolean; width: number; height: number }>;
    expect(entries).toHaveLength(4);
    const lighthouse = entries.find((e) => e.file.startsWith('lighthouse-'))!;
    expect(lighthouse).toMatchObject({ prompt: 'a watercolor painting of a lighthouse at dusk', placeholder: false, width: 256, height: 144 });
    const png = readPngInfo(await readFile(path.join(generated(root), lighthouse.file)));
    expect([png.width, png.height]).toEqual([256, 144]);

    const second = await build(root, fake);
    expect(second.exitCode, String(second.all)).toBe(0);
    expect(fake.stats.promptsQueued).toBe(4);
    expect(second.all).toContain('4 images: 4 committed, 0 generated');

    const post = path.join(root, 'src/content/blog/harbour.md');
    await replaceInFile(post, 'fishing boats', 'sailing boats');
    const third = await build(root, fake);
    expect(third.exitCode, String(third.all)).toBe(0);
    expect(fake.stats.promptsQueued).toBe(5);
    expect(third.all).toContain('4 images: 3 committed, 1 generated');
    // The old harbour image stays committed and is listed, never deleted silently.
    expect(third.all).toContain('1 generated image is no longer used by any post');
    expect(Object.keys((await readManifest(root)).images)).toHaveLength(5);
  });

  it("finds the posts and commits the images in the site's own srcDir, with COMFYUI_URL from its .env file; the CLI agrees", async () => {
    const { fake, root } = await setup();
    await rename(path.join(root, 'src'), path.join(root, 'website'));
    const config = path.join(root, 'astro.config.mjs');
    await replaceInFile(config, 'export default defineConfig({', "export default defineConfig({\n  srcDir: './website',");
    const loader = path.join(root, 'website/content.config.ts');
    await replaceInFile(loader, "base: './src/content/blog'", "base: './website/content/blog'");
    // Astro itself fills process.env from .env only after the images are made.
    await writeFile(path.join(root, '.env'), `COMFYUI_URL=${fake.url}\n`);
    const built = await runAstro(root, ['build'], { COMFYUI_URL: undefined });
    expect(built.exitCode, String(built.all)).toBe(0);
    expect(built.all).toContain('4 images: 0 committed, 4 generated');
    expect(fake.stats.promptsQueued).toBe(4);
    expect(await readFile(path.join(root, 'dist/lighthouse/index.html'), 'utf8')).toMatch(/<source srcset="\/_astro\/lighthouse-[0-9a-f]{12}\.[\w-]+\.avif"/);
    expect(await readdir(path.join(root, 'website/assets/generated'))).toContain('images.lock.json');
    expect(await readdir(root)).not.toContain('src');
    const status = await runCli(root, ['status'], { CI: '1' });
    expect(status.exitCode, String(status.all)).toBe(0);
    expect(status.stdout).toContain('images: 4 (4 generated, 0 placeholders, 0 missing)');
  });

  it("on Ctrl-C takes its waiting jobs back from ComfyUI's queue, records the images it made and fails the build", async () => {
    const { fake, root } = await setupBlogWithFake(cleanups, { stepDelayMs: 300 });
    const run = build(root, fake);
    await waitForOutput(run, /\[1\/4\][^\n]*→/, 'the first image');
    run.kill('SIGINT');
    const stopped = await run;
    expect(stopped.exitCode, String(stopped.all)).toBe(1);
    expect(stopped.all).toContain('Stopped before every image was made: 1 of 4 generated and kept.');
    expect(Object.keys((await readManifest(root)).images)).toHaveLength(1);
    const queue = (await (await fetch(`${fake.url}/queue`)).json()) as { queue_pending: unknown[] };
    expect(queue.queue_pending).toEqual([]);
  });

  it('in CI (frozen) fails on a missing image without contacting ComfyUI, or builds with marked placeholders', async () => {
    const { fake, root } = await setup();
    const frozen = await build(root, fake, { CI: '1' });
    expect(frozen.exitCode).not.toBe(0);
    expect(frozen.all).toContain('4 images are not generated yet and frozen mode (CI) never contacts ComfyUI');
    expect(frozen.all).toContain('src/content/blog/lighthouse.md › image: "a lighthouse at dusk"');
    expect(frozen.all).toContain('npx astro-comfyui generate');
    expect(fake.stats.httpRequests).toBe(0);

    const placeholders = await build(root, fake, { CI: '1', ASTRO_COMFYUI_TEST_OPTIONS: '{"onMissing":"placeholder"}' });
    expect(placeholders.exitCode, String(placeholders.all)).toBe(0);
    expect(placeholders.all).toContain('PLACEHOLDER IMAGES: 4 image(s)');
    // A build makes nothing later by itself: the next build with ComfyUI does.
    expect(placeholders.all).toContain('replaced by real images on the next build with ComfyUI.');
    expect(fake.stats.httpRequests).toBe(0);
    const manifest = await readManifest(root);
    expect(Object.values(manifest.images).every((e) => (e as { placeholder: boolean }).placeholder)).toBe(true);
    const placeholderPage = await readFile(path.join(root, 'dist/harbour/index.html'), 'utf8');
    expect(placeholderPage).toContain('data-placeholder="true"');
    // Read aloud, it is a placeholder too: its alt does not describe a picture that is not there.
    expect(placeholderPage).toContain('alt="Placeholder, not generated yet: a small harbour with fishing boats"');
    expect(await readFile(path.join(root, 'dist/lighthouse/index.html'), 'utf8')).toContain('alt="Placeholder, not generated yet: A lighthouse at dusk"');
    // Committed placeholders are never counted as real images.
    const again = await build(root, fake, { CI: '1', ASTRO_COMFYUI_TEST_OPTIONS: '{"onMissing":"placeholder"}' });
    expect(again.exitCode, String(again.all)).toBe(0);
    expect(again.all).toContain('4 images: 0 committed, 0 generated, 4 PLACEHOLDERS');

    // With ComfyUI available again, the placeholders are replaced by real images.
    const real = await build(root, fake);
    expect(real.exitCode, String(real.all)).toBe(0);
    expect(fake.stats.promptsQueued).toBe(4);
    const after = await readManifest(root);
    expect(Object.values(after.images).some((e) => (e as { placeholder: boolean }).placeholder)).toBe(false);
    expect(await readFile(path.join(root, 'dist/lighthouse/index.html'), 'utf8')).toContain('alt="A lighthouse at dusk"');
  });

  it('mode "force" with no ComfyUI keeps the committed images: a placeholder never replaces a real one', async () => {
    const { fake, root } = await setup();
    await generateWithCli(root, fake);
    const pngs = async () =>
      Object.fromEntries(
        await Promise.all(
          (await readdir(generated(root))).filter((f) => f.endsWith('.png')).map(async (f) => [f, await readFile(path.join(generated(root), f))] as const),
        ),
      );
    const committed = await pngs();
    const lock = await readFile(path.join(generated(root), 'images.lock.json'), 'utf8');
    const force = (onMissing: string) => ({ ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ mode: 'force', onMissing }) });

    const failed = await build(root, undefined, force('error'));
    expect(failed.exitCode).toBe(1);
    expect(failed.all).toContain('4 images are to be made again (mode "force") and no ComfyUI answers');

    const kept = await build(root, undefined, force('placeholder'));
    expect(kept.exitCode, String(kept.all)).toBe(0);
    expect(kept.all).toContain('No image was made again, because no ComfyUI answers');
    expect(kept.all).toContain('4 committed images stay as they are: mode "force" was to make them again.');
    expect(kept.all).toContain('4 images: 4 committed, 0 generated.');
    expect(kept.all).not.toContain('PLACEHOLDER');
    expect(await pngs()).toEqual(committed);
    expect(await readFile(path.join(generated(root), 'images.lock.json'), 'utf8')).toBe(lock);
    expect(await readFile(path.join(root, 'dist/harbour/index.html'), 'utf8')).toContain('data-placeholder="false"');

    // A new post's image, which has no file yet, is the only placeholder.
    await writeFile(path.join(root, 'src/content/blog/kite.md'), '---\ntitle: Kite\nimage: "a red kite over the dunes"\n---\n');
    const mixed = await build(root, undefined, force('placeholder'));
    expect(mixed.exitCode, String(mixed.all)).toBe(0);
    expect(mixed.all).toContain('PLACEHOLDER IMAGES: 1 image(s) are placeholders because no ComfyUI answers');
    expect(mixed.all).toContain('4 committed images stay as they are: mode "force" was to make them again.');
    expect(mixed.all).toContain('5 images: 4 committed, 0 generated, 1 PLACEHOLDER.');
    const now = await pngs();
    for (const [file, bytes] of Object.entries(committed)) expect(now[file]).toEqual(bytes);
    expect(Object.keys(now).filter((f) => f.startsWith('kite-'))).toHaveLength(1);
  });

  it('in CI names a committed image whose file is missing, and one cut short, in the build, status and dry-run', async () => {
    const { fake, root } = await setup();
    await generateWithCli(root, fake);

    // The commonest CI failure: the manifest was committed, an image file was not (a .gitignore rule, a
    // `git add` of the manifest alone). CI says so, instead of only "generate them".
    const harbour = (await readdir(path.join(root, 'src/assets/generated'))).find((f) => f.startsWith('harbour-'))!;
    await rm(path.join(root, 'src/assets/generated', harbour));
    const forgotten = await build(root, fake, { CI: '1' });
    expect(forgotten.exitCode).not.toBe(0);
    expect(forgotten.all).toContain(
      'src/content/blog/harbour.md › image: "a small harbour with fishing boats" (images.lock.json lists it, but its file is not there: not committed, or deleted?)',
    );
    expect(forgotten.all).toContain(
      '1 image is listed in images.lock.json without its file: commit the files where they were made (git add src/assets/generated); git check-ignore -v <file> shows a .gitignore rule that leaves them out.',
    );
    expect(forgotten.all).not.toContain('For the others');
    const status = await runCli(root, ['status'], { COMFYUI_URL: fake.url, CI: '1' });
    expect(status.stdout).toContain(`missing: src/content/blog/harbour.md › image → ${harbour} (images.lock.json lists it, but its file is not there`);
    expect(status.stdout).toContain('1 image is listed in images.lock.json without its file');
    const dry = await runCli(root, ['generate', '--dry-run'], { COMFYUI_URL: fake.url });
    expect(dry.stdout).toContain(`src/content/blog/harbour.md › image → ${harbour} (images.lock.json lists it, but its file is not there`);

    // A committed image cut short (a copy or a merge tool): the build names it instead of an /_astro/ hash.
    const lighthouse = (await readdir(path.join(root, 'src/assets/generated'))).find((f) => f.startsWith('lighthouse-'))!;
    const whole = await readFile(path.join(root, 'src/assets/generated', lighthouse));
    await writeFile(path.join(root, 'src/assets/generated', lighthouse), whole.subarray(0, whole.length - 200));
    const damaged = await build(root, fake, { CI: '1', ASTRO_COMFYUI_TEST_OPTIONS: '{"onMissing":"placeholder"}' });
    expect(damaged.exitCode).not.toBe(0);
    expect(damaged.all).toContain(`The generated image ${lighthouse} is cut short: it ends before its last PNG chunk`);
    expect(damaged.all).toContain(`Restore it from git (git checkout -- '*/${lighthouse}'), or delete it to have it made again where ComfyUI runs`);
    // status lists it too, and says the site is not ready.
    const cutStatus = await runCli(root, ['status'], { COMFYUI_URL: fake.url, CI: '1' });
    expect(cutStatus.exitCode).toBe(3);
    expect(cutStatus.stdout).toContain(
      `cut short: src/content/blog/lighthouse.md › image → ${lighthouse} (a copy or a merge tool stopped midway: git checkout -- '*/${lighthouse}')`,
    );
    expect(String(cutStatus.stdout).match(/cut short:/g)).toHaveLength(1);
  });

  it('says once, naming a post and the fix, when the posts a page shows are outside the content globs; with them added, their images are made', async () => {
    const { fake, root } = await setup();
    // Astro's loaders read posts from any folder; the integration reads the `content` globs.
    await rename(path.join(root, 'src/content/blog'), path.join(root, 'src/data'));
    const config = path.join(root, 'src/content.config.ts');
    await replaceInFile(config, "base: './src/content/blog'", "base: './src/data'");

    const unread = await build(root, fake);
    expect(unread.exitCode, String(unread.all)).toBe(0);
    const warning =
      /astro-comfyui: getPostImage\(\) was given src\/data\/\w+\.md, which the "content" option \(src\/content\/\*\*\/\*\.\{md,mdx\}\) does not match, so its image prompts are never read\. If it has some, add a glob that matches it \(its folder, its extension\) to "content"/g;
    expect(String(unread.all).match(warning)).toHaveLength(1);
    expect(fake.stats.promptsQueued).toBe(0);

    const read = await build(root, fake, { ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ content: ['src/data/**/*.{md,mdx}'] }) });
    expect(read.exitCode, String(read.all)).toBe(0);
    expect(fake.stats.promptsQueued).toBe(4);
    // The post without a prompt is inside the globs now: nothing to say about it.
    expect(read.all).not.toContain('getPostImage() was given');
    expect(await readFile(path.join(root, 'dist/lighthouse/index.html'), 'utf8')).toContain('alt="A lighthouse at dusk"');
  });

  it('an on-demand site (output: server, @astrojs/node) serves each post with its image through /_image, provenance included, in CI too', async () => {
    const { fake, root } = await setup();
    await makeOnDemand(root);
    // Made by the CLI (an on-demand build that generates is the next test's).
    await generateWithCli(root, fake);
    // The CI build of the same commit: frozen, no ComfyUI, the committed images.
    const ci = await build(root, undefined, { CI: '1' });
    expect(ci.exitCode, String(ci.all)).toBe(0);
    expect(ci.all).toContain('4 images: 4 committed, 0 generated.');

    const url = await startServer(root);
    const page = await fetch(`${url}/lighthouse/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('alt="A lighthouse at dusk"');
    const image = await fetch(new URL(onDemandAvif(html)!, url));
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/avif');
    // Made at request time by the server, through astro-comfyui's image service: it says what made it.
    expect(Buffer.from(await image.arrayBuffer()).includes('trainedAlgorithmicMedia')).toBe(true);
    expect((await fetch(`${url}/no-such-post/`)).status).toBe(404);
  });

  it('with a build and a runtime image service (Astro 7.4+), both keep provenance, and a service that is not sharp is named', async () => {
    const { fake, root } = await setup();
    const service = (entrypoint: string) => `{ entrypoint: ${JSON.stringify(entrypoint)} }`;
    const sharp = service('astro/assets/services/sharp');
    await makeOnDemand(root);
    await replaceInFile(path.join(root, 'astro.config.mjs'), fixtureImageService, `image: { service: { build: ${sharp}, runtime: ${sharp} } },`);
    // A prerendered page beside the on-demand ones: its copies are made by the build service.
    await writeFile(
      path.join(root, 'src/pages/cover.astro'),
      `---
export const prerender = true;
import { getEntry } from 'astro:content';
import { Picture } from 'astro:assets';
import { getPostImage } from 'astro-comfyui/images';
const image = getPostImage((await getEntry('blog', 'lighthouse'))!)!;
---
<html><body><Picture src={image.src} alt={image.alt} formats={['avif']} /></body></html>
`,
    );
    const result = await build(root, fake);
    expect(result.exitCode, String(result.all)).toBe(0);
    expect(result.all).not.toContain("not Astro's sharp service");
    const built = (await readdir(path.join(root, 'dist/client/_astro'))).filter((f) => f.startsWith('lighthouse-') && f.endsWith('.avif'));
    expect(built).toHaveLength(1);
    expect((await readFile(path.join(root, 'dist/client/_astro', built[0]!))).includes('trainedAlgorithmicMedia')).toBe(true);

    const url = await startServer(root);
    const image = await fetch(new URL(onDemandAvif(await (await fetch(`${url}/lighthouse/`)).text())!, url));
    expect(image.headers.get('content-type')).toBe('image/avif');
    expect(Buffer.from(await image.arrayBuffer()).includes('trainedAlgorithmicMedia')).toBe(true);

    // A runtime service of another kind is left as it is, and the build says what that costs.
    const config = path.join(root, 'astro.config.mjs');
    await replaceInFile(config, `runtime: ${sharp}`, `runtime: ${service('astro/assets/services/noop')}`);
    const other = await build(root, fake);
    expect(other.exitCode, String(other.all)).toBe(0);
    expect(other.all).toMatch(
      /image\.service\.runtime is "astro\/assets\/services\/noop", not Astro's sharp service: .*\(on-demand pages\) will not carry their provenance XMP/,
    );
    expect(other.all).not.toContain('image.service.build is');
  });

  it("an MDX post (with @astrojs/mdx) gets its image beside its components, a Markdown or MDX page in src/pages in its layout from the layout's Astro.props, and a CI build has them too", async () => {
    const { fake, root } = await setup();
    await useMdx(root);
    await writeFile(path.join(root, 'src/components/Note.astro'), '<aside class="note"><slot /></aside>\n');
    await writeFile(
      path.join(root, 'src/content/blog/reef.mdx'),
      `---
title: Reef
image: { prompt: "a coral reef", format: hero, alt: "A coral reef" }
---
import Note from '../../components/Note.astro';

Fish counted: {3 * 4}.

<Note>Snorkel at low tide.</Note>
`,
    );
    await mkdir(path.join(root, 'src/layouts'), { recursive: true });
    await mkdir(path.join(root, 'src/pages/notes'), { recursive: true });
    // Astro hands a Markdown page's layout the page's frontmatter and its absolute `file`, not an entry.
    await writeFile(
      path.join(root, 'src/layouts/Note.astro'),
      `---
import { Image } from 'astro:assets';
import { getPostImage } from 'astro-comfyui/images';
const image = getPostImage(Astro.props);
---
<html><body><h1>{Astro.props.frontmatter.title}</h1>{image && <Image src={image.src} alt={image.alt} />}<slot /></body></html>
`,
    );
    const page = (title: string, prompt: string) =>
      `---\nlayout: ../../layouts/Note.astro\ntitle: ${title}\nimage: { prompt: "${prompt}", alt: "${title} drawn" }\n---\nA note.\n`;
    await writeFile(path.join(root, 'src/pages/notes/lamp.md'), page('Lamp', 'an old brass lamp'));
    await writeFile(path.join(root, 'src/pages/notes/kettle.mdx'), page('Kettle', 'a copper kettle'));
    const content = JSON.stringify({ content: ['src/content/**/*.{md,mdx}', 'src/pages/notes/*.{md,mdx}'] });

    const first = await build(root, fake, { ASTRO_COMFYUI_TEST_OPTIONS: content });
    expect(first.exitCode, String(first.all)).toBe(0);
    expect(first.all).toContain('src/content/blog/reef.mdx › image → reef-');
    expect(fake.stats.promptsQueued).toBe(7);
    expect(first.all).not.toContain('getPostImage() was given');
    expect(first.all).not.toContain('no page shows');
    const html = await readFile(path.join(root, 'dist/reef/index.html'), 'utf8');
    expect(html).toMatch(/<source srcset="\/_astro\/reef-[0-9a-f]{12}\.[\w-]+\.avif" type="image\/avif">/);
    expect(html).toContain('alt="A coral reef"');
    expect(html).toContain('Fish counted: 12.');
    expect(html).toContain('<aside class="note">Snorkel at low tide.</aside>');
    const entry = Object.values((await readManifest(root)).images).find((e) => (e as { file: string }).file.startsWith('reef-'));
    expect(entry).toMatchObject({ prompt: 'a coral reef', posts: ['src/content/blog/reef.mdx'], width: 256, height: 144 });
    for (const [name, title] of [
      ['lamp', 'Lamp'],
      ['kettle', 'Kettle'],
    ]) {
      const note = await readFile(path.join(root, `dist/notes/${name}/index.html`), 'utf8');
      expect(note).toMatch(new RegExp(`<img src="/_astro/${name}-[0-9a-f]{12}\\.[\\w-]+\\.webp" [^>]*alt="${title} drawn"`));
    }

    const ci = await build(root, undefined, { CI: '1', ASTRO_COMFYUI_TEST_OPTIONS: content });
    expect(ci.exitCode, String(ci.all)).toBe(0);
    expect(ci.all).toContain('7 images: 7 committed, 0 generated.');
    expect(await readFile(path.join(root, 'dist/reef/index.html'), 'utf8')).toContain('alt="A coral reef"');
    expect(await readFile(path.join(root, 'dist/notes/kettle/index.html'), 'utf8')).toContain('alt="Kettle drawn"');
  });

  it('says why committed images are made again after the options changed: in CI (failing, or with placeholders), status, dry-run and the build log', async () => {
    const { fake, root } = await setup();
    await generateWithCli(root, fake);
    const changed = JSON.stringify({
      model: { preset: 'large-turbo', steps: 6 },
      styles: { watercolor: { prefix: 'a loose watercolour of', negative: 'photo, text' }, ink: { prefix: 'an ink drawing of', suffix: ', crosshatched' } },
    });

    const ci = await build(root, undefined, { CI: '1', ASTRO_COMFYUI_TEST_OPTIONS: changed });
    expect(ci.exitCode).not.toBe(0);
    expect(ci.all).toContain(
      'src/content/blog/lighthouse.md › image: "a lighthouse at dusk" (changed since its committed image: steps 4 → 6, the prompt: "watercolor painting" → "loose watercolour")',
    );
    expect(ci.all).toContain('src/content/blog/harbour.md › image: "a small harbour with fishing boats" (changed since its committed image: steps 4 → 6)');

    const status = await runCli(root, ['status'], { COMFYUI_URL: fake.url, ASTRO_COMFYUI_TEST_OPTIONS: changed });
    expect(status.stdout).toMatch(
      /missing: src\/content\/blog\/harbour\.md › image → harbour-[0-9a-f]{12}\.png \(changed since its committed image: steps 4 → 6\)/,
    );

    const dry = await runCli(root, ['generate', '--dry-run'], { COMFYUI_URL: fake.url, ASTRO_COMFYUI_TEST_OPTIONS: changed });
    expect(dry.all).toMatch(/src\/content\/blog\/harbour\.md › image → harbour-[0-9a-f]{12}\.png \(changed since its committed image: steps 4 → 6\)/);

    // A CI build that builds with placeholders says which real images they stand in for, and why.
    const withPlaceholders = JSON.stringify({ ...JSON.parse(changed), onMissing: 'placeholder' });
    const placeholders = await build(root, undefined, { CI: '1', ASTRO_COMFYUI_TEST_OPTIONS: withPlaceholders });
    expect(placeholders.exitCode, String(placeholders.all)).toBe(0);
    expect(placeholders.all).toMatch(/PLACEHOLDER IMAGES: 4 image\(s\)[\s\S]*They replace committed images that other settings made: steps 4 → 6 \(4 images\)/);

    const rebuilt = await build(root, fake, { ASTRO_COMFYUI_TEST_OPTIONS: changed });
    expect(rebuilt.exitCode, String(rebuilt.all)).toBe(0);
    expect(rebuilt.all).toContain(
      'They replace committed images that other settings made: steps 4 → 6 (4 images); the prompt: "watercolor painting" → "loose watercolour" (1 image).',
    );
    expect(fake.stats.promptsQueued).toBe(8);
  });

  it("refuses a browser script that imports the images, which would publish every prompt, drafts' too", async () => {
    const { root } = await setup();
    await writeFile(
      path.join(root, 'src/pages/island.astro'),
      `<html><body><p id="out"></p><script>
import { getPostImages } from 'astro-comfyui/images';
document.getElementById('out').textContent = getPostImages({ filePath: 'src/content/blog/harbour.md' }).map((i) => i.prompt).join();
</script></body></html>
`,
    );
    const result = await build(root, undefined, { CI: '1', ASTRO_COMFYUI_TEST_OPTIONS: '{"onMissing":"placeholder"}' });
    expect(result.exitCode, String(result.all).slice(-3000)).not.toBe(0);
    expect(result.all).toContain(`${path.join(root, 'src/pages/island.astro')} imports astro-comfyui/images in code that runs in the browser`);
    expect(result.all).toContain("in code that runs in the browser, which would publish every post's prompts and images");
    expect(result.all).toContain('Call getPostImage() in an .astro page or component');
  });

  it('leaves a static site without the images, and prompts, of posts no page shows; an image a page links as it is stays', async () => {
    const { root } = await setup();
    // A draft the site does not build, as blogs filter drafts out of getStaticPaths.
    await writeFile(path.join(root, 'src/content/blog/secret.md'), '---\ntitle: Secret\nimage: "a secret prototype under a tarp"\n---\nDraft.\n');
    const pages = path.join(root, 'src/pages');
    const postPage = path.join(pages, '[...slug].astro');
    await replaceInFile(postPage, 'return posts.map', "return posts.filter((post) => post.id !== 'secret').map");
    await writeFile(
      path.join(pages, 'raw.astro'),
      `---
import { getEntry } from 'astro:content';
import { getPostImage } from 'astro-comfyui/images';
const image = getPostImage((await getEntry('blog', 'harbour'))!);
---
<html><body><img src={image?.src.src} alt={image?.alt} /></body></html>
`,
    );
    const result = await build(root, undefined, { CI: '1', ASTRO_COMFYUI_TEST_OPTIONS: '{"onMissing":"placeholder"}' });
    expect(result.exitCode, String(result.all).slice(-3000)).toBe(0);
    expect(result.all).toMatch(
      /Left 1 generated image that no page shows \(drafts, posts the site does not build\) out of the site: secret-[0-9a-f]{12}\.[\w-]{8}\.png\./,
    );
    const dist = path.join(root, 'dist');
    const files = (await readdir(dist, { recursive: true, withFileTypes: true })).filter((f) => f.isFile()).map((f) => path.join(f.parentPath, f.name));
    expect(files.filter((file) => path.basename(file).startsWith('secret-'))).toEqual([]);
    for (const file of files) expect((await readFile(file)).includes('a secret prototype'), file).toBe(false);
    // The page that links the harbour's PNG as it is still has it; the other posts have their derivatives.
    const raw = /<img src="\/(_astro\/harbour-[^"]+\.png)"/.exec(await readFile(path.join(dist, 'raw/index.html'), 'utf8'))?.[1];
    expect(files).toContain(path.join(dist, raw!));
    expect(await readFile(path.join(dist, 'lighthouse/index.html'), 'utf8')).toMatch(/<source srcset="\/_astro\/lighthouse-[^"]+\.avif/);

    // A page that imports the draft's file itself, without the index, keeps it.
    const secret = (await readdir(generated(root))).find((name) => name.startsWith('secret-'))!;
    await writeFile(
      path.join(pages, 'about.astro'),
      `---\nimport picture from '../assets/generated/${secret}';\n---\n<html><body><img src={picture.src} alt="" /></body></html>\n`,
    );
    const again = await build(root, undefined, { CI: '1', ASTRO_COMFYUI_TEST_OPTIONS: '{"onMissing":"placeholder"}' });
    expect(again.exitCode, String(again.all).slice(-3000)).toBe(0);
    expect(again.all).not.toContain('no page shows');
    const about = /<img src="\/(_astro\/secret-[^"]+\.png)"/.exec(await readFile(path.join(dist, 'about/index.html'), 'utf8'))?.[1];
    expect((await readdir(path.join(dist, '_astro'))).map((name) => `_astro/${name}`)).toContain(about);
  });

  it('reports bad frontmatter of every post at once', async () => {
    const { fake, root } = await setup();
    await writeFile(path.join(root, 'src/content/blog/bad-one.md'), '---\ntitle: Bad one\nimage: { prompt: "x", style: oil }\n---\n');
    await writeFile(path.join(root, 'src/content/blog/bad-two.md'), '---\ntitle: Bad two\nimage: { prompt: "y", seed: -4 }\n---\n');
    const result = await build(root, fake);
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toContain('2 posts have invalid image prompts');
    expect(result.all).toContain('src/content/blog/bad-one.md › image.style unknown style "oil"');
    expect(result.all).toContain('src/content/blog/bad-two.md › image.seed must be a whole number from 0 to');
    // A mistake in a post is explained, not reported as a crash of the integration.
    expect(result.all).toContain('Fix the frontmatter of the posts listed above');
    expect(result.all).not.toContain('Stack trace');
    expect(result.all).not.toContain('Too small');
    expect(fake.stats.promptsQueued).toBe(0);
  });

  it('leaves no partial file and a valid manifest when killed mid-generation; the next build completes what is missing', async () => {
    const { fake, root } = await setup();
    const firstDone = waitForEvent(fake.events, 'done');
    const child = build(root, fake, { ASTRO_COMFYUI_TEST_OPTIONS: '{"concurrency":1,"queueAhead":0}' });
    await firstDone;
    fake.faults.stallExecution(true);
    await waitForEvent(fake.events, 'execution_start');
    // Give the build the moment it needs to write the finished image, then kill it hard.
    await new Promise((resolve) => setTimeout(resolve, 300));
    child.kill('SIGKILL');
    await child;
    const files = await readdir(generated(root));
    expect(files.filter((f) => f.endsWith('.tmp'))).toEqual([]);
    // Every image file is whole. The manifest is valid, though it may not list the newest image yet:
    // entries are written in batches, and each image carries its entry for the next run to re-adopt.
    const pngs = files.filter((f) => f.endsWith('.png'));
    expect(pngs.length).toBeGreaterThanOrEqual(1);
    for (const file of pngs) expect(readPngInfo(await readFile(path.join(generated(root), file))).width).toBeGreaterThan(0);
    if (files.includes('images.lock.json')) await readManifest(root);
    const recorded = pngs;

    fake.faults.stallExecution(false);
    const before = fake.stats.samplerRuns;
    const next = await build(root, fake);
    expect(next.exitCode, String(next.all)).toBe(0);
    expect(next.all).toContain(`${recorded.length} committed, ${4 - recorded.length} generated`);
    // The job that was running when the build died is found by its prompt_id, not sampled again.
    expect(fake.stats.samplerRuns - before).toBeLessThanOrEqual(4 - recorded.length);
    await rm(path.join(root, 'dist'), { recursive: true, force: true });
  });
});
