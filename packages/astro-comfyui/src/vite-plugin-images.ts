import type { Plugin, ViteDevServer } from 'vite';
import type { ImageIndex } from './image-index.js';

export const VIRTUAL_IMAGES_ID = 'virtual:astro-comfyui/images';
const RESOLVED_ID = `\0${VIRTUAL_IMAGES_ID}`;

/** Serves `virtual:astro-comfyui/images` from the current image index. */
export function vitePluginImages(getIndex: () => ImageIndex): Plugin {
  return {
    name: 'astro-comfyui:images',
    resolveId(id) {
      return id === VIRTUAL_IMAGES_ID ? RESOLVED_ID : undefined;
    },
    load(id) {
      return id === RESOLVED_ID ? getIndex().toModule() : undefined;
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
