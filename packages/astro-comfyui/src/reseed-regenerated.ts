import { randomInt } from 'node:crypto';
import path from 'node:path';
import type { Logger } from '@astro-comfyui/comfyui';
import type { WorkflowTemplate } from '@astro-comfyui/comfyui/workflows';
import type { ResolvedOptions } from './options.js';
import { pinImageIntoPost, pinTargetOf } from './pin-image-into-post.js';
import { resolveImage, type ResolvedImage } from './resolve-image.js';
import type { SyncContext } from './sync-context.js';

/**
 * `regenerate: true` asks for a new image: each such prompt gets a new random seed (and so a new key)
 * here, and once generated, the seed is written into the post in place of `regenerate: true`, so the
 * next builds reproduce that image. Frozen mode (CI) never regenerates.
 */
export async function reseedRegenerated(
  images: ResolvedImage[],
  options: ResolvedOptions,
  context: Pick<SyncContext, 'logger' | 'dryRun'>,
  template: WorkflowTemplate | undefined,
): Promise<ResolvedImage[]> {
  const asked = images.filter((image) => image.request.regenerate);
  if (asked.length === 0 || context.dryRun) return images;
  if (options.mode === 'frozen') {
    context.logger.warn(
      `regenerate: true is ignored in frozen mode (CI) for ${asked.map((i) => `${i.request.post} › ${i.request.field}`).join(', ')}: regenerate where ComfyUI runs.`,
    );
    return images;
  }
  return images.map((image) => (image.request.regenerate ? resolveImage({ ...image.request, seed: randomInt(2 ** 32) }, options, template) : image));
}

/** Writes the seed a regenerated image was made with into its post, replacing `regenerate: true`. */
export async function recordSeed(image: ResolvedImage, options: ResolvedOptions, logger: Logger): Promise<void> {
  const { request } = image;
  const keep = `write seed: ${image.seed} there and remove regenerate: true to keep this image`;
  const { regenerate: _, post: _p, field: _f, index: _i, ...prompt } = request;
  try {
    await pinImageIntoPost(path.join(options.root, request.post), pinTargetOf(request.field, options.listField), { ...prompt, seed: image.seed });
    logger.info(`${request.post} › ${request.field}: recorded seed ${image.seed} in place of regenerate: true, so later builds keep this image.`);
  } catch (error) {
    logger.warn(
      `${request.post} › ${request.field} was regenerated with seed ${image.seed}, but the post could not be updated (${(error as Error).message}); ${keep}.`,
    );
  }
}
