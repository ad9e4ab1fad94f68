import path from 'node:path';
import type { Logger } from '@astro-comfyui/comfyui';
import { cacheDirectory } from './cache-directory.js';
import { updateManifest, type ManifestEntry } from './manifest.js';
import type { ResolvedOptions } from './options.js';
import type { ResolvedImage } from './resolve-image.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** Commits one image: the PNG (atomically) first, then its manifest entry, so an entry never names a missing file. */
export async function writeImage(
  image: ResolvedImage,
  png: Buffer,
  options: ResolvedOptions,
  meta: Pick<ManifestEntry, 'placeholder' | 'durationMs' | 'comfyuiVersion'>,
  logger?: Pick<Logger, 'info'>,
): Promise<void> {
  await writeFileAtomic(path.join(options.outDir, image.fileName), png);
  await updateManifest(options.manifestFile, cacheDirectory(options), (manifest) => {
    const previous = manifest.images[image.key];
    manifest.images[image.key] = {
      file: image.fileName,
      posts: [...new Set([...(previous?.posts ?? []), image.request.post])].sort(),
      prompt: image.positive,
      negative: image.negative,
      seed: image.seed,
      width: image.width,
      height: image.height,
      workflow: image.workflowId,
      model: image.model,
      comfyuiVersion: meta.comfyuiVersion,
      created: new Date().toISOString(),
      durationMs: Math.round(meta.durationMs),
      placeholder: meta.placeholder,
    };
  }, logger && ((message) => logger.info(`Waiting: ${message}.`)));
}
