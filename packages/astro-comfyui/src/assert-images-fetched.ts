import { open } from 'node:fs/promises';
import path from 'node:path';
import { AstroComfyUIError } from './astro-comfyui-error.js';
import type { ResolvedOptions } from './options.js';

/** How every Git LFS pointer file starts (git-lfs docs/spec.md). */
const LFS_POINTER = 'version https://git-lfs.github.com/spec/';

/** Whether `file` (in outDir) is a Git LFS pointer where the image should be. */
export async function isLfsPointer(file: string, options: ResolvedOptions): Promise<boolean> {
  const head = Buffer.alloc(LFS_POINTER.length);
  const handle = await open(path.join(options.outDir, file)).catch(() => undefined);
  if (!handle) return false;
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  return head.toString('latin1') === LFS_POINTER;
}

/**
 * A site that keeps its PNGs in Git LFS, checked out without fetching them (CI checkouts do not by
 * default), has small text pointers where the images should be, and Astro fails on the first one with
 * "Could not process image metadata". One committed image `file` (in outDir) tells, for one small read.
 */
export async function assertImagesFetched(file: string | undefined, options: ResolvedOptions): Promise<void> {
  if (file === undefined || !(await isLfsPointer(file, options))) return;
  throw new AstroComfyUIError('IMAGES_NOT_FETCHED', lfsPointerMessage(file, options), LFS_FIX);
}

export const lfsPointerMessage = (file: string, options: ResolvedOptions) =>
  `${path.relative(options.root, path.join(options.outDir, file))} is a Git LFS pointer, not an image: the generated images were checked out without their Git LFS content.`;

export const LFS_FIX = 'Run `git lfs pull` and build again; in CI, fetch LFS files when checking out (GitHub Actions: actions/checkout with `lfs: true`).';
