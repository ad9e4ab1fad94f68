// What users import from 'astro-comfyui'. Frontmatter schemas live in 'astro-comfyui/schema', the page
// helper in 'astro-comfyui/images'.
export { comfyui as default, comfyui } from './integration.js';
export type { UserOptions } from './user-options.js';
export { AstroComfyUIError, type AstroComfyUIErrorCode } from './astro-comfyui-error.js';
