import type { ApiWorkflow } from './types.js';
import { isObject } from './is-object.js';
import { folderForModelInput } from './model-folders.js';

interface ComfyErrorBody {
  error?: { type?: string; message?: string; details?: string };
  node_errors?: Record<string, unknown>;
}

interface NodeError {
  errors?: Array<{ type?: string; message?: string; details?: string; extra_info?: { input_name?: string; received_value?: unknown } }>;
  class_type?: string;
}

/**
 * Turns ComfyUI's 400 answer into one readable message. The top-level `details` only lists the output
 * nodes' own reasons (often empty), so the useful part comes from `node_errors`.
 */
export function describeValidationError(url: string, prompt: ApiWorkflow, body: ComfyErrorBody | undefined): string {
  // The answer is untrusted: anything not shaped as ComfyUI's is left out, never a TypeError here.
  const lines: string[] = [];
  const nodeErrors = isObject(body?.node_errors) ? body.node_errors : {};
  for (const [nodeId, raw] of Object.entries(nodeErrors)) {
    if (!isObject(raw)) continue;
    const nodeError = raw as NodeError;
    const classType = text(nodeError.class_type) ?? prompt[nodeId]?.class_type ?? 'node';
    for (const error of Array.isArray(nodeError.errors) ? nodeError.errors : []) {
      if (!isObject(error)) continue;
      const input = text(error.extra_info?.input_name);
      const folder = input ? folderForModelInput(input, classType) : undefined;
      if (error.type === 'value_not_in_list' && folder) {
        lines.push(
          `- ${classType} (node ${nodeId}): "${String(error.extra_info?.received_value)}" is not installed. Put it in ComfyUI/models/${folder}/ or choose another file.`,
        );
      } else {
        const details = text(error.details);
        lines.push(`- ${classType} (node ${nodeId}): ${text(error.message) ?? 'invalid'}${details ? ` (${details})` : ''}`);
      }
    }
  }
  const top = isObject(body?.error) ? body.error : undefined;
  const message = text(top?.message);
  const details = text(top?.details);
  if (lines.length === 0) {
    const hint = top?.type === 'invalid_prompt' && message?.includes('does not exist') ? ' Install the custom node that provides it, or update ComfyUI.' : '';
    return `ComfyUI at ${url} rejected the workflow: ${message ?? 'invalid prompt'}${details ? ` (${details})` : ''}.${hint}`;
  }
  return `ComfyUI at ${url} rejected the workflow (${message ?? 'validation failed'}):\n${lines.join('\n')}`;
}

/** A text of the answer, or undefined for anything else. */
function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
