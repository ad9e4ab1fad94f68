import type { ResolvedImage } from './resolve-image.js';
import type { SyncContext } from './sync-context.js';

/** Tells the caller (dev: the page) that an image file is written; its failure is logged, never fatal. */
export async function notifyReady(context: Pick<SyncContext, 'onImageReady' | 'logger'>, image: ResolvedImage, placeholder: boolean): Promise<void> {
  try {
    await context.onImageReady?.(image, { placeholder });
  } catch (error) {
    context.logger.warn(`${image.fileName} is written, but updating the page failed: ${(error as Error).message}`);
  }
}
