import type { Plugin } from 'vite';
import { ROUTES_PREFIX } from './toolbar-events.js';

/**
 * Puts the toolbar's routes (`/_astro-comfyui/…`, registered by toolbar-server.ts in `astro:server:setup`)
 * first in the dev server's middleware stack. Astro puts its own base and trailing-slash handling there
 * once every plugin's configureServer has run: with `base: '/docs'` it answers a page request outside
 * the base (ComfyUI's UI in the Advanced tab's frame) with its 404, and with `trailingSlash` set it
 * refuses the base's paths that end (or do not end) with a slash. The routes take no part in the site's
 * URLs, so they are answered before any of that, from a post hook that runs after Astro's.
 */
export function vitePluginToolbarRoutes(): Plugin {
  return {
    name: 'astro-comfyui:toolbar-routes',
    configureServer: {
      order: 'post',
      handler: (server) => () => {
        // In place, as Astro moves its own: the array is the one connect reads at each request.
        const stack = server.middlewares.stack;
        const ours = stack.filter((layer) => `${layer.route}/`.startsWith(ROUTES_PREFIX));
        for (const layer of ours) stack.splice(stack.indexOf(layer), 1);
        stack.unshift(...ours);
      },
    },
  };
}
