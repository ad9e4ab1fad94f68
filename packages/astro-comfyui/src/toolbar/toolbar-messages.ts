import { z } from 'astro/zod';
import { imagePromptObjectSchema } from '../frontmatter-schema.js';
export { CANDIDATE_ROUTE, EVENTS } from './toolbar-events.js';

/** Every toolbar message carries the id of the request it belongs to: server events reach every tab. */
const requestId = z
  .string()
  .min(8)
  .max(64)
  .regex(/^[\w-]+$/);

/** The prompt of a toolbar request: the frontmatter's own fields and limits, with the seed always set. */
const promptFields = imagePromptObjectSchema.omit({ regenerate: true }).extend({
  post: z.string().min(1).max(1000),
  /** The image field (`image`) or list item (`images[1]`) the prompt is for. */
  target: z
    .string()
    .max(200)
    .regex(/^[\w$-]+(\[\d{1,4}\])?$/),
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
}).shape;

/** Opening the panel (the page's post) or choosing another post. */
export const initMessage = z.object({ requestId, pathname: z.string().max(2000), post: z.string().min(1).max(1000).optional() }).strict();
export const generateMessage = z
  .object({ requestId, ...promptFields, count: z.number().int().min(1).max(4) })
  .strict()
  // The candidates' seeds (seed, seed + 1, …) must each be one a post can hold, and differ.
  .refine((message) => message.seed + message.count - 1 <= Number.MAX_SAFE_INTEGER, {
    path: ['seed'],
    message: `the candidates take the seeds from it up, and the last would be above ${Number.MAX_SAFE_INTEGER}`,
  });
export const pinMessage = z.object({ requestId, ...promptFields, key: z.string().regex(/^[0-9a-f]{64}$/) }).strict();
export const statusMessage = z.object({ requestId }).strict();

export type InitMessage = z.infer<typeof initMessage>;
export type GenerateMessage = z.infer<typeof generateMessage>;
export type PinMessage = z.infer<typeof pinMessage>;
