export { ComfyUIError, isComfyUIError, type ComfyUIErrorCode } from './comfyui-error.js';
export { ComfyUIClient, createComfyUIClient, type ComfyUIClientOptions } from './comfyui-client.js';
export { ComfyUIEvents } from './comfyui-events.js';
export { runPrompt, type GeneratedImage, type PromptProgress, type RunPromptOptions, type RunPromptResult } from './run-prompt.js';
export { parseComfyUIUrl } from './parse-comfyui-url.js';
export { folderForModelInput } from './model-folders.js';
export type * from './types.js';
export { silentLogger } from './types.js';
export { sd35Defaults, defaultSd35TextEncoders, type Sd35Model, type Sd35Defaults } from './sd35-models.js';
export { buildSd35Workflow, resolveSd35Settings, type Sd35Settings, type Sd35Workflow, type Sd35WorkflowInput } from './build-sd35-workflow.js';
export {
  applyWorkflowBindings,
  loadWorkflowTemplate,
  parseWorkflowTemplate,
  workflowBindingNames,
  type BindingTarget,
  type WorkflowBindingName,
  type WorkflowTemplate,
} from './workflow-template.js';
export { assertWorkflowRequirements, findMissingRequirements, readComboOptions, type MissingRequirements } from './check-workflow-requirements.js';
export { ComfyUISupervisor, ensureComfyUI, type ComfyUIState, type ComfyUIStatus, type EnsureComfyUIOptions, type StartCommand } from './comfyui-supervisor.js';
export {
  ComfyUIPool,
  createComfyUIPool,
  type ComfyUIPoolOptions,
  type EndpointReport,
  type EndpointStatus,
  type PoolEndpoint,
  type PoolJobOptions,
  type PoolJobResult,
} from './comfyui-pool.js';
export { checkPng, MAX_PNG_PIXELS, type PngInfo } from './check-png.js';
export { FRESH_RUN_INPUT, withFreshRun } from './with-fresh-run.js';
