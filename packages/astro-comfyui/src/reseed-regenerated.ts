import { randomInt } from 'node:crypto';
import path from 'node:path';
import type { Logger } from '@astro-comfyui/comfyui';
import type { WorkflowTemplate } from '@astro-comfyui/comfyui/workflows';
import { classifyImages } from './classify-images.js';
import type { Manifest } from './manifest.js';
import type { ResolvedOptions } from './options.js';
import { pinImageIntoPost, pinTargetOf } from './pin-image-into-post.js';
import { resolveImage, type ResolvedImage } from './resolve-image.js';
import type { SyncContext, SyncSummary } from './sync-context.js';

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

/**
 * When no ComfyUI can make images now, each `regenerate: true` prompt goes back to the image its post
 * has (as in frozen mode): as a new placeholder under a new random seed at every run, it would hide a
 * real image and leave one more file behind each time. `originals` maps each reseeded image to the one
 * its post names; the summary is changed in place. `details` (which endpoint says what) is said too when
 * no other image is left to say it.
 */
export async function putOffRegenerated(
  summary: SyncSummary,
  originals: Map<ResolvedImage, ResolvedImage>,
  manifest: Manifest,
  files: Set<string>,
  options: ResolvedOptions,
  context: Pick<SyncContext, 'logger'>,
  reason: string,
  details: string,
): Promise<void> {
  const asked = summary.todo.filter((image) => originals.has(image));
  if (asked.length === 0) return;
  const back = new Map(asked.map((image) => [image, originals.get(image)!]));
  // Keys that images other than these already stand for: such an original is counted there.
  const known = new Set(summary.images.filter((image) => !back.has(image)).map((image) => image.key));
  const states = await classifyImages([...back.values()], options, manifest, files);
  summary.images = summary.images.map((image) => back.get(image) ?? image);
  summary.todo = summary.todo.filter((image) => !back.has(image));
  for (const original of back.values()) {
    if (known.has(original.key)) continue;
    known.add(original.key);
    const state = states.get(original.key)!;
    if (state === 'ready') summary.ready++;
    else {
      // Made, or a placeholder, as any image without a file; a committed placeholder stays.
      summary.todo.push(original);
      if (state === 'missing') summary.missing.add(original.key);
    }
  }
  summary.total = new Set(summary.images.map((image) => image.key)).size;
  // The others have no image yet (the seed was taken out with it): they are listed with the missing ones.
  const keeping = [...back.values()].filter((original) => states.get(original.key) !== 'missing');
  if (keeping.length === 0) return;
  const names = keeping.map((image) => `${image.request.post} › ${image.request.field}`).join(', ');
  context.logger.warn(
    `regenerate: true waits, as ${reason}: ${names} ${keeping.length > 1 ? 'keep the images they have' : 'keeps the image it has'} until a ComfyUI can make a new one.${
      summary.todo.length === 0 ? `\n${details}` : ''
    }`,
  );
}
