import path from 'node:path';
import type { Logger } from '@astro-comfyui/comfyui';
import type { WorkflowBindingName, WorkflowTemplate } from '@astro-comfyui/comfyui/workflows';
import type { ResolvedImage } from './resolve-image.js';

/**
 * What the posts and options ask for that the author's workflow has no binding for. Each such value is part
 * of the image's key, so changing it makes the image again, but it never reaches the graph: the picture
 * stays the same. One message per binding missing, saying how to add it; none when all are bound.
 */
export function findUnboundValues(template: WorkflowTemplate, images: ResolvedImage[], root: string): Array<{ binding: WorkflowBindingName; message: string }> {
  const file = path.relative(root, template.source) || template.source;
  const bound = (name: WorkflowBindingName) => (template.bindings[name]?.length ?? 0) > 0;
  const notes: Array<{ binding: WorkflowBindingName; message: string }> = [];
  if (images.length === 0) return notes;
  if (!bound('seed')) {
    notes.push({
      binding: 'seed',
      message: `${file} binds no "seed": every image of a prompt is the same picture, whatever its seed, and regenerate: true cannot change it. Bind the sampler's seed in workflow.bindings, e.g. seed: "<KSampler node id>.inputs.seed".`,
    });
  }
  const negative = images.find((image) => image.negative !== '');
  if (negative && !bound('negative')) {
    notes.push({
      binding: 'negative',
      message: `${file} binds no "negative", so negative prompts are ignored (${negative.request.post} › ${negative.request.field} has "${negative.negative.slice(0, 60)}"). Bind the negative prompt's text in workflow.bindings, e.g. negative: "<CLIPTextEncode node id>.inputs.text".`,
    });
  }
  const sizes = new Set(images.map((image) => `${image.width}x${image.height}`));
  if (sizes.size > 1 && !(bound('width') && bound('height'))) {
    notes.push({
      binding: 'width',
      message: `${file} binds no "width" and "height", so every format (${[...sizes].sort().join(', ')}) makes the size the workflow has. Bind them to its empty latent image in workflow.bindings, e.g. width: "<node id>.inputs.width".`,
    });
  }
  return notes;
}

/** Said once per process and workflow file: dev syncs at every save. */
const warned = new Set<string>();

/** Warns about each value findUnboundValues finds, once per binding (a dev save's example post differs). */
export function warnUnboundValues(template: WorkflowTemplate, images: ResolvedImage[], root: string, logger: Pick<Logger, 'warn'>): void {
  for (const { binding, message } of findUnboundValues(template, images, root)) {
    const key = `${template.source}\0${binding}`;
    if (warned.has(key)) continue;
    warned.add(key);
    logger.warn(message);
  }
}
