import { gitPath } from './git-path.js';
import type { EarlierImages } from './earlier-images.js';
import type { Manifest } from './manifest.js';
import type { ResolvedOptions } from './options.js';
import type { ResolvedImage } from './resolve-image.js';

/** For a line that names such an image. */
const LISTED_WITHOUT_FILE_NOTE = ' (images.lock.json lists it, but its file is not there: not committed, or deleted?)';

/**
 * The note for a line that names a missing image: that its file was never committed when it is one of
 * `uncommitted` (listedWithoutFile), else what changed since its committed image, if anything.
 */
export function noteOfMissingImage(image: ResolvedImage, uncommitted: ReadonlySet<string>, earlier: EarlierImages): string {
  return uncommitted.has(image.key) ? LISTED_WITHOUT_FILE_NOTE : earlier.noteOf(image);
}

/**
 * The keys of the images of `missing` (keys with no committed file) that the manifest lists all the same: they were
 * made and recorded, then their files were never committed (a .gitignore rule such as `*.png`, a
 * `git add` of the manifest alone) or were deleted. In CI that is the usual reason, and "generate them"
 * would be the wrong advice: the files are on the machine that made them.
 */
export function listedWithoutFile(images: readonly ResolvedImage[], missing: ReadonlySet<string>, manifest: Manifest): Set<string> {
  return new Set(images.filter((image) => missing.has(image.key) && manifest.images[image.key] !== undefined).map((image) => image.key));
}

/** What to do about `count` such images. */
export function listedWithoutFileHint(count: number, options: Pick<ResolvedOptions, 'root' | 'outDir'>): string {
  const folder = gitPath(options.root, options.outDir);
  return `${count === 1 ? '1 image is' : `${count} images are`} listed in images.lock.json without ${count === 1 ? 'its file' : 'their files'}: commit the files where they were made (git add ${folder}); git check-ignore -v <file> shows a .gitignore rule that leaves them out.`;
}
