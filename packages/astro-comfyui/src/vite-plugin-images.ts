import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Plugin, ViteDevServer } from 'vite';
import type { ImageIndex } from './image-index.js';

export const VIRTUAL_IMAGES_ID = 'virtual:astro-comfyui/images';
const RESOLVED_ID = `\0${VIRTUAL_IMAGES_ID}`;
const RUNTIME_ID = 'astro-comfyui/images';
const runtimeFile = fileURLToPath(new URL('./runtime/images.js', import.meta.url));

/**
 * Serves `virtual:astro-comfyui/images` from the current image index, and `astro-comfyui/images` (the
 * page helper that imports it). The helper's export has only a `types` condition, so Node cannot resolve
 * it and Vite does not externalise it; this plugin hands Vite the file instead. That keeps the rest of
 * the package external (no `ssr.noExternal`, which made every build slower).
 */
export function vitePluginImages(getIndex: () => ImageIndex, outDir: string): Plugin {
  const generated = path.resolve(outDir) + path.sep;
  return {
    name: 'astro-comfyui:images',
    enforce: 'pre',
    // A generated image written in dev reaches the pages that show it through IMAGE_READY_EVENT
    // (dev-client.ts), swapped in place: Vite's own reload of every page that imports it is not wanted.
    hotUpdate(update) {
      if (!path.resolve(update.file).startsWith(generated)) return undefined;
      for (const mod of update.modules) this.environment.moduleGraph.invalidateModule(mod);
      return [];
    },
    // Hook filters let the bundler skip calling into JavaScript for every other module of the site.
    resolveId: {
      filter: { id: /^(virtual:astro-comfyui\/images|astro-comfyui\/images)$/ },
      handler(id) {
        if (id === VIRTUAL_IMAGES_ID) return RESOLVED_ID;
        if (id === RUNTIME_ID) return runtimeFile;
        return undefined;
      },
    },
    load: {
      filter: { id: /^\0virtual:astro-comfyui\/images$/ },
      handler(id) {
        return id === RESOLVED_ID ? getIndex().toModule() : undefined;
      },
    },
  };
}

/** After new images are written in dev, every environment (client, ssr, …) must reload the module. */
export function invalidateImagesModule(server: ViteDevServer): void {
  for (const environment of Object.values(server.environments ?? {})) {
    const mod = environment.moduleGraph.getModuleById(RESOLVED_ID);
    if (mod) environment.moduleGraph.invalidateModule(mod);
  }
}
