import { readFile } from 'node:fs/promises';
import { parseFrontmatter } from 'astro/markdown';
import { waitUntil } from './fixture-site.js';

/** Waits until a post differs from `before` (a pin wrote it) and returns its text and frontmatter. */
export async function waitForChange(file: string, before: string): Promise<{ text: string; data: Record<string, unknown> }> {
  const text = await waitUntil(
    async () => {
      const now = await readFile(file, 'utf8');
      return now !== before ? now : undefined;
    },
    20_000,
    `${file} to change`,
  );
  return { text, data: parseFrontmatter(text).frontmatter as Record<string, unknown> };
}
