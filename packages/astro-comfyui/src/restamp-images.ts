import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@astro-comfyui/comfyui';
import { acquireLock } from './acquire-lock.js';
import { cacheDirectory } from './cache-directory.js';
import type { Manifest, ManifestEntry } from './manifest.js';
import type { ManifestWriter } from './manifest-writer.js';
import type { ResolvedOptions } from './options.js';
import { readPngEntry, withPngEntry } from './png-entry.js';
import { endsWhole } from './png-text.js';
import type { ResolvedImage } from './resolve-image.js';
import { markId, stampMark } from './stamp-mark.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** How long re-stamping waits for another build that holds an image's lock. */
const LOCK_WAIT_MS = 5 * 60_000;

/** The committed real images whose mark is not the configured one (or that have one the options dropped). */
export function imagesToRestamp(images: ResolvedImage[], manifest: Manifest, options: ResolvedOptions): ResolvedImage[] {
  const wanted = options.disclosure.mark ? markId(options.disclosure.mark) : undefined;
  return images.filter((image) => {
    const entry = manifest.images[image.key];
    return entry !== undefined && !entry.placeholder && entry.mark !== wanted;
  });
}

/**
 * Puts the configured disclosure mark on committed images, from the original pixels each keeps under its
 * old mark: no GPU work, in any mode. Each file is rewritten atomically under its image lock, then its
 * entry (with the new mark id) goes to the manifest writer, and `onRestamped` hears of it (dev shows it).
 * A file that cannot be re-stamped is reported and left as it is.
 */
export async function restampImages(
  images: ResolvedImage[],
  manifest: Manifest,
  options: ResolvedOptions,
  logger: Logger,
  writer: ManifestWriter,
  onRestamped?: (image: ResolvedImage) => void | Promise<void>,
): Promise<number> {
  const mark = options.disclosure.mark;
  const id = mark ? markId(mark) : undefined;
  let done = 0;
  for (const image of images) {
    const { mark: _old, ...rest } = manifest.images[image.key]!;
    const entry: ManifestEntry = id ? { ...rest, mark: id } : rest;
    const file = path.join(options.outDir, entry.file);
    const release = await acquireLock(path.join(cacheDirectory(options), `${image.key}.lock`), {
      what: `Re-stamping ${entry.file}`,
      timeoutMs: LOCK_WAIT_MS,
      onWait: (message) => logger.info(`Waiting: ${message}.`),
    });
    try {
      const png = await readFile(file);
      const carried = readPngEntry(png);
      // Only a file that says it is this image is rewritten.
      if (carried === null) throw new Error('the entry it carries is not a JSON object');
      if (carried !== undefined && carried.key !== image.key) throw new Error('the file carries another image key');
      // A decoder draws a file cut short grey from where it stops: re-stamping would commit that as whole.
      if (!endsWhole(png)) throw new Error(`it is cut short; restore it from git (git checkout -- '*/${entry.file}')`);
      await writeFileAtomic(file, withPngEntry(await stampMark(png, mark), image.key, entry));
      writer.add(image.key, entry);
      done++;
      await onRestamped?.(image);
    } catch (error) {
      logger.warn(`${path.relative(options.root, file)} keeps its old mark: it could not be re-stamped (${(error as Error).message}).`);
    } finally {
      await release();
    }
  }
  if (done > 0) {
    logger.info(
      mark
        ? `Put the disclosure mark "${mark.text}" on ${done} committed image${done > 1 ? 's' : ''} (no GPU work). Commit them.`
        : `Took the disclosure mark off ${done} committed image${done > 1 ? 's' : ''} (no GPU work). Commit them.`,
    );
  }
  return done;
}
