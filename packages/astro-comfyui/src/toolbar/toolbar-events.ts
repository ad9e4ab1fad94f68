// The toolbar's event names, shared by the server side and the app that runs in the browser (which
// imports this file and nothing else from the package).
export const EVENTS = {
  init: 'astro-comfyui:init',
  state: 'astro-comfyui:state',
  generate: 'astro-comfyui:generate',
  progress: 'astro-comfyui:progress',
  candidate: 'astro-comfyui:candidate',
  done: 'astro-comfyui:done',
  pin: 'astro-comfyui:pin',
  pinned: 'astro-comfyui:pinned',
  status: 'astro-comfyui:status',
  statusResult: 'astro-comfyui:status-result',
  start: 'astro-comfyui:start',
  stop: 'astro-comfyui:stop',
  error: 'astro-comfyui:error',
} as const;

/** The start of every route below: vite-plugin-toolbar-routes.ts has them answered before Astro's own handling. */
export const ROUTES_PREFIX = '/_astro-comfyui/';
/** Where the dev server serves candidate previews. */
export const CANDIDATE_ROUTE = '/_astro-comfyui/candidate/';
/** Where the dev server serves the committed images, for the panel. */
export const IMAGE_ROUTE = '/_astro-comfyui/image/';
/** Where the dev server relays ComfyUI's web UI and API: `<route><endpoint index>/`. */
export const COMFYUI_ROUTE = '/_astro-comfyui/comfyui/';
