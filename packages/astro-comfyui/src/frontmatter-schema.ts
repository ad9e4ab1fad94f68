import { z } from 'astro/zod';
import { PROMPT_LIMITS } from './prompt-limits.js';

/** Why a prompt that is only a file's path or URL is refused (see isImageReference). */
export const IMAGE_REFERENCE_MESSAGE = 'is the path or URL of an image file, not a prompt';

const IMAGE_REFERENCE = /^(?:\.{0,2}\/|~\/|@\/|[a-z][a-z\d+.-]*:\/\/|data:image\/)|\.(?:png|jpe?g|webp|avif|gif|svg|tiff?|bmp|ico|heic|heif|jxl)$/i;

/**
 * Text that is only the path or URL of an image file: `./cover.jpg`, `/images/a.png`, `https://…/a.webp`.
 * Many blogs already use an `image` field for a picture of their own; read as prompts, each such post
 * would spend GPU time drawing its file name. A prompt with a space in it is always a prompt.
 */
export function isImageReference(text: string): boolean {
  return !/\s/.test(text) && IMAGE_REFERENCE.test(text);
}

/**
 * Why a prompt with U+FFFD is refused: a post saved in another encoding than UTF-8 (Latin-1 from an old
 * blog engine) reads with this mark in place of each accented letter, and drawing that garbled text
 * would spend GPU time on an image that changes again once the post is saved as UTF-8.
 */
const UNREADABLE_MESSAGE = 'contains "\uFFFD" where a character could not be read: the post is not saved as UTF-8; save it as UTF-8';
const isReadable = (text: string) => !text.includes('\uFFFD');

const promptText = z
  .string()
  .trim()
  .min(1, 'the prompt is empty')
  .max(PROMPT_LIMITS.text, `the prompt is longer than ${PROMPT_LIMITS.text} characters`)
  .refine((text) => !isImageReference(text), IMAGE_REFERENCE_MESSAGE)
  .refine(isReadable, UNREADABLE_MESSAGE);
const name = (what: string) => z.string().min(1).max(PROMPT_LIMITS.name, `the ${what} name is longer than ${PROMPT_LIMITS.name} characters`);

/** The object form of an image prompt in frontmatter. */
export const imagePromptObjectSchema = z
  .object({
    /** What to draw. */
    prompt: promptText,
    /** What to avoid (added to the style's negative). */
    negative: z
      .string()
      .max(PROMPT_LIMITS.text, `the negative prompt is longer than ${PROMPT_LIMITS.text} characters`)
      .refine(isReadable, UNREADABLE_MESSAGE)
      .optional(),
    /** A style name from the `styles` option. */
    style: name('style').optional(),
    /** A format (size) name from the `formats` option. */
    format: name('format').optional(),
    /** A preset (style + format) name from the `presets` option. */
    preset: name('preset').optional(),
    /** Fixes the image; without it a seed is derived from the prompt so builds are repeatable. */
    seed: z.number().int('the seed must be a whole number').min(0).max(Number.MAX_SAFE_INTEGER).optional(),
    /** Alternative text for the <img>. */
    alt: z.string().max(PROMPT_LIMITS.alt, `the alt text is longer than ${PROMPT_LIMITS.alt} characters`).optional(),
    /** Make a new image with a new random seed on the next build; the seed is then written in place of this field. */
    regenerate: z.boolean().optional(),
  })
  .strict();

/** The keys of the object form, for messages. */
export const IMAGE_PROMPT_KEYS = Object.keys(imagePromptObjectSchema.shape);

/** `image: "a prompt"` or `image: { prompt, style, … }`. Use it in a content collection schema. */
export const imagePromptSchema = z.union([promptText, imagePromptObjectSchema]);

/** `images: [ … ]`: several images for one post. */
export const imagePromptListSchema = z.array(imagePromptSchema).min(1).max(PROMPT_LIMITS.list, `a post has at most ${PROMPT_LIMITS.list} image prompts`);

export type ImagePromptObject = z.output<typeof imagePromptObjectSchema>;
export type ImagePrompt = z.output<typeof imagePromptSchema>;
