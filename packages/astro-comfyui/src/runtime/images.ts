/// <reference path="./virtual.d.ts" />
import type { ImageMetadata } from 'astro';
import { content, images } from 'virtual:astro-comfyui/images';

export interface PostImage {
  /**
   * Pass to <Image src> or getImage({ src }). Read-only: reading it records that a page shows the image,
   * and a static build leaves out the images no page read.
   */
  readonly src: ImageMetadata;
  alt: string;
  prompt: string;
  /** A marked stand-in made without ComfyUI. */
  placeholder: boolean;
  /** The `disclosure.caption` option, e.g. "AI-generated with Stable Diffusion 3.5"; never set for a placeholder. */
  caption?: string;
}

/** One image of the virtual module `virtual:astro-comfyui/images`: a PostImage and its place in the post. */
export type IndexedPostImage = PostImage & { index: number };

interface EntryLike {
  filePath?: string;
  id?: string;
}

/**
 * The generated image of a content entry (`index` picks one of several), or undefined while it is not
 * generated yet. Works with entries of the glob() loader, which carry `filePath`.
 */
export function getPostImage(entry: EntryLike, index = 0): PostImage | undefined {
  return getPostImages(entry).find((image) => image.index === index) ?? getPostImages(entry)[index];
}

/** Every generated image of a content entry, in frontmatter order. */
export function getPostImages(entry: EntryLike): IndexedPostImage[] {
  if (!entry.filePath) {
    throw new Error(
      `astro-comfyui: getPostImage() needs a content entry with "filePath" (entry "${entry.id ?? '?'}" has none). Load posts with the glob() loader.`,
    );
  }
  const post = entry.filePath.replaceAll('\\', '/');
  const found = images[post];
  if (!found) warnIfNeverRead(post);
  return found ?? [];
}

let warned = false;

/**
 * Posts outside the `content` globs are never read, so their prompts never become images and nothing
 * else would say why: say it once per process, naming the post and the fix.
 */
function warnIfNeverRead(post: string): void {
  if (warned || (content.include.some((p) => p.test(post)) && !content.exclude.some((p) => p.test(post)))) return;
  warned = true;
  console.warn(
    `astro-comfyui: getPostImage() was given ${post}, which the "content" option (${content.globs.join(', ')}) does not match, so its image prompts are never read. If it has some, add a glob that matches it (its folder, its extension) to "content" in the astro-comfyui options.`,
  );
}
