/**
 * Size limits of one image prompt, the same for every form it can take (shorthand text, object, list
 * item, toolbar message): a post or a web page must not push megabytes into the manifest, the PNG and
 * the page's `alt`. Its own module: the dev toolbar's browser code checks its fields with it, without zod.
 */
export const PROMPT_LIMITS = {
  /** Characters of `prompt` and of `negative`. */
  text: 4000,
  /** Characters of `alt`. */
  alt: 1000,
  /** Characters of a style, format or preset name. */
  name: 100,
  /** Prompts in one post's list: each is GPU time, and no post shows hundreds of pictures. */
  list: 100,
} as const;
