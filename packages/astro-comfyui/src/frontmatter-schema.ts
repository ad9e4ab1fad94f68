import { z } from 'astro/zod';

/** The object form of an image prompt in frontmatter. */
export const imagePromptObjectSchema = z.object({
  /** What to draw. */
  prompt: z.string().trim().min(1, 'the prompt is empty').max(4000, 'the prompt is longer than 4000 characters'),
  /** What to avoid (added to the style's negative). */
  negative: z.string().max(4000).optional(),
  /** A style name from the `styles` option. */
  style: z.string().min(1).optional(),
  /** A format (size) name from the `formats` option. */
  format: z.string().min(1).optional(),
  /** A preset (style + format) name from the `presets` option. */
  preset: z.string().min(1).optional(),
  /** Fixes the image; without it a seed is derived from the prompt so builds are repeatable. */
  seed: z.number().int('the seed must be a whole number').min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  /** Alternative text for the <img>. */
  alt: z.string().optional(),
  /** Generate this image again on the next build even though it is cached. Remove it afterwards. */
  regenerate: z.boolean().optional(),
}).strict();

/** `image: "a prompt"` or `image: { prompt, style, … }`. Use it in a content collection schema. */
export const imagePromptSchema = z.union([z.string().trim().min(1, 'the prompt is empty'), imagePromptObjectSchema]);

/** `images: [ … ]`: several images for one post. */
export const imagePromptListSchema = z.array(imagePromptSchema).min(1);

export type ImagePromptObject = z.output<typeof imagePromptObjectSchema>;
export type ImagePrompt = z.output<typeof imagePromptSchema>;
