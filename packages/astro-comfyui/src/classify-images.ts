import { readdir } from 'node:fs/promises';
import { readManifest, type Manifest } from './manifest.js';
import type { ResolvedOptions } from './options.js';
import type { ResolvedImage } from './resolve-image.js';

export type ImageState = 'ready' | 'placeholder' | 'missing';

/** The file names in outDir (none while it does not exist yet). */
export async function listImageFiles(outDir: string): Promise<Set<string>> {
  return new Set(await readdir(outDir).catch(() => [] as string[]));
}

/** Which images are committed and real, committed placeholders, or missing; `listed` is the folder as just listed, if the caller has it. */
export async function classifyImages(
  images: ResolvedImage[],
  options: ResolvedOptions,
  manifest?: Manifest,
  listed?: Set<string>,
): Promise<Map<string, ImageState>> {
  const m = manifest ?? (await readManifest(options.manifestFile));
  const files = listed ?? (await listImageFiles(options.outDir));
  const states = new Map<string, ImageState>();
  for (const image of images) {
    const entry = m.images[image.key];
    states.set(image.key, !entry || !files.has(entry.file) ? 'missing' : entry.placeholder ? 'placeholder' : 'ready');
  }
  return states;
}
