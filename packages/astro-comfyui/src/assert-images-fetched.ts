import path from 'node:path';
import { AstroComfyUIError } from './astro-comfyui-error.js';
import type { ImageState } from './classify-images.js';
import type { Manifest } from './manifest.js';
import type { ResolvedOptions } from './options.js';
import { readHead } from './read-head.js';
import type { ResolvedImage } from './resolve-image.js';

/** How every Git LFS pointer file starts (git-lfs docs/spec.md). */
const LFS_POINTER = 'version https://git-lfs.github.com/spec/';

/** Whether `file` (in outDir) is a Git LFS pointer where the image should be. */
async function isLfsPointer(file: string, options: ResolvedOptions): Promise<boolean> {
  const head = await readHead(path.join(options.outDir, file), LFS_POINTER.length);
  return head?.toString('latin1') === LFS_POINTER;
}

/**
 * A site that keeps its PNGs in Git LFS, checked out without fetching them (CI checkouts do not by
 * default), has small text pointers where the images should be, and Astro fails on the first one with
 * "Could not process image metadata". One committed image tells, for one small read: its file when it
 * is such a pointer.
 */
export async function findLfsPointer(
  images: ResolvedImage[],
  states: Map<string, ImageState>,
  manifest: Manifest,
  options: ResolvedOptions,
): Promise<string | undefined> {
  const committed = images.find((image) => states.get(image.key) !== 'missing');
  const file = committed && manifest.images[committed.key]?.file;
  return file !== undefined && (await isLfsPointer(file, options)) ? file : undefined;
}

/** Fails, saying how to fetch them, when the committed images are Git LFS pointers (findLfsPointer). */
export async function assertImagesFetched(
  images: ResolvedImage[],
  states: Map<string, ImageState>,
  manifest: Manifest,
  options: ResolvedOptions,
): Promise<void> {
  const pointer = await findLfsPointer(images, states, manifest, options);
  if (pointer !== undefined) throw new AstroComfyUIError('IMAGES_NOT_FETCHED', lfsPointerMessage(pointer, options), LFS_FIX);
}

export const lfsPointerMessage = (file: string, options: ResolvedOptions) =>
  `${path.relative(options.root, path.join(options.outDir, file))} is a Git LFS pointer, not an image: the generated images were checked out without their Git LFS content.`;

export const LFS_FIX = 'Run `git lfs pull` and build again; in CI, fetch LFS files when checking out (GitHub Actions: actions/checkout with `lfs: true`).';
