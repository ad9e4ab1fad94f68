import { readdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@astro-comfyui/comfyui';
import { formatList } from './format-list.js';
import { gitPath } from './git-path.js';
import type { ResolvedOptions } from './options.js';
import { removeStaleTempFiles } from './remove-stale-temp-files.js';
import type { ResolvedImage } from './resolve-image.js';

/**
 * The temp files of images and of the manifest that a run killed while writing left among the committed
 * images are removed (outside CI), so that an author does not commit them; `files`, the folder as just
 * listed, forgets them. Called where the folder is listed, not for a listing reused from an earlier run.
 */
export async function removeLeftTempFiles(options: ResolvedOptions, files: Set<string>, logger: Logger): Promise<void> {
  if (options.mode === 'frozen') return;
  const manifest = path.basename(options.manifestFile);
  const removed = await removeStaleTempFiles(options.outDir, files, (target) => target.endsWith('.png') || target === manifest);
  for (const name of removed) files.delete(name);
  sayRemovedTempFiles(logger, removed, 'writing', gitPath(options.root, options.outDir));
}

/**
 * The same for posts: a run killed while it wrote a seed (`regenerate: true`) or a toolbar pin into a post
 * leaves `<post>.<pid>.<hex>.tmp` beside it, which `git add -A` would commit. Only the temp files of the
 * posts `images` come from are removed, in the folders they are in (outside CI).
 */
export async function removeLeftPostTempFiles(images: readonly ResolvedImage[], options: ResolvedOptions, logger: Logger): Promise<void> {
  if (options.mode === 'frozen') return;
  const postsByFolder = new Map<string, Set<string>>();
  for (const image of images) {
    const post = path.join(options.root, image.request.post);
    const folder = path.dirname(post);
    postsByFolder.set(folder, (postsByFolder.get(folder) ?? new Set()).add(path.basename(post)));
  }
  for (const [folder, posts] of postsByFolder) {
    const names = await readdir(folder).catch(() => []);
    const removed = await removeStaleTempFiles(folder, names, (target) => posts.has(target));
    sayRemovedTempFiles(logger, removed, 'writing a post', gitPath(options.root, folder));
  }
}

/** What removeLeftTempFiles and removeLeftPostTempFiles removed, when they removed anything. */
function sayRemovedTempFiles(logger: Logger, removed: string[], writing: string, folder: string): void {
  if (removed.length === 0) return;
  logger.info(
    `Removed ${removed.length} temp file${removed.length > 1 ? 's' : ''} that a run killed while ${writing} left in ${folder}:\n${formatList(removed, 'all removed')}`,
  );
}
