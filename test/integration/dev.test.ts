import { existsSync } from 'node:fs';
import { mkdir, open, readFile, readdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { startFakeComfyUI } from '../fake-comfyui/fake-comfyui.js';
import { copyFixture, replaceInFile, replaceOnce, runCli, setupBlogWithFake, startAstroDev, useMdx, waitUntil } from '../helpers/fixture-site.js';
import { findFreePort } from '../helpers/find-free-port.js';
import { connectViteHmr } from '../helpers/vite-hmr-client.js';
import { encodePng } from '../fake-comfyui/encode-png.js';
import { fakeStartCommand } from '../helpers/fake-launcher.js';
import { deadPid } from '../helpers/dead-pid.js';

const cleanups = useCleanups();

/** astro dev on the blog fixture whose images were all generated before it started; `page` tells what a page shows. */
async function startDevWithEveryImageMade() {
  const { root, env } = await setupBlogWithFake(cleanups, { stepDelayMs: 20 });
  expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
  const dev = await startAstroDev(root, await findFreePort(), env);
  cleanups.push(() => dev.stop());
  const page = async (route: string) => {
    const response = await fetch(`${dev.url}${route}`);
    const img = /<img[^>]+>/.exec(await response.text())?.[0] ?? '';
    return { status: response.status, src: /src="([^"]+)"/.exec(img)?.[1], alt: /alt="([^"]*)"/.exec(img)?.[1] };
  };
  return { root, dev, page };
}

describe('astro dev with astro-comfyui', () => {
  it('starts without waiting, generates in the background and picks up a new post without a restart', async () => {
    const fake = await startFakeComfyUI({ stepDelayMs: 20 });
    cleanups.push(() => fake.close());
    const site = await copyFixture('blog');
    cleanups.push(site.cleanup);
    // What a dev server killed mid-write leaves in the images folder: this one sweeps it.
    const generated = path.join(site.root, 'src/assets/generated');
    const left = `lighthouse-0123456789ab.png.${await deadPid()}.0a1b2c3d.tmp`;
    await mkdir(generated, { recursive: true });
    await writeFile(path.join(generated, left), 'half an image');
    await utimes(path.join(generated, left), new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    // And beside a post, from a seed or toolbar pin being written.
    const leftPost = `harbour.md.${await deadPid()}.0a1b2c3d.tmp`;
    await writeFile(path.join(site.root, 'src/content/blog', leftPost), '---\ntitle: Harb');
    await utimes(path.join(site.root, 'src/content/blog', leftPost), new Date(Date.now() - 120_000), new Date(Date.now() - 120_000));
    const dev = await startAstroDev(site.root, await findFreePort(), { COMFYUI_URL: fake.url });
    cleanups.push(async () => {
      const result = await dev.stop();
      // The dev server must exit by itself once asked to; no handle left open.
      // Astro exits with 128 + SIGTERM after closing its servers.
      expect([0, 143]).toContain(result.exitCode);
    });

    const imageOf = async (route: string) => {
      const html = await (await fetch(`${dev.url}${route}`)).text();
      return /<img[^>]+src="([^"]+)"/.exec(html)?.[1];
    };
    await dev.until(() => imageOf('/lighthouse/'), 30_000, 'the lighthouse image');

    await writeFile(
      path.join(site.root, 'src/content/blog/new-post.md'),
      '---\ntitle: A new post\nimage: { prompt: "a paper boat on a pond", format: square, seed: 5 }\n---\nWritten while dev runs.\n',
    );
    const src = await waitUntil(() => imageOf('/new-post/'), 30_000, 'the new post image');
    const image = await fetch(new URL(src, dev.url));
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toMatch(/^image\//);
    expect(dev.output.join('')).toContain('new-post.md › image → new-post-');
    expect(existsSync(path.join(generated, left))).toBe(false);
    expect(dev.output.join('')).toContain(`- ${left}`);
    expect(existsSync(path.join(site.root, 'src/content/blog', leftPost))).toBe(false);
    expect(dev.output.join('')).toContain(`a run killed while writing a post left in src/content/blog:\n- ${leftPost}`);
  });

  it('makes the image of an MDX post written while it runs, and a new one when its prompt is edited', async () => {
    const { root, env } = await setupBlogWithFake(cleanups, { stepDelayMs: 20 });
    await useMdx(root);
    await writeFile(path.join(root, 'src/components/Note.astro'), '<aside class="note"><slot /></aside>\n');
    const dev = await startAstroDev(root, await findFreePort(), env);
    cleanups.push(() => dev.stop());
    const post = path.join(root, 'src/content/blog/reef.mdx');
    await writeFile(
      post,
      `---\ntitle: Reef\nimage: { prompt: "a coral reef", seed: 3, alt: "A coral reef" }\n---\nimport Note from '../../components/Note.astro';\n\n<Note>Snorkel at low tide.</Note>\n`,
    );
    let lastHtml = '';
    const shown = async () => {
      const html = await (await fetch(`${dev.url}/reef/`)).text();
      lastHtml = html;
      const img = /<img[^>]+>/.exec(html)?.[0];
      // The MDX body with its component (dev adds source attributes to the component's element).
      return img && /<aside class="note"[^>]*>Snorkel at low tide\.<\/aside>/.test(html) ? /src="([^"]+)"/.exec(img)?.[1] : undefined;
    };
    const first = await waitUntil(shown, 30_000, 'the MDX post with its image').catch((error: Error) => {
      throw new Error(`${error.message}\nHTML:${lastHtml}\n${dev.output.join('')}`);
    });
    expect((await fetch(new URL(first, dev.url))).status).toBe(200);
    expect(dev.output.join('')).toContain('reef.mdx › image → reef-');

    await replaceInFile(post, 'a coral reef', 'a coral reef with a turtle');
    const second = await waitUntil(
      async () => {
        const src = await shown();
        return src && src !== first ? src : undefined;
      },
      30_000,
      'the image of the edited prompt',
    );
    expect((await fetch(new URL(second, dev.url))).status).toBe(200);
    const manifest = JSON.parse(await readFile(path.join(root, 'src/assets/generated/images.lock.json'), 'utf8'));
    expect(Object.values(manifest.images).map((e) => (e as { prompt: string }).prompt)).toContain('a coral reef with a turtle');
  });

  it('stops making an image whose prompt is edited while it waits, in ComfyUI or in dev, and makes the new one', async () => {
    const { fake, root, env } = await setupBlogWithFake(cleanups, { stepDelayMs: 50 });
    fake.faults.stallExecution(true);
    const dev = await startAstroDev(root, await findFreePort(), env);
    cleanups.push(() => dev.stop());
    const output = () => dev.output.join('');
    const see = (text: string, what: string) => dev.until(async () => output().includes(text) || undefined, 30_000, what);
    const edit = (name: string, from: string, to: string) => replaceInFile(path.join(root, 'src/content/blog', name), from, to);
    // The first run makes four images, two at a time on ComfyUI. Held while the fox runs: the owl waits
    // in ComfyUI's queue, the harbour and the lighthouse in dev's. An editor's autosave in the middle of
    // typing changes the owl's and the lighthouse's prompts then.
    await waitUntil(async () => fake.stats.promptsQueued === 2 || undefined, 30_000, 'two prompts in ComfyUI');
    await Promise.all([
      edit('gallery.md', 'an owl on a branch', 'an owl on a snowy branch'),
      edit('lighthouse.md', 'a lighthouse at dusk', 'a lighthouse at night'),
    ]);
    await see('gallery.md › images[1]: dropped, no post asks for it any more.', 'the owl taken out of ComfyUI’s queue');
    fake.faults.stallExecution(false);
    await see('lighthouse.md › image: dropped, no post asks for it any more.', 'the lighthouse dropped');
    await see('lighthouse.md › image → lighthouse-', 'the new lighthouse');
    await see('gallery.md › images[1] → gallery-1-', 'the new owl');
    expect(output()).not.toMatch(/failed|could not be generated/);
    // Only what the posts ask for now was made and committed: the old prompts never reached the folder.
    const folder = path.join(root, 'src/assets/generated');
    const entries = await waitUntil(
      async () => {
        const manifest = JSON.parse(await readFile(path.join(folder, 'images.lock.json'), 'utf8').catch(() => '{"images":{}}')) as {
          images: Record<string, { file: string; prompt: string }>;
        };
        const found = Object.values(manifest.images);
        return found.length === 4 ? found : undefined;
      },
      10_000,
      'four manifest entries',
    );
    const prompts = entries.map((e) => e.prompt).join('\n');
    expect(prompts).toContain('a lighthouse at night');
    expect(prompts).toContain('an owl on a snowy branch');
    expect(prompts).not.toContain('a lighthouse at dusk');
    expect(prompts).not.toContain('an owl on a branch');
    expect((await readdir(folder)).filter((f) => f.endsWith('.png')).sort()).toEqual(entries.map((e) => e.file).sort());
    // ComfyUI got the fox, the old owl (taken out again), the harbour and the two new prompts: the old
    // lighthouse never left dev's queue.
    expect(fake.stats.promptsQueued).toBe(5);
  });

  it("the toolbar shows a renamed post's image, and one it shares with another post, with the file the page uses", async () => {
    const { root, env } = await setupBlogWithFake(cleanups, { stepDelayMs: 20 });
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    const blog = path.join(root, 'src/content/blog');
    // `git mv lighthouse.md beacon.md`, and a second post asking for the harbour's very image.
    await rename(path.join(blog, 'lighthouse.md'), path.join(blog, 'beacon.md'));
    await writeFile(path.join(blog, 'harbour-again.md'), await readFile(path.join(blog, 'harbour.md'), 'utf8'));
    const dev = await startAstroDev(root, await findFreePort(), env);
    cleanups.push(() => dev.stop());
    const hmr = await connectViteHmr(dev.url);
    cleanups.push(async () => hmr.close());
    for (const [pathname, made] of [
      ['/beacon/', /^lighthouse-[0-9a-f]{12}\.png$/],
      ['/harbour-again/', /^harbour-[0-9a-f]{12}\.png$/],
    ] as const) {
      const requestId = `init${pathname.replaceAll('/', '-')}`;
      hmr.send('astro-comfyui:init', { requestId, pathname });
      const state = await waitUntil(
        async () => hmr.received.find((m) => m.event === 'astro-comfyui:state' && m.data.requestId === requestId),
        10_000,
        pathname,
      );
      const [image] = state.data.images as Array<{ state: string; file: string; url: string | null }>;
      expect(image!.state, pathname).toBe('ready');
      expect(image!.file).toMatch(made);
      const shown = await fetch(new URL(image!.url!, dev.url));
      expect(shown.status).toBe(200);
      expect(shown.headers.get('content-type')).toBe('image/png');
    }
    // Nothing was generated again for them.
    expect(dev.output.join('')).not.toContain('Generating');
  });

  it('shows an image on every post that asks for it as soon as it is made, though it is made once', async () => {
    const { fake, root, env } = await setupBlogWithFake(cleanups, { stepDelayMs: 20 });
    const blog = path.join(root, 'src/content/blog');
    await writeFile(path.join(blog, 'harbour-again.md'), await readFile(path.join(blog, 'harbour.md'), 'utf8'));
    const dev = await startAstroDev(root, await findFreePort(), env);
    cleanups.push(() => dev.stop());
    const imageOf = async (route: string) => /<img[^>]+src="([^"]+)"/.exec(await (await fetch(`${dev.url}${route}`)).text())?.[1];
    const first = await waitUntil(() => imageOf('/harbour/'), 30_000, 'the harbour image');
    const again = await waitUntil(() => imageOf('/harbour-again/'), 5_000, 'the same image on the second post');
    expect(again).toBe(first);
    expect((await fetch(new URL(again.replaceAll('&amp;', '&'), dev.url))).status).toBe(200);
    expect(fake.stats.promptsQueued).toBe(4);
  });

  it("gives pages each image's metadata exactly as Astro's own import of its file would, though dev does not import it", async () => {
    const { root, dev } = await startDevWithEveryImageMade();
    // An endpoint that puts what getPostImages() gives beside what importing every committed PNG gives.
    await writeFile(
      path.join(root, 'src/pages/image-metadata.json.ts'),
      `import { getCollection } from 'astro:content';
import { getPostImages } from 'astro-comfyui/images';
const own = import.meta.glob('../assets/generated/*.png', { eager: true, import: 'default' });
export async function GET() {
  const posts = await getCollection('blog');
  const ours = posts.flatMap((post) => getPostImages(post).map((image) => image.src));
  return new Response(JSON.stringify({ ours, astro: Object.values(own) }));
}
`,
    );
    type Metadata = { src: string; width: number; height: number; format: string };
    const read = async () => {
      const response = await fetch(`${dev.url}/image-metadata.json`);
      return response.status === 200 ? ((await response.json()) as { ours: Metadata[]; astro: Metadata[] }) : undefined;
    };
    const { ours, astro } = await waitUntil(read, 20_000, 'the metadata endpoint');
    // The fixture's posts show 4 images, each its own file.
    expect(new Set(ours.map((image) => image.src)).size).toBe(4);
    for (const image of ours) expect(image).toEqual(astro.find((own) => own.src === image.src));
    expect(ours[0]).toEqual({
      src: expect.stringMatching(/^\/@fs\/.+\.png\?origWidth=\d+&origHeight=\d+&origFormat=png$/),
      width: expect.any(Number),
      height: expect.any(Number),
      format: 'png',
    });
    // A committed image replaced by another size (by hand, while dev runs) is shown with its new size.
    const file = decodeURIComponent(ours[0]!.src.slice('/@fs'.length).split('?')[0]!);
    await writeFile(file, encodePng(40, 24, new Uint8Array(40 * 24 * 3)));
    const resized = await waitUntil(async () => (await read())?.ours.find((image) => image.width === 40), 10_000, 'the new size on the page');
    expect(resized).toEqual({ src: ours[0]!.src.replace(/\?.*/, '?origWidth=40&origHeight=24&origFormat=png'), width: 40, height: 24, format: 'png' });
  });

  it('keeps the ComfyUI it started when astro.config is saved (Astro restarts dev in place), and can still stop it', async () => {
    const site = await copyFixture('blog');
    cleanups.push(site.cleanup);
    const config = path.join(site.root, 'astro.config.mjs');
    const url = `http://127.0.0.1:${await findFreePort()}`;
    const dev = await startAstroDev(site.root, await findFreePort(), {
      COMFYUI_URL: url,
      ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ start: fakeStartCommand() }),
    });
    cleanups.push(() => dev.stop());
    const output = () => dev.output.join('');
    const see = (pattern: RegExp, what: string) => dev.until(async () => pattern.test(output()) || undefined, 25_000, what);
    await see(/lighthouse\.md › image → /, 'the first images');
    // A new style prefix: Astro restarts dev, and the images in that style are made again. Saved whole,
    // as an editor saves by rename: Astro can restart from a file caught half-written (no integrations
    // then, so no astro:server:setup at all; seen under load in 1 of 8 in-place writes).
    const edited = replaceOnce(await readFile(config, 'utf8'), "prefix: 'an ink drawing of'", "prefix: 'a fine ink drawing of'", config);
    await writeFile(`${config}.tmp`, edited);
    await rename(`${config}.tmp`, config);
    await see(/Restarting[\s\S]*gallery\.md › images\[0\] → /, 'the image in the changed style');
    expect(output().match(/Starting ComfyUI/g)).toHaveLength(1);

    // The new session still owns that ComfyUI: the Advanced tab's Stop stops it.
    const hmr = await connectViteHmr(dev.url);
    cleanups.push(async () => hmr.close());
    hmr.send('astro-comfyui:stop', { requestId: 'stop-after-restart' });
    const answer = await waitUntil(async () => hmr.received.find((m) => m.data.requestId === 'stop-after-restart'), 30_000, 'the answer to Stop');
    expect(answer.event, JSON.stringify(answer.data)).toBe('astro-comfyui:status-result');
    await expect(fetch(`${url}/system_stats`)).rejects.toThrow();
  });

  it("reads COMFYUI_URL from the site's .env files, and restarts with the URL saved into one", async () => {
    const { fake, root } = await setupBlogWithFake(cleanups, { stepDelayMs: 20 });
    const envFile = path.join(root, '.env.development');
    await writeFile(envFile, `COMFYUI_URL=http://127.0.0.1:${await findFreePort()}\n`);
    const dev = await startAstroDev(root, await findFreePort(), { COMFYUI_URL: undefined });
    cleanups.push(() => dev.stop());
    const output = () => dev.output.join('');
    await dev.until(async () => /no ComfyUI answers/.test(output()) || undefined, 25_000, 'dev to find no ComfyUI');
    expect(fake.stats.promptsQueued).toBe(0);
    // Saved whole, as an editor saves by rename.
    await writeFile(`${envFile}.tmp`, `COMFYUI_URL=${fake.url}\n`);
    await rename(`${envFile}.tmp`, envFile);
    await dev.until(async () => /Restarting[\s\S]*lighthouse\.md › image → /.test(output()) || undefined, 30_000, 'the images made with the new URL');
    expect(fake.stats.promptsQueued).toBe(4);
  });

  it('warns about a bad prompt once when it appears, not again at every save of another post', async () => {
    const { root, env } = await setupBlogWithFake(cleanups, { stepDelayMs: 20 });
    await writeFile(path.join(root, 'src/content/blog/broken.md'), '---\ntitle: Broken\nimage: { prompt: "a kite", style: nosuchstyle }\n---\n');
    const dev = await startAstroDev(root, await findFreePort(), env);
    cleanups.push(() => dev.stop());
    const warnings = () => dev.output.join('').split('broken.md › image.style unknown style').length - 1;
    await waitUntil(async () => (warnings() > 0 ? true : undefined), 30_000, 'the warning');
    const other = path.join(root, 'src/content/blog/plain.md');
    for (let i = 1; i <= 3; i++) {
      await writeFile(other, `${await readFile(other, 'utf8')}\nMore words ${i}.\n`);
      await new Promise((resolve) => setTimeout(resolve, 600));
    }
    // Each save makes a run, which used to print the same warning again.
    expect(warnings()).toBe(1);
    // Saved in two writes 20 ms apart, as an editor that streams a file may: the watcher reports the
    // first and drops the second, so a post read as soon as it is reported stays half-written.
    const broken = await open(path.join(root, 'src/content/blog/broken.md'), 'w');
    await broken.write('---\ntitle: Broken\n');
    await new Promise((resolve) => setTimeout(resolve, 20));
    await broken.write('image: { prompt: "a kite", style: otherstyle }\n---\n');
    await broken.close();
    await waitUntil(async () => (dev.output.join('').includes('unknown style "otherstyle"') ? true : undefined), 30_000, 'the new warning');
  });

  it.each([
    ['placeholder', 'replaced by real images as soon as a ComfyUI answers (astro dev looks for one every 5 s).'],
    ['error', 'or set onMissing: "placeholder". They are made as soon as a ComfyUI answers (astro dev looks for one every 5 s).'],
  ])('makes the images as soon as a ComfyUI answers, without waiting for a save (onMissing: %s)', async (onMissing, said) => {
    const site = await copyFixture('blog');
    cleanups.push(site.cleanup);
    const comfyPort = await findFreePort();
    const dev = await startAstroDev(site.root, await findFreePort(), {
      COMFYUI_URL: `http://127.0.0.1:${comfyPort}`,
      ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ onMissing }),
    });
    cleanups.push(() => dev.stop());
    await waitUntil(async () => (dev.output.join('').includes(said) ? true : undefined), 30_000, said);
    // Saves of a post meanwhile (an editor's autosave) printed the whole message again each time.
    const runs = () => dev.output.join('').split('no ComfyUI answers').length - 1;
    const post = path.join(site.root, 'src/content/blog/plain.md');
    for (const words of ['One.', 'Two.']) {
      const before = await readdir(path.join(site.root, 'src/assets/generated')).catch(() => []);
      await writeFile(post, `${await readFile(post, 'utf8')}\n${words}\n`);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await readdir(path.join(site.root, 'src/assets/generated')).catch(() => [])).toEqual(before);
    }
    expect(runs()).toBe(1);
    // A GPU machine woken up, or ComfyUI started by hand.
    const fake = await startFakeComfyUI({ port: comfyPort, stepDelayMs: 20 });
    cleanups.push(() => fake.close());
    const real = async () => {
      const html = await (await fetch(`${dev.url}/lighthouse/`)).text();
      return /<img[^>]+data-placeholder="false"/.test(html) ? true : undefined;
    };
    await dev.until(real, 30_000, 'the real lighthouse image');
    expect(dev.output.join('')).toContain('ComfyUI answers now: making the images that are missing.');
  });

  it('tries a failed image again when its post is saved, not at every save of another post', async () => {
    const { fake, root, env } = await setupBlogWithFake(cleanups, { stepDelayMs: 5 });
    fake.faults.failNode('KSampler', 'CUDA out of memory', 'torch.OutOfMemoryError', (prompt) => JSON.stringify(prompt).includes('lighthouse'));
    const dev = await startAstroDev(root, await findFreePort(), env);
    cleanups.push(() => dev.stop());
    const failures = () => dev.output.join('').split('src/content/blog/lighthouse.md › image failed: ').length - 1;
    await dev.until(async () => (failures() === 1 ? true : undefined), 30_000, 'the failure');
    expect(dev.output.join('')).toContain('astro dev tries a failed image again when its post is saved, or when ComfyUI answers again after it was down.');
    const queued = fake.stats.promptsQueued;
    // An editor's autosave of another post, three times: the same job went to the GPU each time.
    const harbour = path.join(root, 'src/content/blog/harbour.md');
    for (const words of ['One.', 'Two.', 'Three.']) {
      await writeFile(harbour, `${await readFile(harbour, 'utf8')}\n${words}\n`);
      await dev.until(async () => ((await fetch(`${dev.url}/harbour/`).then((r) => r.text())).includes(words) ? true : undefined), 30_000, words);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(fake.stats.promptsQueued).toBe(queued);
    expect(failures()).toBe(1);
    // Saving its own post tries it again; once the cause is gone, it is made.
    const lighthouse = path.join(root, 'src/content/blog/lighthouse.md');
    await writeFile(lighthouse, `${await readFile(lighthouse, 'utf8')}\nMore.\n`);
    await dev.until(async () => (failures() === 2 ? true : undefined), 30_000, 'the second try');
    fake.faults.clearFailures();
    await writeFile(lighthouse, `${await readFile(lighthouse, 'utf8')}\nEven more.\n`);
    const real = async () => (/<img[^>]+data-placeholder="false"/.test(await (await fetch(`${dev.url}/lighthouse/`)).text()) ? true : undefined);
    await dev.until(real, 30_000, 'the lighthouse image');
    expect(fake.stats.promptsQueued).toBe(queued + 2);
  });

  it('in mode "force" makes every image again once, not again at each save', async () => {
    const { fake, root, env } = await setupBlogWithFake(cleanups, { stepDelayMs: 5 });
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    const queued = fake.stats.promptsQueued;
    const dev = await startAstroDev(root, await findFreePort(), { ...env, ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ mode: 'force' }) });
    cleanups.push(() => dev.stop());
    expect(dev.output.join('')).toContain('Mode "force": every image is made again once; after that, astro dev makes only what is missing.');
    const made = () => dev.output.join('').split(/\[\d\/\d\] src\/content\/blog\/\S+ › \S+ → /).length - 1;
    await dev.until(async () => (made() === 4 ? true : undefined), 30_000, 'the four images made again');
    expect(fake.stats.promptsQueued - queued).toBe(4);
    // Each save used to send the whole site to the GPU again.
    const post = path.join(root, 'src/content/blog/harbour.md');
    for (const words of ['More words.', 'Even more words.']) {
      await writeFile(post, `${await readFile(post, 'utf8')}\n${words}\n`);
      await dev.until(async () => ((await fetch(`${dev.url}/harbour/`).then((r) => r.text())).includes(words) ? true : undefined), 30_000, words);
    }
    // A new prompt is made, and only it.
    await replaceInFile(post, 'a small harbour with fishing boats', 'a small harbour at night');
    await dev.until(async () => (made() === 5 ? true : undefined), 30_000, 'the new harbour image');
    expect(fake.stats.promptsQueued - queued).toBe(5);
  });

  it('keeps the image of a post asking to regenerate it while no ComfyUI answers, and makes the new one as soon as one does', async () => {
    const { fake, root, env } = await setupBlogWithFake(cleanups, { stepDelayMs: 20 });
    expect((await runCli(root, ['generate'], env)).exitCode).toBe(0);
    const port = Number(new URL(fake.url).port);
    await fake.close();
    const post = path.join(root, 'src/content/blog/lighthouse.md');
    await replaceInFile(post, 'seed: 7', 'seed: 7, regenerate: true');
    const files = await readdir(path.join(root, 'src/assets/generated'));
    const dev = await startAstroDev(root, await findFreePort(), env);
    cleanups.push(() => dev.stop());
    const said = 'regenerate: true waits, as no ComfyUI answers: src/content/blog/lighthouse.md › image keeps the image it has';
    await waitUntil(async () => (dev.output.join('').includes(said) ? true : undefined), 30_000, said);
    const src = async () => /<img[^>]+src="([^"]+)"[^>]+data-placeholder="false"/.exec(await (await fetch(`${dev.url}/lighthouse/`)).text())?.[1];
    const before = await src();
    expect(before).toBeTruthy();
    expect(await readdir(path.join(root, 'src/assets/generated'))).toEqual(files);
    // The GPU machine is back: the new image comes without a save.
    const back = await startFakeComfyUI({ port, stepDelayMs: 20 });
    cleanups.push(() => back.close());
    await dev.until(async () => ((await readFile(post, 'utf8')).includes('regenerate: true') ? undefined : true), 30_000, 'the new seed recorded');
    await dev.until(
      async () => {
        const now = await src();
        return now && now !== before ? true : undefined;
      },
      30_000,
      'the new image on the page',
    );
  });

  it.each([
    ['placeholder', 'replaced by real images as soon as a ComfyUI has what they need (astro dev looks every 10 s).'],
    ['error', 'The images are made as soon as a ComfyUI has what they need (astro dev looks every 10 s).'],
  ])('makes the images as soon as the ComfyUI has the model file they need, without waiting for a save (onMissing: %s)', async (onMissing, later) => {
    const site = await copyFixture('blog');
    cleanups.push(site.cleanup);
    const fake = await startFakeComfyUI({ models: { checkpoints: [] }, stepDelayMs: 20 });
    cleanups.push(() => fake.close());
    const dev = await startAstroDev(site.root, await findFreePort(), { COMFYUI_URL: fake.url, ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ onMissing }) });
    cleanups.push(() => dev.stop());
    const said = 'sd3.5_large_turbo.safetensors is missing: put it in ComfyUI/models/checkpoints/';
    await waitUntil(async () => (dev.output.join('').includes(later) ? true : undefined), 30_000, later);
    expect(dev.output.join('')).toContain(said);
    const shown = async (placeholder: boolean) => {
      const html = await (await fetch(`${dev.url}/lighthouse/`)).text();
      return new RegExp(`<img[^>]+data-placeholder="${placeholder}"`).test(html) ? true : undefined;
    };
    // Meanwhile the page shows what the author asked for: a marked placeholder, or no image.
    if (onMissing === 'placeholder') await dev.until(() => shown(true), 10_000, 'the placeholder');
    else expect(await fetch(`${dev.url}/lighthouse/`).then((r) => r.text())).not.toMatch(/<img[^>]+data-placeholder/);
    // The download ends in ComfyUI's folder, and the author does nothing else.
    fake.addModelFiles({ checkpoints: ['sd3.5_large_turbo.safetensors'] });
    await dev.until(() => shown(false), 40_000, 'the real lighthouse image');
    expect(dev.output.join('')).toContain('A ComfyUI has what the images need now: making the images that are missing.');
  });

  it('once every image is made, a changed prompt or alt reaches its page and the other pages keep theirs', async () => {
    const { root, dev, page: shown } = await startDevWithEveryImageMade();
    const harbour = await waitUntil(async () => (await shown('/harbour/')).src && shown('/harbour/'), 30_000, 'the harbour image');
    const lighthouse = await shown('/lighthouse/');
    const post = path.join(root, 'src/content/blog/lighthouse.md');
    const edit = (from: string, to: string) => replaceInFile(post, from, to);

    await edit('alt: "A lighthouse at dusk"', 'alt: "The lighthouse, at dusk"');
    await waitUntil(async () => ((await shown('/lighthouse/')).alt === 'The lighthouse, at dusk' ? true : undefined), 30_000, 'the new alt');
    await edit('seed: 7', 'seed: 8');
    await waitUntil(async () => (dev.output.join('').includes('lighthouse.md › image → lighthouse-') ? true : undefined), 30_000, 'the new image');
    const made = await waitUntil(
      async () => {
        const now = await shown('/lighthouse/');
        return now.src && now.src !== lighthouse.src ? now : undefined;
      },
      30_000,
      'the new image on its page',
    );
    expect(made.alt).toBe('The lighthouse, at dusk');
    expect((await fetch(new URL(made.src!, dev.url))).status).toBe(200);
    expect(await shown('/harbour/')).toEqual(harbour);
  });

  it("follows posts kept outside the project (a monorepo's content package) when the content globs name them", async () => {
    const { root, env } = await setupBlogWithFake(cleanups, { stepDelayMs: 20 });
    // The posts move beside the site; its collection and the content globs point there.
    const outside = `${root}-posts`;
    await rename(path.join(root, 'src/content/blog'), outside);
    cleanups.push(() => rm(outside, { recursive: true, force: true }));
    await replaceInFile(path.join(root, 'src/content.config.ts'), "base: './src/content/blog'", `base: '../${path.basename(outside)}'`);
    const options = { ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ content: [`../${path.basename(outside)}/*.{md,mdx}`] }) };
    const dev = await startAstroDev(root, await findFreePort(), { ...env, ...options });
    cleanups.push(() => dev.stop());
    const made = () => dev.output.join('').split('lighthouse.md › image → lighthouse-').length - 1;
    await dev.until(async () => (made() === 1 ? true : undefined), 30_000, 'the lighthouse image');
    await replaceInFile(path.join(outside, 'lighthouse.md'), 'seed: 7', 'seed: 8');
    await dev.until(async () => (made() === 2 ? true : undefined), 30_000, 'the image of the edited post');
    const html = await (await fetch(`${dev.url}/lighthouse/`)).text();
    const entries = Object.values(JSON.parse(await readFile(path.join(root, 'src/assets/generated/images.lock.json'), 'utf8')).images) as Array<{
      seed: number;
      file: string;
    }>;
    expect(html).toContain(entries.find((entry) => entry.seed === 8)!.file.replace(/\.png$/, ''));
  });

  it('makes a generated image deleted while it runs again, and the pages work meanwhile', async () => {
    const { root, dev, page } = await startDevWithEveryImageMade();
    await waitUntil(async () => (await page('/lighthouse/')).src, 30_000, 'the lighthouse image');

    const folder = path.join(root, 'src/assets/generated');
    const file = (await readdir(folder)).find((name) => name.startsWith('lighthouse-') && name.endsWith('.png'))!;
    await rm(path.join(folder, file));
    // Every page imports the images module: with the deleted file still in it, all of them failed.
    await dev.until(async () => ((await page('/harbour/')).status === 200 ? true : undefined), 10_000, 'the harbour page to work');
    await waitUntil(async () => (existsSync(path.join(folder, file)) ? true : undefined), 30_000, `${file} made again`);
    const again = await waitUntil(
      async () => {
        const shown = await page('/lighthouse/');
        return shown.status === 200 && shown.src ? shown : undefined;
      },
      30_000,
      'the lighthouse image again',
    );
    expect((await fetch(new URL(again.src!, dev.url))).status).toBe(200);
    expect((await page('/harbour/')).status).toBe(200);
  });
});
