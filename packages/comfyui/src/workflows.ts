// The workflow half of the package (builders, user workflows, preflight) without the client, supervisor
// and pool, so code that only resolves prompts does not load undici or execa.
export { ComfyUIError, isComfyUIError, type ComfyUIErrorCode } from './comfyui-error.js';
export { formatDuration } from './format-duration.js';
export { sd35Defaults, defaultSd35TextEncoders, type Sd35Model, type Sd35Defaults } from './sd35-models.js';
export {
  buildSd35Workflow,
  resolveSd35Model,
  resolveSd35Settings,
  type Sd35ModelSettings,
  type Sd35Settings,
  type Sd35Workflow,
  type Sd35WorkflowInput,
} from './build-sd35-workflow.js';
export {
  applyWorkflowBindings,
  loadWorkflowTemplate,
  parseWorkflowTemplate,
  workflowBindingNames,
  type BindingTarget,
  type WorkflowBindingName,
  type WorkflowTemplate,
} from './workflow-template.js';
export {
  assertWorkflowRequirements,
  describeMissingRequirements,
  findMissingRequirements,
  type MissingRequirements,
} from './check-workflow-requirements.js';
export { readComboOptions } from './read-combo-options.js';
export { folderForModelInput } from './model-folders.js';
export type { ApiNode, ApiWorkflow, NodeInfo, ObjectInfo } from './types.js';
export { checkPng, MAX_DOWNLOAD_BYTES, MAX_PNG_PIXELS, type PngInfo } from './check-png.js';
export { FRESH_RUN_INPUT, withFreshRun } from './with-fresh-run.js';
export { DEFAULT_JOB_DEADLINE_MS } from './run-prompt.js';
export { isLeaveRunning, LeaveRunning } from './leave-running.js';
export { isLocalComfyUIUrl, parseComfyUIUrl, redactComfyUIUrl, splitComfyUIUrl, type ComfyUIAddress } from './parse-comfyui-url.js';
