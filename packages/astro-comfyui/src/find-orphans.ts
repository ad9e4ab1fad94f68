import { listImageFiles } from './classify-images.js';
import type { Manifest } from './manifest.js';
import type { ResolvedOptions } from './options.js';
import type { ResolvedImage } from './resolve-image.js';

export interface Orphans {
  /** Manifest entries no current post uses (a changed prompt leaves the old image behind). */
  entries: Array<{ key: string; file: string }>;
  /** PNG files in outDir that no manifest entry names. */
  strayFiles: string[];
}

/** Lists what no post uses any more. Listing only: deleting is `astro-comfyui prune`'s job. */
export async function findOrphans(images: ResolvedImage[], manifest: Manifest, options: ResolvedOptions): Promise<Orphans> {
  const used = new Set(images.map((image) => image.key));
  const entries = Object.entries(manifest.images)
    .filter(([key]) => !used.has(key))
    .map(([key, entry]) => ({ key, file: entry.file }));
  const named = new Set(Object.values(manifest.images).map((entry) => entry.file));
  const files = [...(await listImageFiles(options.outDir))];
  // A file named with the key of an image a post uses is never a stray, whatever the manifest says.
  const usedPrefixes = new Set([...used].map((key) => key.slice(0, 12)));
  const strayFiles = files
    .filter((file) => file.endsWith('.png') && !named.has(file) && !usedPrefixes.has(/-([0-9a-f]{12})\.png$/.exec(file)?.[1] ?? ''))
    .sort();
  return { entries, strayFiles };
}
