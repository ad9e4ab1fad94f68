import path from 'node:path';
import { listImageFiles } from './classify-images.js';
import type { Manifest } from './manifest.js';
import type { ResolvedOptions } from './options.js';
import { readPngEntry } from './png-entry.js';
import { getPngText, startsAsPng } from './png-text.js';
import { readHead } from './read-head.js';
import { keyPrefixOf, SAVE_PREFIX, type ResolvedImage } from './resolve-image.js';

export interface Orphans {
  /** Manifest entries no current post uses (a changed prompt leaves the old image behind). */
  entries: Array<{ key: string; file: string }>;
  /** PNG files in outDir that no manifest entry names, made by astro-comfyui (they carry their entry). */
  strayFiles: string[];
}

/**
 * Lists what no post uses any more. Listing only: deleting is `astro-comfyui prune`'s job. `listed` is the
 * images folder as just listed, if the caller has it.
 */
export async function findOrphans(images: ResolvedImage[], manifest: Manifest, options: ResolvedOptions, listed?: Set<string>): Promise<Orphans> {
  const used = new Set(images.map((image) => image.key));
  const entries = Object.entries(manifest.images)
    .filter(([key]) => !used.has(key))
    .map(([key, entry]) => ({ key, file: entry.file }));
  const named = new Set(Object.values(manifest.images).map((entry) => entry.file));
  const files = [...(listed ?? (await listImageFiles(options.outDir)))];
  // A file named with the key of an image a post uses is never a stray, whatever the manifest says.
  const usedPrefixes = new Set([...used].map((key) => key.slice(0, 12)));
  const candidates = files.filter((file) => file.endsWith('.png') && !named.has(file) && !usedPrefixes.has(keyPrefixOf(file) ?? ''));
  const strayFiles: string[] = [];
  for (const file of candidates.sort()) if (await madeHere(path.join(options.outDir, file))) strayFiles.push(file);
  return { entries, strayFiles };
}

/** How much of a PNG is read: what says who made it comes before the pixels (XMP, our entry, ComfyUI's graph). */
const HEAD_BYTES = 64 * 1024;

/**
 * Whether astro-comfyui made this PNG, for the image `key` when one is given: every image it writes
 * carries its entry (and key), and older ones ComfyUI's graph with the SaveImage prefix it sets. outDir
 * may be a folder the author keeps pictures of their own in (`src/assets`), even ones made with ComfyUI
 * by hand, and those are never anyone's to prune, whatever a manifest entry says.
 */
export async function madeHere(file: string, key?: string): Promise<boolean> {
  const png = await readHead(file, HEAD_BYTES);
  if (!png || !startsAsPng(png)) return false;
  const carried = readPngEntry(png);
  if (carried !== undefined) return key === undefined || carried?.key === key;
  return savedHere(getPngText(png, 'prompt'));
}

/** Whether ComfyUI's `prompt` text (the graph it ran) saved its image under astro-comfyui's prefix. */
function savedHere(graph: string | undefined): boolean {
  if (graph === undefined) return false;
  try {
    const nodes = JSON.parse(graph) as Record<string, { inputs?: { filename_prefix?: unknown } } | null>;
    return Object.values(nodes ?? {}).some((node) => String(node?.inputs?.filename_prefix ?? '').startsWith(SAVE_PREFIX));
  } catch {
    return false;
  }
}
