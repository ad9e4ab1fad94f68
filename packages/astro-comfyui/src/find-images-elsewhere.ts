import path from 'node:path';
import { glob } from 'tinyglobby';
import { readManifest } from './manifest.js';
import type { ResolvedOptions } from './options.js';

export interface ImagesElsewhere {
  /** What happened, for the error or the status line. */
  message: string;
  /** How to fix it. */
  hint: string;
}

/**
 * Projects found to have no other manifest. Only a move by hand would add one while this process runs, and
 * dev asks at every save of a new site that has no manifest yet: once per process is enough.
 */
const noneElsewhere = new Set<string>();

/**
 * When the images folder has no manifest while some images are missing, another images.lock.json in the
 * project means the images are committed elsewhere: `outDir` changed, or the folder moved, without them.
 * Generating them all again would cost GPU hours and leave the committed ones behind (and CI would only say
 * "missing"), so the caller stops and says where they are. One glob, only in that case: a new site's first
 * build, or this mistake.
 */
export async function findImagesElsewhere(missing: number, options: ResolvedOptions, listed: Set<string>): Promise<ImagesElsewhere | undefined> {
  const name = path.basename(options.manifestFile);
  if (missing === 0 || listed.has(name) || noneElsewhere.has(options.manifestFile)) return undefined;
  const found = await glob(`**/${name}`, { cwd: options.root, onlyFiles: true, ignore: ['**/node_modules/**'] });
  const other = found.map((file) => path.join(options.root, file)).find((file) => file !== options.manifestFile);
  if (other === undefined) {
    noneElsewhere.add(options.manifestFile);
    return undefined;
  }
  const count = await readManifest(other).then(
    (manifest) => Object.keys(manifest.images).length,
    () => undefined,
  );
  const shown = (file: string) => path.relative(options.root, file) || '.';
  const outDir = shown(options.outDir);
  const folder = shown(path.dirname(other));
  return {
    message: `${outDir} (the images folder, outDir) has no ${name}, but ${shown(other)} ${count === undefined ? 'exists' : `lists ${count} image${count === 1 ? '' : 's'}`}: ${missing} image${missing === 1 ? '' : 's'} would be made again instead of using ${count === 1 ? 'it' : 'them'}.`,
    hint: `If outDir changed or the folder moved, move the images and ${name} of ${folder} into ${outDir} (git mv), or set outDir back to "${folder}", and build again. To make new images in ${outDir} on purpose, rename or delete ${shown(other)}.`,
  };
}
