export { comfyui as default, comfyui } from './integration.js';
export { AstroComfyUIError, type AstroComfyUIErrorCode } from './astro-comfyui-error.js';
export { resolveOptions, optionsSchema, defaultFormats, type ResolvedOptions, type UserOptions } from './options.js';
export { imagePromptSchema, imagePromptListSchema, imagePromptObjectSchema } from './frontmatter-schema.js';
export { scanPosts, type ImageRequest, type ScanProblem } from './scan-posts.js';
export { collectPostImages, assertNoProblems } from './collect-post-images.js';
export { resolveImage, type ResolvedImage } from './resolve-image.js';
export { readManifest, type Manifest, type ManifestEntry } from './manifest.js';
export { syncImages, classifyImages, type SyncSummary } from './sync-images.js';
