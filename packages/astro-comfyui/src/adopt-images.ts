import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@astro-comfyui/comfyui';
import { checkPng } from '@astro-comfyui/comfyui/workflows';
import { cacheDirectory } from './cache-directory.js';
import { listImageFiles } from './classify-images.js';
import { findEntryProblems, updateManifest, type Manifest, type ManifestEntry } from './manifest.js';
import type { ResolvedOptions } from './options.js';
import { readPngEntry } from './png-entry.js';
import { getPngText } from './png-text.js';
import { keyPrefixOf, type ResolvedImage } from './resolve-image.js';
import { manifestEntryFor } from './write-image.js';

/**
 * The image files are the source of truth the manifest can be rebuilt from. An image a post needs
 * whose manifest entry is gone (a merge resolved with one side, a hand edit) but whose file is there is
 * re-adopted after checking it: a whole PNG of the right size whose own metadata carries the full key.
 * With `write`, the adopted entries are saved (in every mode, CI included); otherwise only returned.
 * `files` is the images folder as just listed, if the caller has it.
 */
export async function adoptImages(
  images: ResolvedImage[],
  options: ResolvedOptions,
  manifest: Manifest,
  { write, logger, files: listed }: { write: boolean; logger?: Pick<Logger, 'warn'>; files?: Set<string> },
): Promise<{ manifest: Manifest; adopted: ResolvedImage[] }> {
  const files = listed ?? (await listImageFiles(options.outDir));
  // Only an image with no entry, or no file for it, can be adopted: most runs have none.
  const unrecorded = images.filter((image) => {
    const entry = manifest.images[image.key];
    return !entry || !files.has(entry.file);
  });
  if (unrecorded.length === 0) return { manifest, adopted: [] };
  const byKeyPrefix = new Map<string, string[]>();
  for (const file of files) {
    const prefix = keyPrefixOf(file);
    if (prefix) byKeyPrefix.set(prefix, [...(byKeyPrefix.get(prefix) ?? []), file]);
  }
  const found = new Map<string, { image: ResolvedImage; entry: ManifestEntry }>();
  for (const image of unrecorded) {
    if (found.has(image.key)) continue;
    for (const file of byKeyPrefix.get(image.key.slice(0, 12)) ?? []) {
      const adopted = await readAdoptableEntry(path.join(options.outDir, file), image);
      if (adopted) {
        found.set(image.key, { image, entry: adopted });
        break;
      }
    }
  }
  if (found.size === 0) return { manifest, adopted: [] };
  const apply = (m: Manifest) => {
    for (const [key, { entry }] of found) if (!m.images[key] || !files.has(m.images[key]!.file)) m.images[key] = entry;
  };
  let result: Manifest;
  if (write) {
    result = await updateManifest(options.manifestFile, cacheDirectory(options), apply);
    logger?.warn(
      `Re-adopted ${found.size} image${found.size > 1 ? 's' : ''} whose entries were missing from ${path.relative(options.root, options.manifestFile)} (a merge that kept one side?): ${[...found.values()].map((f) => f.entry.file).join(', ')}. Commit the manifest.`,
    );
  } else {
    result = structuredClone(manifest);
    apply(result);
  }
  return { manifest: result, adopted: [...found.values()].map((f) => f.image) };
}

/** The manifest entry an image file carries, when the file is a valid image of `image`; else undefined. */
export async function readAdoptableEntry(file: string, image: ResolvedImage): Promise<ManifestEntry | undefined> {
  const png = await readFile(file).catch(() => undefined);
  if (!png) return undefined;
  let size: { width: number; height: number };
  try {
    size = checkPng(png, image.madeSize);
  } catch {
    return undefined;
  }
  const name = path.basename(file);
  const carried = readPngEntry(png);
  if (carried !== undefined) {
    if (carried === null) return undefined;
    const entry = { ...carried.entry, file: name, posts: [image.request.post] } as unknown as ManifestEntry;
    return carried.key === image.key && findEntryProblems(image.key, entry).length === 0 ? entry : undefined;
  }
  // Files written before images carried their entry have only ComfyUI's own `prompt` graph: adopt one
  // whose graph has this image's text and seed (a placeholder has no graph, so it is never adopted).
  const graph = getPngText(png, 'prompt');
  if (graph === undefined || !graphMakes(graph, image)) return undefined;
  const made = { comfyuiVersion: null, created: (await stat(file)).mtime.toISOString(), durationMs: 0, placeholder: false };
  return { ...manifestEntryFor(image, made), ...size, file: name };
}

function graphMakes(graph: string, image: ResolvedImage): boolean {
  let nodes: Record<string, { inputs?: Record<string, unknown> }>;
  try {
    nodes = JSON.parse(graph) as typeof nodes;
  } catch {
    return false;
  }
  const inputs = Object.values(nodes ?? {}).map((node) => node?.inputs ?? {});
  return inputs.some((i) => i.seed === image.seed || i.noise_seed === image.seed) && inputs.some((i) => i.text === image.positive);
}
