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
  /** A content entry's file, relative to the project root: the glob() loader sets it. */
  filePath?: string;
  /** A Markdown or MDX page's file, absolute: what its layout gets as `Astro.props.file`. */
  file?: string;
  id?: string;
}

/**
 * The generated image of a post (`index` picks one of several), or undefined while it is not generated
 * yet. The post is a content entry of the glob() loader, which carries `filePath`, or, in the layout of
 * a Markdown or MDX page, `Astro.props`, which carries the page's `file`.
 */
export function getPostImage(entry: EntryLike, index = 0): PostImage | undefined {
  return getPostImages(entry).find((image) => image.index === index) ?? getPostImages(entry)[index];
}

/** Every generated image of a post, in frontmatter order. */
export function getPostImages(entry: EntryLike): IndexedPostImage[] {
  const file = entry.filePath ?? entry.file;
  if (!file) {
    throw new Error(
      `astro-comfyui: getPostImage() needs a content entry with "filePath" (entry "${entry.id ?? '?'}" has none: load posts with the glob() loader), or, in a Markdown page's layout, Astro.props, which carries the page's "file".`,
    );
  }
  const post = relativeToRoot(file.replaceAll('\\', '/'));
  const found = images[post];
  if (!found) warnIfNeverRead(post);
  return found ?? [];
}

/** The index is keyed by root-relative paths, as entries' `filePath`; a page's `file` is absolute. */
const relativeToRoot = (file: string) => (file.startsWith(content.root) ? file.slice(content.root.length) : file);

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
