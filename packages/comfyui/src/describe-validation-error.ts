import type { ApiWorkflow } from './types.js';
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
  const lines: string[] = [];
  for (const [nodeId, raw] of Object.entries(body?.node_errors ?? {})) {
    const nodeError = raw as NodeError;
    const classType = nodeError.class_type ?? prompt[nodeId]?.class_type ?? 'node';
    for (const error of nodeError.errors ?? []) {
      const input = error.extra_info?.input_name;
      const folder = input ? folderForModelInput(input) : undefined;
      if (error.type === 'value_not_in_list' && folder) {
        lines.push(
          `- ${classType} (node ${nodeId}): "${String(error.extra_info?.received_value)}" is not installed. Put it in ComfyUI/models/${folder}/ or choose another file.`,
        );
      } else {
        lines.push(`- ${classType} (node ${nodeId}): ${error.message ?? 'invalid'}${error.details ? ` (${error.details})` : ''}`);
      }
    }
  }
  const top = body?.error;
  if (lines.length === 0) {
    const hint =
      top?.type === 'invalid_prompt' && top.message?.includes('does not exist') ? ' Install the custom node that provides it, or update ComfyUI.' : '';
    return `ComfyUI at ${url} rejected the workflow: ${top?.message ?? 'invalid prompt'}${top?.details ? ` (${top.details})` : ''}.${hint}`;
  }
  return `ComfyUI at ${url} rejected the workflow (${top?.message ?? 'validation failed'}):\n${lines.join('\n')}`;
}
