import { z } from 'astro/zod';
import { PROMPT_LIMITS } from '../frontmatter-schema.js';

/** Every toolbar message carries the id of the request it belongs to: server events reach every tab. */
const requestId = z
  .string()
  .min(8)
  .max(64)
  .regex(/^[\w-]+$/);

const promptFields = {
  post: z.string().min(1).max(1000),
  prompt: z.string().trim().min(1, 'Write a prompt first.').max(PROMPT_LIMITS.text),
  negative: z.string().max(PROMPT_LIMITS.text).optional(),
  style: z.string().max(PROMPT_LIMITS.name).optional(),
  format: z.string().max(PROMPT_LIMITS.name).optional(),
  preset: z.string().max(PROMPT_LIMITS.name).optional(),
  seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  alt: z.string().max(PROMPT_LIMITS.alt).optional(),
};

export const initMessage = z.object({ requestId, pathname: z.string().max(2000) }).strict();
export const generateMessage = z.object({ requestId, ...promptFields, count: z.number().int().min(1).max(4) }).strict();
export const pinMessage = z.object({ requestId, ...promptFields, key: z.string().regex(/^[0-9a-f]{64}$/) }).strict();
export const statusMessage = z.object({ requestId }).strict();

export type InitMessage = z.infer<typeof initMessage>;
export type GenerateMessage = z.infer<typeof generateMessage>;
export type PinMessage = z.infer<typeof pinMessage>;

export const EVENTS = {
  init: 'astro-comfyui:init',
  state: 'astro-comfyui:state',
  generate: 'astro-comfyui:generate',
  progress: 'astro-comfyui:progress',
  candidate: 'astro-comfyui:candidate',
  done: 'astro-comfyui:done',
  pin: 'astro-comfyui:pin',
  pinned: 'astro-comfyui:pinned',
  status: 'astro-comfyui:status',
  statusResult: 'astro-comfyui:status-result',
  start: 'astro-comfyui:start',
  stop: 'astro-comfyui:stop',
  error: 'astro-comfyui:error',
} as const;

export const CANDIDATE_ROUTE = '/_astro-comfyui/candidate/';
