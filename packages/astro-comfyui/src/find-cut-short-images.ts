import { open } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { MAX_DOWNLOAD_BYTES } from '@astro-comfyui/comfyui/workflows';
import type { Manifest } from './manifest.js';
import { endsWhole } from './png-text.js';
import type { ResolvedOptions } from './options.js';
import type { ResolvedImage } from './resolve-image.js';

/** The chunk every whole PNG ends with: length 0, "IEND", its CRC. */
const IEND = Buffer.from('0000000049454e44ae426082', 'hex');

/**
 * The committed images whose chunks stop before a PNG's last one: cut short by a copy or a merge tool. A
 * decoder draws such a file grey from where it stops, without an error; the build refuses the ones pages
 * show (image-service), and `status` lists them all, by the same rule (`endsWhole`). Reads 12 bytes of a
 * file that ends with IEND, the whole of any other.
 */
export async function findCutShortImages(
  images: readonly ResolvedImage[],
  manifest: Manifest,
  options: Pick<ResolvedOptions, 'outDir'>,
): Promise<ResolvedImage[]> {
  const limit = pLimit(16);
  const unique = [...new Map(images.filter((image) => manifest.images[image.key]).map((image) => [image.key, image])).values()];
  const whole = await Promise.all(unique.map((image) => limit(() => isWhole(path.join(options.outDir, manifest.images[image.key]!.file)))));
  const cut = new Set(unique.filter((_, i) => whole[i] === false).map((image) => image.key));
  return images.filter((image) => cut.has(image.key));
}

/** Whether the file's chunks run whole up to IEND; undefined when it cannot be read (missing: another state says so). */
async function isWhole(file: string): Promise<boolean | undefined> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const { size } = await handle.stat();
    if (size < IEND.length) return false;
    const tail = Buffer.alloc(IEND.length);
    await handle.read(tail, 0, IEND.length, size - IEND.length);
    if (tail.equals(IEND)) return true;
    // Bytes after IEND (some tools append data) leave the image whole, as the build sees it. A file larger
    // than any image astro-comfyui takes from ComfyUI is not read into memory to find out. Read through the
    // open handle: the bytes checked are those of the file whose size was.
    if (size > MAX_DOWNLOAD_BYTES) return false;
    const png = Buffer.alloc(size);
    await handle.read(png, 0, size, 0);
    return endsWhole(png);
  } finally {
    await handle.close();
  }
}
