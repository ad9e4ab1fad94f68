import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@astro-comfyui/comfyui';
import { checkPng } from '@astro-comfyui/comfyui/workflows';
import { cacheDirectory } from './cache-directory.js';
import { listImageFiles } from './classify-images.js';
import { findEntryProblems, updateManifest, type Manifest, type ManifestEntry } from './manifest.js';
import type { ResolvedOptions } from './options.js';
import { readPngEntry } from './png-entry.js';
import { PNG_HEAD_BYTES, readHead } from './read-head.js';
import { getPngText } from './png-text.js';
import { keyPrefixOf, type ResolvedImage } from './resolve-image.js';
import { manifestEntryFor } from './write-image.js';

/**
 * The image files are the source of truth the manifest can be rebuilt from. An image a post needs
 * whose manifest entry is gone (a merge resolved with one side, a hand edit) but whose file is there is
 * re-adopted after checking it: a whole PNG of the right size whose own metadata carries the full key.
 * So is a real image whose entry still says placeholder (the other side of a merge taken in git, where
 * both sides made the image): it is not made again. With `write`, the adopted entries are saved (in every
 * mode, CI included); otherwise only returned: `adopted` had no entry, `madeReal` were placeholders.
 * `files` is the images folder as just listed, if the caller has it.
 */
export async function adoptImages(
  images: ResolvedImage[],
  options: ResolvedOptions,
  manifest: Manifest,
  { write, logger, files: listed }: { write: boolean; logger?: Pick<Logger, 'warn'>; files?: Set<string> },
): Promise<{ manifest: Manifest; adopted: ResolvedImage[]; madeReal: ResolvedImage[] }> {
  const files = listed ?? (await listImageFiles(options.outDir));
  // Adoptable: an image with no entry or no file for it, or a placeholder (a few files read): most runs have none.
  const needsFile = (m: Manifest, key: string) => {
    const entry = m.images[key];
    return !entry || !files.has(entry.file);
  };
  const candidates = images.filter((image) => needsFile(manifest, image.key) || manifest.images[image.key]!.placeholder);
  if (candidates.length === 0) return { manifest, adopted: [], madeReal: [] };
  const byKeyPrefix = new Map<string, string[]>();
  for (const file of files) {
    const prefix = keyPrefixOf(file);
    if (prefix) byKeyPrefix.set(prefix, [...(byKeyPrefix.get(prefix) ?? []), file]);
  }
  const found = new Map<string, { image: ResolvedImage; entry: ManifestEntry; wasPlaceholder: boolean }>();
  for (const image of candidates) {
    if (found.has(image.key)) continue;
    const wasPlaceholder = !needsFile(manifest, image.key);
    for (const file of byKeyPrefix.get(image.key.slice(0, 12)) ?? []) {
      // A placeholder's own file is what it says: its head tells so without reading the pixels.
      if (wasPlaceholder && !(await carriesRealImage(path.join(options.outDir, file), image.key))) continue;
      const adopted = await readAdoptableEntry(path.join(options.outDir, file), image);
      // A placeholder is replaced only by a real image (its own file, read again, is one more placeholder).
      if (adopted && !(wasPlaceholder && adopted.placeholder)) {
        const posts = wasPlaceholder ? [...new Set([...manifest.images[image.key]!.posts, ...adopted.posts])].sort() : adopted.posts;
        found.set(image.key, { image, entry: { ...adopted, posts }, wasPlaceholder });
        break;
      }
    }
  }
  if (found.size === 0) return { manifest, adopted: [], madeReal: [] };
  const apply = (m: Manifest) => {
    for (const [key, { entry }] of found) if (needsFile(m, key) || m.images[key]!.placeholder) m.images[key] = entry;
  };
  const adopted = [...found.values()].filter((f) => !f.wasPlaceholder);
  const madeReal = [...found.values()].filter((f) => f.wasPlaceholder);
  let result: Manifest;
  if (write) {
    result = await updateManifest(options.manifestFile, cacheDirectory(options), apply);
    const manifestName = path.relative(options.root, options.manifestFile);
    const files = (list: typeof adopted) => list.map((f) => f.entry.file).join(', ');
    if (adopted.length > 0)
      logger?.warn(
        `Re-adopted ${adopted.length} image${adopted.length > 1 ? 's' : ''} whose entries were missing from ${manifestName} (a merge that kept one side?): ${files(adopted)}. Commit the manifest.`,
      );
    if (madeReal.length > 0)
      logger?.warn(
        `${madeReal.length} image${madeReal.length > 1 ? 's' : ''} that ${manifestName} listed as placeholders ${madeReal.length > 1 ? 'are' : 'is'} real now (the other side of a merge taken in git?), so ${madeReal.length > 1 ? 'they are' : 'it is'} not made again: ${files(madeReal)}. Commit the manifest.`,
      );
  } else {
    result = structuredClone(manifest);
    apply(result);
  }
  return { manifest: result, adopted: adopted.map((f) => f.image), madeReal: madeReal.map((f) => f.image) };
}

/** Whether the file says it is a real image of `key`; readAdoptableEntry then checks that it is. */
async function carriesRealImage(file: string, key: string): Promise<boolean> {
  const head = await readHead(file, PNG_HEAD_BYTES);
  const carried = head && readPngEntry(head);
  return !!carried && carried.key === key && carried.entry.placeholder === false;
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
