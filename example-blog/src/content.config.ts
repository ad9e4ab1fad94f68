import { defineCollection } from 'astro:content';
import { glob } from 'astro/loaders';
import { z } from 'astro/zod';
import { imagePromptListSchema, imagePromptSchema } from 'astro-comfyui/schema';

const blog = defineCollection({
  loader: glob({ pattern: '**/*.{md,mdx}', base: './src/content/blog' }),
  schema: z.object({
    title: z.string(),
    description: z.string(),
    pubDate: z.coerce.date(),
    image: imagePromptSchema.optional(),
    images: imagePromptListSchema.optional(),
  }),
});

export const collections = { blog };
