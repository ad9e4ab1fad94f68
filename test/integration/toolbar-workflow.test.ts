import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readPngInfo } from '../fake-comfyui/encode-png.js';
import { startFakeComfyUI } from '../fake-comfyui/fake-comfyui.js';
import { useCleanups } from '../helpers/cleanups.js';
import { copyFixture, startAstroDev, waitUntil } from '../helpers/fixture-site.js';
import { findFreePort } from '../helpers/find-free-port.js';
import { buildTestGraph } from '../helpers/sd35-graph.js';
import { connectToolbar } from '../helpers/toolbar-socket.js';

const cleanups = useCleanups();

/** The toolbar's channel as a page of the dev server opens it, answering each request. */
async function openToolbarChannel(base: string) {
  const { socket, events, send } = await connectToolbar(base);
  cleanups.push(async () => socket.close());
  return {
    events,
    /** Sends a request and resolves with the answer `event` to it. */
    async ask(event: string, data: Record<string, unknown>, answer: string): Promise<Record<string, unknown>> {
      send(event, data);
      const found = await waitUntil(
        async () => events.find((e) => e.data.requestId === data.requestId && [answer, 'astro-comfyui:error'].includes(e.event)),
        30_000,
        answer,
      );
      expect(found.event, JSON.stringify(found.data)).toBe(answer);
      return found.data;
    },
  };
}

describe("the dev toolbar with an author's own workflow", () => {
  it('shows, makes and pins its images at the size the workflow makes, not the format size', async () => {
    const site = await copyFixture('blog');
    cleanups.push(site.cleanup);
    const fake = await startFakeComfyUI();
    cleanups.push(() => fake.close());
    const graph = buildTestGraph();
    graph['10'] = { class_type: 'ImageScaleBy', inputs: { image: ['8', 0], upscale_method: 'lanczos', scale_by: 1.5 } };
    graph['9']!.inputs.images = ['10', 0];
    await mkdir(path.join(site.root, 'flows'));
    await writeFile(path.join(site.root, 'flows/hires.json'), JSON.stringify(graph));
    const bindings = { prompt: '3.inputs.text', seed: '7.inputs.seed', width: '5.inputs.width', height: '5.inputs.height' };
    const dev = await startAstroDev(site.root, await findFreePort(), {
      COMFYUI_URL: fake.url,
      ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ workflow: { file: 'flows/hires.json', bindings } }),
    });
    cleanups.push(() => dev.stop());
    const manifestFile = path.join(site.root, 'src/assets/generated/images.lock.json');
    const lighthouse = await waitUntil(
      async () => {
        const manifest = JSON.parse(await readFile(manifestFile, 'utf8').catch(() => '{"images":{}}')) as {
          images: Record<string, { posts: string[]; file: string }>;
        };
        return Object.values(manifest.images).find((entry) => entry.posts.includes('src/content/blog/lighthouse.md'));
      },
      60_000,
      "dev to make the lighthouse's image",
    );

    const channel = await openToolbarChannel(dev.url);
    const state = await channel.ask('astro-comfyui:init', { requestId: 'state-0001', pathname: '/lighthouse/' }, 'astro-comfyui:state');
    const shown = (state.images as Array<{ target: string; state: string; file: string; width: number; height: number }>).find((i) => i.target === 'image')!;
    // The fixture's hero format is 256x144; the workflow scales by 1.5.
    expect(shown).toMatchObject({ state: 'ready', file: lighthouse.file, width: 384, height: 216 });

    const prompt = { post: 'src/content/blog/lighthouse.md', target: 'image', prompt: 'a lighthouse at dusk', style: 'watercolor', format: 'hero', seed: 70 };
    const candidate = await channel.ask('astro-comfyui:generate', { requestId: 'generate-0001', ...prompt, count: 1 }, 'astro-comfyui:candidate');
    expect(candidate).toMatchObject({ seed: 70, width: 384, height: 216 });
    // While no step comes, the panel is told what runs: the workflow's own upscaler by its class.
    const phases = channel.events
      .filter((e) => e.event === 'astro-comfyui:progress' && e.data.requestId === 'generate-0001' && e.data.type === 'executing')
      .map((e) => e.data.phase);
    expect(phases).toEqual(expect.arrayContaining(['sampling', 'decoding the image', 'running ImageScaleBy', 'saving the image']));
    const pinned = await channel.ask('astro-comfyui:pin', { requestId: 'pin-00000001', ...prompt, key: candidate.key }, 'astro-comfyui:pinned');
    const entry = JSON.parse(await readFile(manifestFile, 'utf8')).images[candidate.key as string];
    expect(entry).toMatchObject({ file: pinned.file, seed: 70, width: 384, height: 216 });
    const png = readPngInfo(await readFile(path.join(site.root, 'src/assets/generated', pinned.file as string)));
    expect([png.width, png.height]).toEqual([384, 216]);
  });
});
