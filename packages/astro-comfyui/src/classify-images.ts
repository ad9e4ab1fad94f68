import { readdir } from 'node:fs/promises';
import { readManifest, type Manifest } from './manifest.js';
import type { ResolvedOptions } from './options.js';
import type { ResolvedImage } from './resolve-image.js';

export type ImageState = 'ready' | 'placeholder' | 'missing';

/** Which images are committed and real, committed placeholders, or missing. */
export async function classifyImages(images: ResolvedImage[], options: ResolvedOptions, manifest?: Manifest): Promise<Map<string, ImageState>> {
  const m = manifest ?? (await readManifest(options.manifestFile));
  const files = new Set(await readdir(options.outDir).catch(() => [] as string[]));
  const states = new Map<string, ImageState>();
  for (const image of images) {
    const entry = m.images[image.key];
    states.set(image.key, !entry || !files.has(entry.file) ? 'missing' : entry.placeholder ? 'placeholder' : 'ready');
  }
  return states;
}

