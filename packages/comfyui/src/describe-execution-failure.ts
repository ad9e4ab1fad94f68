import { ComfyUIError } from './comfyui-error.js';
import type { HistoryEntry } from './types.js';

/** Builds the error for a prompt whose history says it failed or was interrupted. */
export function describeExecutionFailure(url: string, promptId: string, entry: HistoryEntry): ComfyUIError {
  const messages = entry.status?.messages ?? [];
  const interrupted = messages.find(([type]) => type === 'execution_interrupted')?.[1];
  if (interrupted) {
    return new ComfyUIError(
      'INTERRUPTED',
      `Generation ${promptId} was interrupted on ComfyUI at ${url} (at node ${String(interrupted.node_id)} ${String(interrupted.node_type)}). Someone cancelled it in ComfyUI or another program called /interrupt; run the build again.`,
      { url, details: interrupted },
    );
  }
  const error = messages.find(([type]) => type === 'execution_error')?.[1] ?? {};
  const nodeType = String(error.node_type ?? 'unknown node');
  const exception = String(error.exception_message ?? 'unknown error').trim();
  let hint = '';
  if (exception.includes('clip input is invalid: None')) {
    hint =
      ' The checkpoint has no text encoders inside: load them separately (CLIPLoader / TripleCLIPLoader with clip_l, clip_g and t5xxl files) or use a checkpoint that embeds them.';
  } else if (/out of memory/i.test(exception)) {
    hint = ' The GPU ran out of memory: use a smaller size or batch, an fp8 checkpoint, or start ComfyUI with --lowvram.';
  } else if (/^Model in folder '([^']+)' with filename '.*' not found\.?$/.test(exception)) {
    // V3 loaders (TripleCLIPLoader) accept any file name at submit and fail here instead (0.3.64).
    const folder = /^Model in folder '([^']+)'/.exec(exception)![1];
    hint = ` Put the file in ComfyUI/models/${folder}/ (ComfyUI sees new files without a restart), or change the file name in the astro-comfyui options.`;
  }
  // Python messages often end with a full stop already: never print two.
  const sentence = /[.!?]$/.test(exception) ? exception : `${exception}.`;
  return new ComfyUIError(
    'EXECUTION_FAILED',
    `ComfyUI at ${url} failed to run ${nodeType} (node ${String(error.node_id)}) for ${promptId}: ${sentence}${hint}`,
    {
      url,
      details: { nodeId: error.node_id, nodeType, exceptionType: error.exception_type, exceptionMessage: exception },
    },
  );
}
