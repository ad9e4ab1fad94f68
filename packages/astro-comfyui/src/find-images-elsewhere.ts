import { access } from 'node:fs/promises';
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
  // The whole project is walked, once: no symlinked folder (a link to a parent would never end), and no
  // deeper than any images folder sits.
  const found = await glob(`**/${name}`, { cwd: options.root, onlyFiles: true, ignore: ['**/node_modules/**'], followSymbolicLinks: false, deep: 8 });
  let other: { file: string; count: number } | undefined;
  for (const file of found.map((relative) => path.join(options.root, relative)).sort()) {
    if (file === options.manifestFile || (await inNestedPackage(path.dirname(file), options.root))) continue;
    const count = await readManifest(file).then(
      (manifest) => Object.keys(manifest.images).length,
      () => 0,
    );
    // An empty or unreadable one holds no image that could be made again for nothing.
    if (count > 0) {
      other = { file, count };
      break;
    }
  }
  if (other === undefined) {
    noneElsewhere.add(options.manifestFile);
    return undefined;
  }
  const shown = (file: string) => path.relative(options.root, file) || '.';
  const outDir = shown(options.outDir);
  const folder = shown(path.dirname(other.file));
  return {
    message: `${outDir} (the images folder, outDir) has no ${name}, but ${shown(other.file)} lists ${other.count} image${other.count === 1 ? '' : 's'}: ${missing} image${missing === 1 ? '' : 's'} would be made again instead of using ${other.count === 1 ? 'it' : 'them'}.`,
    hint: `If outDir changed or the folder moved, move the images and ${name} of ${folder} into ${outDir} (git mv), or set outDir back to "${folder}", and build again. To make new images in ${outDir} on purpose, rename or delete ${shown(other.file)}.`,
  };
}

/** Whether `dir` is inside another package under `root` (a site of its own in a monorepo): its images are not this site's. */
async function inNestedPackage(dir: string, root: string): Promise<boolean> {
  for (let current = dir; current !== root && current.startsWith(root); current = path.dirname(current)) {
    if (await exists(path.join(current, 'package.json'))) return true;
  }
  return false;
}

const exists = (file: string) =>
  access(file).then(
    () => true,
    () => false,
  );
