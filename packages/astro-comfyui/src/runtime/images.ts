/// <reference path="./virtual.d.ts" />
import type { ImageMetadata } from 'astro';
import { images } from 'virtual:astro-comfyui/images';

export interface PostImage {
  /** Pass to <Image src> or getImage({ src }). */
  src: ImageMetadata;
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
  return images[entry.filePath.replaceAll('\\', '/')] ?? [];
}
