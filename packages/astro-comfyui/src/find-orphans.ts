import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { listImageFiles } from './classify-images.js';
import { explainNoPosts } from './explain-no-posts.js';
import type { Manifest } from './manifest.js';
import type { ResolvedOptions } from './options.js';
import { readPngEntry } from './png-entry.js';
import { getPngText, startsAsPng } from './png-text.js';
import { PNG_HEAD_BYTES, readHead } from './read-head.js';
import { isInside } from './is-inside.js';
import { keyPrefixOf, SAVE_PREFIX, type ResolvedImage } from './resolve-image.js';
import { postMatcher } from './scan-posts.js';

export interface Orphans {
  /** Manifest entries no current post uses (a changed prompt leaves the old image behind). */
  entries: Array<{ key: string; file: string }>;
  /** PNG files in outDir that no manifest entry names, made by astro-comfyui (they carry their entry). */
  strayFiles: string[];
  /**
   * Entries no scanned post uses whose recorded post is still there, outside the "content" globs (a glob
   * narrowed or an `!` added): not shown to be unused, only not read. Never in `entries`.
   */
  unread: Array<{ key: string; file: string; post: string }>;
}

/** Recorded posts looked at per entry: a hand-edited manifest may list thousands. */
const POSTS_CHECKED = 20;

/**
 * Lists what no post uses any more. Listing only: deleting is `astro-comfyui prune`'s job. `listed` is the
 * images folder as just listed, if the caller has it.
 */
export async function findOrphans(images: ResolvedImage[], manifest: Manifest, options: ResolvedOptions, listed?: Set<string>): Promise<Orphans> {
  const used = new Set(images.map((image) => image.key));
  const isPost = postMatcher(options.content);
  const entries: Orphans['entries'] = [];
  const unread: Orphans['unread'] = [];
  for (const [key, entry] of Object.entries(manifest.images)) {
    if (used.has(key)) continue;
    const post = await findUnreadPost(entry.posts.slice(0, POSTS_CHECKED), isPost, options.root);
    if (post === undefined) entries.push({ key, file: entry.file });
    else unread.push({ key, file: entry.file, post });
  }
  const named = new Set(Object.values(manifest.images).map((entry) => entry.file));
  const files = [...(listed ?? (await listImageFiles(options.outDir)))];
  // A file named with the key of an image a post uses is never a stray, whatever the manifest says.
  const usedPrefixes = new Set([...used].map((key) => key.slice(0, 12)));
  const candidates = files.filter((file) => file.endsWith('.png') && !named.has(file) && !usedPrefixes.has(keyPrefixOf(file) ?? ''));
  const strayFiles: string[] = [];
  for (const file of candidates.sort()) if (await madeHere(path.join(options.outDir, file))) strayFiles.push(file);
  return { entries, strayFiles, unread };
}

/** The first recorded post that is a file inside the project which the "content" globs leave out. */
async function findUnreadPost(posts: string[], isPost: (file: string) => boolean, root: string): Promise<string | undefined> {
  for (const post of posts) {
    // A matched post was read and no longer asks for the image; anything outside the root is not a post.
    if (isPost(post) || path.isAbsolute(post) || !isInside(path.join(root, post), root)) continue;
    if ((await lstat(path.join(root, post)).catch(() => undefined))?.isFile()) return post;
  }
  return undefined;
}

/**
 * What to say instead of "every image is unused" when no post asks for any image: far more often the
 * posts were not found (moved, or a "content" glob that matches nothing) than every prompt removed.
 */
export function explainNoPrompts(posts: number, count: number, options: ResolvedOptions): string {
  const globs = options.content.join(', ');
  const images = `${count} generated image${count > 1 ? 's' : ''}`;
  return posts === 0
    ? explainNoPosts(options, `so no post asks for any of the ${images}`)
    : `None of the ${posts} post${posts > 1 ? 's' : ''} that the "content" globs (${globs}) match asks for an image in "${options.field}" or "${options.listField}", so none uses the ${images}. If the posts with prompts are elsewhere, or use another field, set "content" or "field" in the astro-comfyui options.`;
}

/**
 * Whether astro-comfyui made this PNG, for the image `key` when one is given: every image it writes
 * carries its entry (and key), and older ones ComfyUI's graph with the SaveImage prefix it sets. outDir
 * may be a folder the author keeps pictures of their own in (`src/assets`), even ones made with ComfyUI
 * by hand, and those are never anyone's to prune, whatever a manifest entry says.
 */
export async function madeHere(file: string, key?: string): Promise<boolean> {
  const png = await readHead(file, PNG_HEAD_BYTES);
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
