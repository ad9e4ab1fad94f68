import type { ResolvedOptions } from './options.js';

/**
 * What to say when no file matches the "content" globs, and how to fix it. Globs are relative to the
 * project root; one that starts with "/" (as an Astro import would) looks at the root of the disk.
 */
export function explainNoPosts(options: Pick<ResolvedOptions, 'content'>, consequence = 'so astro-comfyui has no post to read'): string {
  const globs = options.content.join(', ');
  const rooted = options.content.filter((glob) => glob.startsWith('/'));
  const fix =
    rooted.length > 0
      ? `"content" globs are relative to the project root: write "${rooted[0]!.replace(/^\/+/, '')}", without the leading "/".`
      : 'If the posts are elsewhere, set "content" in the astro-comfyui options to globs that match them.';
  return `No file matches the "content" globs (${globs}), ${consequence}. ${fix}`;
}
