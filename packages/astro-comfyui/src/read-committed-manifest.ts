import path from 'node:path';
import type { Logger } from '@astro-comfyui/comfyui';
import { cacheDirectory } from './cache-directory.js';
import { formatList } from './format-list.js';
import { gitPath } from './git-path.js';
import type { Manifest } from './manifest.js';
import { readManifestMergingConflict, type MergedConflict } from './merge-manifest-conflict.js';
import type { ResolvedOptions } from './options.js';

/**
 * The committed manifest. With `merge` (every run outside CI that may write), a git conflict in it is
 * merged first and `logger` says to commit the result; without, a conflict fails with how to fix it.
 */
export function readCommittedManifest(options: ResolvedOptions, logger: Pick<Logger, 'warn'>, merge: boolean): Promise<Manifest> {
  return readManifestMergingConflict(options.manifestFile, cacheDirectory(options), {
    merge,
    onMerged: (merged) => logger.warn(describeMerge(merged, options)),
  });
}

/** What the merge did, and what is left for the author to do in git. */
function describeMerge({ madeOnBothSides }: MergedConflict, options: ResolvedOptions): string {
  const manifest = path.relative(options.root, options.manifestFile);
  const merged = `Merged the git conflict in ${manifest}: it keeps the entries of both sides.`;
  if (madeOnBothSides.length === 0) return `${merged} Commit it.`;
  const folder = gitPath(options.root, options.outDir);
  const lines = [
    `${merged} Both sides made ${madeOnBothSides.length === 1 ? 'an image' : `${madeOnBothSides.length} images`} under the same name (a setting or post changed on both branches). Git cannot merge two image files: it left one side's in place and marked it conflicted. Either side's is an image of the same prompt and seed, and the manifest now describes the file in place:`,
    formatList(
      madeOnBothSides.map((image) => image.file),
      `all in ${manifest}`,
    ),
  ];
  // A placeholder kept over the other side's real image would be made again: the author can take theirs.
  const placeholders = madeOnBothSides.filter((image) => image.placeholder && image.otherIsReal);
  if (placeholders.length > 0) {
    const paths = (side: 'ours' | 'theirs') => placeholders.filter((image) => image.otherSide === side).map((image) => path.posix.join(folder, image.file));
    const commands = (['theirs', 'ours'] as const).filter((side) => paths(side).length > 0).map((side) => `git checkout --${side} -- ${paths(side).join(' ')}`);
    lines.push(
      `${placeholders.length === 1 ? 'One of them is a placeholder' : `${placeholders.length} of them are placeholders`} where the other side has the real image. Take the real ${placeholders.length === 1 ? 'one' : 'ones'} (the next run then lists ${placeholders.length === 1 ? 'it' : 'them'} as real): ${commands.join('; ')}. Otherwise the next run with ComfyUI makes ${placeholders.length === 1 ? 'it' : 'them'} again.`,
    );
  }
  lines.push(`Then mark the images resolved and commit: git add ${folder}`);
  return lines.join('\n');
}
