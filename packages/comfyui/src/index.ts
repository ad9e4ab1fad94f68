export * from './workflows.js';
export { ComfyUIClient, createComfyUIClient, type ComfyUIClientOptions } from './comfyui-client.js';
export { ComfyUIEvents } from './comfyui-events.js';
export { findComfyUIDesktop } from './find-comfyui-desktop.js';
export { formatDuration } from './format-duration.js';
export { runPrompt, type GeneratedImage, type PromptProgress, type RunPromptOptions, type RunPromptResult } from './run-prompt.js';
export type * from './types.js';
export { silentLogger } from './types.js';
export { ComfyUISupervisor, ensureComfyUI, type ComfyUIState, type ComfyUIStatus, type EnsureComfyUIOptions, type StartCommand } from './comfyui-supervisor.js';
export {
  ComfyUIPool,
  createComfyUIPool,
  type Admission,
  type EndpointCheck,
  type ComfyUIPoolOptions,
  type EndpointReport,
  type EndpointStatus,
  type PoolEndpoint,
  type PoolJobOptions,
  type PoolJobResult,
} from './comfyui-pool.js';
