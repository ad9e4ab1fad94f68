import path from 'node:path';
import type { Logger } from '@astro-comfyui/comfyui';
import { findGitIgnored } from './find-git-ignored.js';
import { gitPath } from './git-path.js';
import { isCI, type ResolvedOptions } from './options.js';
import type { ResolvedImage } from './resolve-image.js';

/** Folders already checked in this process: dev makes images in many small runs. */
const checkedIgnored = new Set<string>();

/**
 * The images are meant to be committed: a .gitignore rule that leaves them out (`generated/`, `*.png`)
 * would only show in CI, as missing images. Said once, where an author makes them (a CI machine with a
 * GPU commits nothing). `made` is an image this run generated, asked about with the manifest.
 */
export async function warnIfGitIgnores(made: ResolvedImage | undefined, options: ResolvedOptions, logger: Logger): Promise<void> {
  if (options.mode === 'frozen' || isCI(process.env) || checkedIgnored.has(options.outDir)) return;
  checkedIgnored.add(options.outDir);
  const files = [options.manifestFile, ...(made ? [path.join(options.outDir, made.fileName)] : [])].map((file) => gitPath(options.root, file));
  const ignored = await findGitIgnored(files, options.root);
  if (ignored.length === 0) return;
  const folder = gitPath(options.root, options.outDir);
  logger.warn(
    `Git ignores ${ignored.map(({ file, rule }) => `${file} (${rule})`).join(' and ')}: the images and images.lock.json are meant to be committed, and without them a build elsewhere (CI) fails or shows placeholders. Remove that rule, or add these two lines below it: !${folder}/ and !${folder}/**`,
  );
}
