import { open } from 'node:fs/promises';
import path from 'node:path';
import { AstroComfyUIError } from './astro-comfyui-error.js';
import type { ResolvedOptions } from './options.js';

/** How every Git LFS pointer file starts (git-lfs docs/spec.md). */
const LFS_POINTER = 'version https://git-lfs.github.com/spec/';

/**
 * A site that keeps its PNGs in Git LFS, checked out without fetching them (CI checkouts do not by
 * default), has small text pointers where the images should be, and Astro fails on the first one with
 * "Could not process image metadata". One committed image `file` (in outDir) tells, for one small read.
 */
export async function assertImagesFetched(file: string | undefined, options: ResolvedOptions): Promise<void> {
  if (file === undefined) return;
  const full = path.join(options.outDir, file);
  const head = Buffer.alloc(LFS_POINTER.length);
  const handle = await open(full).catch(() => undefined);
  if (!handle) return;
  try {
    await handle.read(head, 0, head.length, 0);
  } finally {
    await handle.close();
  }
  if (head.toString('latin1') !== LFS_POINTER) return;
  throw new AstroComfyUIError(
    'IMAGES_NOT_FETCHED',
    `${path.relative(options.root, full)} is a Git LFS pointer, not an image: the generated images were checked out without their Git LFS content.`,
    'Run `git lfs pull` and build again; in CI, fetch LFS files when checking out (GitHub Actions: actions/checkout with `lfs: true`).',
  );
}
