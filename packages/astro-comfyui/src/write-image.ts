import path from 'node:path';
import type { ManifestEntry } from './manifest.js';
import type { ManifestWriter } from './manifest-writer.js';
import type { ResolvedOptions } from './options.js';
import { withPngEntry } from './png-entry.js';
import { pngSize, setPngText } from './png-text.js';
import { PNG_XMP_KEYWORD, provenanceXmp } from './provenance-xmp.js';
import { markId, stampMark } from './stamp-mark.js';
import type { ResolvedImage } from './resolve-image.js';
import { writeFileAtomic } from './write-file-atomic.js';

/**
 * Commits one image: the PNG (atomically, with its disclosure mark, manifest entry and provenance XMP)
 * first, then its entry goes to the manifest writer, so an entry never names a missing file and a lost
 * entry can be rebuilt from the file.
 */
export async function writeImage(
  image: ResolvedImage,
  png: Buffer,
  options: ResolvedOptions,
  meta: Pick<ManifestEntry, 'placeholder' | 'durationMs' | 'comfyuiVersion'>,
  manifest: ManifestWriter,
): Promise<void> {
  const entry = manifestEntryFor(image, { ...meta, durationMs: Math.round(meta.durationMs), created: new Date().toISOString() });
  // Real images get the disclosure mark; placeholders are marked as placeholders already.
  const mark = meta.placeholder ? undefined : options.disclosure.mark;
  if (mark) entry.mark = markId(mark);
  const pixels = mark ? await stampMark(png, mark) : png;
  // What the file is: the author's own workflow may make another size than the format's.
  Object.assign(entry, pngSize(pixels));
  const xmp = options.disclosure.xmp ? provenanceXmp(image.key, entry) : undefined;
  const described = withPngEntry(pixels, image.key, entry);
  await writeFileAtomic(path.join(options.outDir, image.fileName), xmp ? setPngText(described, PNG_XMP_KEYWORD, xmp) : described);
  manifest.add(image.key, entry);
}

/** The manifest entry that records `image` as made, with how it was made. */
export function manifestEntryFor(image: ResolvedImage, meta: Pick<ManifestEntry, 'placeholder' | 'durationMs' | 'comfyuiVersion' | 'created'>): ManifestEntry {
  return {
    file: image.fileName,
    posts: [image.request.post],
    prompt: image.positive,
    negative: image.negative,
    seed: image.seed,
    width: image.width,
    height: image.height,
    workflow: image.workflowId,
    model: image.model,
    comfyuiVersion: meta.comfyuiVersion,
    created: meta.created,
    durationMs: meta.durationMs,
    placeholder: meta.placeholder,
  };
}
