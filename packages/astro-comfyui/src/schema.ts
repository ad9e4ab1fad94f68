export { imagePromptListSchema, imagePromptObjectSchema, imagePromptSchema, type ImagePrompt, type ImagePromptObject } from './frontmatter-schema.js';
