import path from 'node:path';
import type { Logger } from '@astro-comfyui/comfyui';
import { cacheDirectory } from './cache-directory.js';
import type { Manifest } from './manifest.js';
import { readManifestMergingConflict } from './merge-manifest-conflict.js';
import type { ResolvedOptions } from './options.js';

/**
 * The committed manifest. With `merge` (every run outside CI that may write), a git conflict in it is
 * merged first and `logger` says to commit the result; without, a conflict fails with how to fix it.
 */
export function readCommittedManifest(options: ResolvedOptions, logger: Pick<Logger, 'warn'>, merge: boolean): Promise<Manifest> {
  return readManifestMergingConflict(options.manifestFile, cacheDirectory(options), {
    merge,
    onMerged: () =>
      logger.warn(`Merged the git conflict in ${path.relative(options.root, options.manifestFile)}: it keeps the entries of both sides. Commit it.`),
  });
}
