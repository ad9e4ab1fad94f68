export { ComfyUIError, isComfyUIError, type ComfyUIErrorCode } from './comfyui-error.js';
export { ComfyUIClient, createComfyUIClient, type ComfyUIClientOptions } from './comfyui-client.js';
export { ComfyUIEvents } from './comfyui-events.js';
export { runPrompt, type GeneratedImage, type PromptProgress, type RunPromptOptions, type RunPromptResult } from './run-prompt.js';
export { parseComfyUIUrl } from './parse-comfyui-url.js';
export { folderForModelInput } from './model-folders.js';
export type * from './types.js';
export { silentLogger } from './types.js';
