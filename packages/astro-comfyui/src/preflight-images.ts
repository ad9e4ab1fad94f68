import type { ComfyUIPool } from '@astro-comfyui/comfyui';
import { assertWorkflowRequirements, isComfyUIError } from '@astro-comfyui/comfyui/workflows';
import { AstroComfyUIError } from './astro-comfyui-error.js';
import type { ResolvedOptions } from './options.js';
import type { ResolvedImage } from './resolve-image.js';

/**
 * Checks the graphs against `/object_info` of an endpoint that answers, before the first job: one error
 * lists every missing node type and model file with the folder it belongs in.
 */
export async function preflightImages(pool: ComfyUIPool, images: ResolvedImage[], options: ResolvedOptions): Promise<void> {
  const found = await pool.objectInfo();
  if (!found) return;
  try {
    // One check per distinct graph shape is enough; the first image of each workflow id stands for the rest.
    const seen = new Set<string>();
    for (const image of images) {
      if (seen.has(image.workflowId)) continue;
      seen.add(image.workflowId);
      assertWorkflowRequirements(image.buildWorkflow(), found.info, found.url);
    }
  } catch (error) {
    if (isComfyUIError(error, 'MISSING_NODES_OR_MODELS')) {
      const fix = options.workflow
        ? 'Install what is listed or change the workflow file.'
        : 'Install the files listed, or set model.checkpoint / model.textEncoders in the astro-comfyui options to files you have.';
      throw new AstroComfyUIError('GENERATION_FAILED', error.message, fix, { cause: error });
    }
    throw error;
  }
}
