import { readFile } from 'node:fs/promises';
import { ComfyUIError } from './comfyui-error.js';
import type { ApiWorkflow } from './types.js';

/** The values a user workflow can receive from the integration. */
export const workflowBindingNames = [
  'prompt',
  'negative',
  'seed',
  'width',
  'height',
  'steps',
  'cfg',
  'sampler',
  'scheduler',
  'shift',
  'batchSize',
  'filenamePrefix',
] as const;
export type WorkflowBindingName = (typeof workflowBindingNames)[number];

export interface BindingTarget {
  nodeId: string;
  input: string;
}

/** A user-supplied API-format workflow with named bindings, validated once when loaded. */
export interface WorkflowTemplate {
  source: string;
  workflow: ApiWorkflow;
  bindings: Partial<Record<WorkflowBindingName, BindingTarget[]>>;
}

/**
 * Validates an API-format workflow and its bindings (`{ prompt: "6.inputs.text", seed: ["3.inputs.seed"] }`).
 * `source` names the file in error messages.
 */
export function parseWorkflowTemplate(json: string | unknown, bindings: Record<string, string | string[]>, source = 'workflow'): WorkflowTemplate {
  let workflow: unknown = json;
  if (typeof json === 'string') {
    try {
      workflow = JSON.parse(json);
    } catch (cause) {
      throw invalid(`${source} is not valid JSON (${(cause as Error).message}). Export it from ComfyUI with "Save (API Format)".`, cause);
    }
  }
  if (typeof workflow !== 'object' || workflow === null || Array.isArray(workflow)) {
    throw invalid(`${source} must be a JSON object of nodes. Export it from ComfyUI with "Save (API Format)".`);
  }
  const record = workflow as Record<string, unknown>;
  if (Array.isArray(record.nodes) && Array.isArray(record.links)) {
    throw invalid(`${source} is a UI-format workflow (it has "nodes" and "links"). Export it from ComfyUI with "Save (API Format)" instead.`);
  }
  for (const [id, node] of Object.entries(record)) {
    const n = node as { class_type?: unknown; inputs?: unknown };
    if (typeof n !== 'object' || n === null || typeof n.class_type !== 'string' || typeof n.inputs !== 'object' || n.inputs === null) {
      throw invalid(`${source}: node "${id}" needs a "class_type" string and an "inputs" object. Export the workflow with "Save (API Format)".`);
    }
  }
  const api = record as ApiWorkflow;
  const parsed: WorkflowTemplate['bindings'] = {};
  for (const [name, targets] of Object.entries(bindings)) {
    if (!(workflowBindingNames as readonly string[]).includes(name)) {
      throw invalid(`${source}: unknown binding "${name}". Bindings can be: ${workflowBindingNames.join(', ')}.`);
    }
    parsed[name as WorkflowBindingName] = (Array.isArray(targets) ? targets : [targets]).map((target) => {
      const match = /^([^.]+)\.inputs\.([^.]+)$/.exec(target);
      if (!match) throw invalid(`${source}: binding "${name}" → "${target}" must look like "<nodeId>.inputs.<inputName>", e.g. "6.inputs.text".`);
      const [, nodeId, input] = match as unknown as [string, string, string];
      const node = Object.hasOwn(api, nodeId) ? api[nodeId] : undefined;
      if (!node) throw invalid(`${source}: binding "${name}" points at node "${nodeId}", which is not in the workflow.`);
      if (!Object.hasOwn(node.inputs, input)) {
        throw invalid(
          `${source}: binding "${name}" points at input "${input}" of node ${nodeId} (${node.class_type}), which has: ${Object.keys(node.inputs).join(', ')}.`,
        );
      }
      return { nodeId, input };
    });
  }
  if (!parsed.prompt) throw invalid(`${source}: a "prompt" binding is required so the post's prompt reaches the workflow.`);
  const saves = Object.keys(api).filter((id) => api[id]!.class_type === 'SaveImage');
  if (saves.length === 0) throw invalid(`${source} has no SaveImage node; add one so ComfyUI writes the image.`);
  // Which one is the post's image (a hires workflow saves the base image and the upscaled one) is the
  // author's to say: picking one silently could commit the wrong picture.
  if (saves.length > 1) {
    throw invalid(
      `${source} has ${saves.length} SaveImage nodes (${saves.join(', ')}); keep one, the image the post shows, and turn the others into PreviewImage nodes.`,
    );
  }
  return { source, workflow: api, bindings: parsed };
}

export async function loadWorkflowTemplate(file: string, bindings: Record<string, string | string[]>): Promise<WorkflowTemplate> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw invalid(`Cannot read the workflow file ${file}: ${(cause as Error).message}.`, cause);
  }
  return parseWorkflowTemplate(text, bindings, file);
}

/** Returns a copy of the template's workflow with the bound values filled in. */
export function applyWorkflowBindings(template: WorkflowTemplate, values: Partial<Record<WorkflowBindingName, string | number>>): ApiWorkflow {
  const workflow = structuredClone(template.workflow);
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    for (const target of template.bindings[name as WorkflowBindingName] ?? []) workflow[target.nodeId]!.inputs[target.input] = value;
  }
  return workflow;
}

function invalid(message: string, cause?: unknown): ComfyUIError {
  return new ComfyUIError('INVALID_WORKFLOW', message, cause === undefined ? {} : { cause });
}
