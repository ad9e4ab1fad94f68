import type { ComfyUISupervisor, Logger } from '@astro-comfyui/comfyui';
import type { ViteDevServer } from 'vite';
import { collectPostImages, loadTemplate } from './collect-post-images.js';
import type { ImageIndex } from './image-index.js';
import { listImageFiles } from './classify-images.js';
import { readManifest } from './manifest.js';
import type { ResolvedImage } from './resolve-image.js';
import type { ResolvedOptions } from './options.js';
import { syncImages } from './sync-images.js';
import { invalidateImagesModule } from './vite-plugin-images.js';

export interface DevGeneration {
  /** Rebuilds the image index from the posts and manifest and invalidates the virtual module. */
  reindex(): Promise<void>;
  /** Rescans posts and generates what is missing; calls made while one runs are merged into one more run. */
  refresh(): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * Dev mode: the server starts at once, missing images are generated in the background, and each new
 * image invalidates the virtual module and reloads the page that waits for it.
 */
export function startDevGeneration(
  server: ViteDevServer,
  index: ImageIndex,
  options: ResolvedOptions,
  logger: Logger,
  supervisor?: ComfyUISupervisor,
): DevGeneration {
  const controller = new AbortController();
  let running: Promise<void> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | null = null;

  /** Points the virtual module at the committed images of these posts. */
  const updateIndex = async (images: ResolvedImage[]) => {
    index.update(images, await readManifest(options.manifestFile), options.outDir, await listImageFiles(options.outDir));
    invalidateImagesModule(server);
  };
  const reindex = async () => {
    const { images } = await collectPostImages(options, await loadTemplate(options));
    await updateIndex(images);
  };

  const run = async () => {
    const template = await loadTemplate(options);
    const { images, problems } = await collectPostImages(options, template);
    for (const p of problems) logger.warn(`${p.post} › ${p.field} ${p.message}`);
    await updateIndex(images);
    await syncImages(images, options, {
      logger,
      ...(supervisor ? { supervisor } : {}),
      signal: controller.signal,
      commitEachImage: true,
      // The posts did not change while generating: re-read only the manifest, not every post.
      onImageReady: async () => {
        await updateIndex(images);
        server.hot.send({ type: 'full-reload' });
      },
    });
  };

  const refresh = (): Promise<void> => {
    if (controller.signal.aborted) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = run()
      .catch((error: Error) => {
        if (!controller.signal.aborted) logger.error(error.message + ((error as { hint?: string }).hint ? `\n${(error as { hint?: string }).hint}` : ''));
      })
      .finally(() => {
        running = null;
        if (again) {
          again = false;
          void refresh();
        }
      });
    return running;
  };

  const isPost = (file: string) => /\.(md|mdx|markdoc)$/.test(file) && file.startsWith(options.root);
  const onChange = (file: string) => {
    if (!isPost(file)) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void refresh(), 150);
  };
  server.watcher.on('add', onChange);
  server.watcher.on('change', onChange);
  void refresh();

  return {
    reindex,
    refresh,
    async dispose() {
      controller.abort();
      if (timer) clearTimeout(timer);
      server.watcher.off('add', onChange);
      server.watcher.off('change', onChange);
      await running;
    },
  };
}
