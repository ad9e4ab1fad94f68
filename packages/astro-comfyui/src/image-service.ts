// The image service astro-comfyui installs in place of Astro's default sharp service. Images an author
// made are handed to Astro's service unchanged; images astro-comfyui generated (their PNG carries their
// manifest entry) get the same resizing and encoding, and keep their provenance XMP in every derivative
// (AVIF, WebP, PNG, JPEG), which Astro's service strips with all other metadata.
import type { LocalImageService } from 'astro';
import sharpService, { resolveSharpEncoderOptions, type SharpImageServiceConfig } from 'astro/assets/services/sharp';
import { AstroComfyUIError } from './astro-comfyui-error.js';
import { findEntryProblems, type ManifestEntry } from './manifest.js';
import { readPngEntry } from './png-entry.js';
import { endsWhole, startsAsPng } from './png-text.js';
import { provenanceXmp } from './provenance-xmp.js';

/** Output formats whose XMP sharp writes and readers find. */
const CARRY_XMP = new Set(['avif', 'webp', 'png', 'jpeg', 'jpg']);

const service: LocalImageService<SharpImageServiceConfig> = {
  ...sharpService,
  async transform(input, transform, config, logger) {
    const png = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    // A decoder draws a file cut short without an error, grey from where it stops: a generated one is
    // refused (an author's own image is Astro's business, as before).
    const cutShort = startsAsPng(png) && !endsWhole(png) ? cutShortImageError(png) : undefined;
    if (cutShort) throw cutShort;
    return transformImage(input, transform, config, logger);
  },
};

export default service;

const transformImage: LocalImageService<SharpImageServiceConfig>['transform'] = async (input, transform, config, logger) => {
  const format = transform.format ?? 'webp';
  const xmp = CARRY_XMP.has(format) ? generatedImageXmp(input) : undefined;
  if (!xmp) return sharpService.transform(input, transform, config, logger);
  // Astro's own resize and crop, losslessly, then the requested encoding with the XMP added.
  const resized = await sharpService.transform(input, { ...transform, format: 'png', quality: undefined }, config, logger);
  const { default: sharp } = await import('sharp');
  const encoder = resolveSharpEncoderOptions({ format, quality: transform.quality }, 'png', config.service.config);
  const data = await sharp(resized.data)
    .withXmp(xmp)
    .toFormat(format === 'jpg' ? 'jpeg' : (format as 'avif' | 'webp' | 'png' | 'jpeg'), encoder)
    .toBuffer();
  return { data, format };
};

/**
 * A generated image cut short (by a copy or a merge tool) decodes without an error, grey from where it
 * stops. Such a file still names itself: the error says which it is and how to get it back. Undefined
 * for any other image.
 */
function cutShortImageError(png: Buffer): AstroComfyUIError | undefined {
  const file = generatedEntryOf(png)?.entry.file;
  if (file === undefined) return undefined;
  // Astro folds image errors into one "Error generating image for …" line without the hint: the fix is in the message.
  const error = new AstroComfyUIError(
    'IMAGE_DAMAGED',
    `The generated image ${file} is cut short: it ends before its last PNG chunk (a copy or a merge tool stopped midway?). Restore it from git (git checkout -- '*/${file}'), or delete it to have it made again where ComfyUI runs (astro build, or npx astro-comfyui generate).`,
  );
  // Astro's image pipeline passes on an error of type "AstroError" as it is, and wraps any other (ours
  // are "AstroUserError") in "Could not transform image /_astro/<hash>.png", where this message is lost.
  Object.defineProperty(error, 'type', { value: 'AstroError' });
  return error;
}

/** The provenance XMP of a PNG astro-comfyui generated, from the entry it carries; undefined for any other image. */
function generatedImageXmp(input: Uint8Array): string | undefined {
  const carried = generatedEntryOf(Buffer.from(input.buffer, input.byteOffset, input.byteLength));
  return carried && provenanceXmp(carried.key, carried.entry);
}

/** The key and entry a PNG astro-comfyui generated carries; undefined for any other image. */
function generatedEntryOf(png: Buffer): { key: string; entry: ManifestEntry } | undefined {
  if (!startsAsPng(png)) return undefined;
  const carried = readPngEntry(png);
  // Only a well-formed entry counts; a file that merely has a chunk of that name is left as it is.
  if (!carried || typeof carried.key !== 'string' || findEntryProblems(carried.key, carried.entry).length > 0) return undefined;
  return { key: carried.key, entry: carried.entry as unknown as ManifestEntry };
}
