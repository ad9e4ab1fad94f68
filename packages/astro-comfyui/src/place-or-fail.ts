import path from 'node:path';
import { AstroComfyUIError } from './astro-comfyui-error.js';
import { EarlierImages } from './earlier-images.js';
import { formatList, shorten } from './format-list.js';
import { listedWithoutFile, listedWithoutFileHint, noteOfMissingImage } from './listed-without-file.js';
import type { Manifest } from './manifest.js';
import type { ManifestWriter } from './manifest-writer.js';
import { notifyReady } from './notify-ready.js';
import type { ResolvedOptions } from './options.js';
import { renderPlaceholder } from './render-placeholder.js';
import type { ResolvedImage } from './resolve-image.js';
import type { SyncContext, SyncSummary } from './sync-context.js';
import { writeImage } from './write-image.js';

/**
 * Missing images that ComfyUI cannot make now (frozen mode, none answers, none has what they need): an
 * error that lists them and says what to do, or, with `onMissing: "placeholder"`, marked placeholders.
 */
export async function placeOrFail(
  summary: SyncSummary,
  options: ResolvedOptions,
  context: SyncContext,
  manifest: Manifest,
  why: string,
  writer: ManifestWriter,
  /** What to set to use a ComfyUI found elsewhere (ComfyUI Desktop's port), in place of the general advice. */
  fix?: string,
): Promise<SyncSummary> {
  // Mode "force" puts committed images in the list too: with nothing to make them again, they stay as they
  // are. A placeholder never takes the place of a real image.
  const isCommitted = (image: ResolvedImage) => !summary.missing.has(image.key) && !manifest.images[image.key]?.placeholder;
  const committed = summary.todo.filter(isCommitted);
  const placeholders = summary.todo.filter((image) => !isCommitted(image));
  const earlier = new EarlierImages(manifest, summary.todo);
  const uncommitted = listedWithoutFile(summary.todo, summary.missing, manifest);
  const uncommittedHint = uncommitted.size > 0 ? listedWithoutFileHint(uncommitted.size, options) : undefined;
  const later =
    summary.waitingFor === 'comfyui'
      ? context.whenComfyUIAnswers
      : summary.waitingFor === 'requirements'
        ? (context.whenComfyUICanRun ?? 'on the next build with a ComfyUI that has what they need')
        : undefined;
  if (options.onMissing !== 'placeholder' || context.realImagesOnly) {
    const list = formatList(
      summary.todo.map(
        (image) => `${image.request.post} › ${image.request.field}: "${shorten(image.request.prompt)}"${noteOfMissingImage(image, uncommitted, earlier)}`,
      ),
      'npx astro-comfyui status lists them all',
    );
    const orPlaceholders = context.realImagesOnly ? '.' : ', or set onMissing: "placeholder".';
    const advice = fix
      ? `${fix}${context.realImagesOnly ? '' : ' Or set onMissing: "placeholder".'}`
      : options.mode === 'frozen'
        ? `Generate them where ComfyUI runs (astro build, or npx astro-comfyui generate) and commit ${path.relative(options.root, options.outDir)}; or set onMissing: "placeholder" to build with marked placeholders.`
        : options.start
          ? `ComfyUI could not be started: the reason and its log are above. Fix that, check the endpoint URL${orPlaceholders}`
          : options.startNotUsed
            ? `Start ComfyUI on the machine COMFYUI_URL points at (the start command in astro.config is for this one), check COMFYUI_URL${orPlaceholders}`
            : `Start ComfyUI (or set start: { cwd } so it is started for you), check COMFYUI_URL / endpoints${orPlaceholders}`;
    const hint = later ? `${advice} They are made ${later}.` : advice;
    const count = `${summary.todo.length} image${summary.todo.length > 1 ? 's are' : ' is'}`;
    throw new AstroComfyUIError(
      options.mode === 'frozen' ? 'MISSING_IMAGES' : 'COMFYUI_UNAVAILABLE',
      options.mode === 'force'
        ? `${count} to be made again (mode "force") and ${why}\nImages:\n${list}`
        : `${count} not generated yet and ${why}\nMissing images:\n${list}`,
      !uncommittedHint
        ? hint
        : uncommitted.size < new Set(summary.todo.map((image) => image.key)).size
          ? `${uncommittedHint} For the others: ${hint}`
          : uncommittedHint,
    );
  }
  summary.ready += committed.length;
  const kept = `${committed.length} committed image${committed.length > 1 ? 's stay' : ' stays'} as ${committed.length > 1 ? 'they are' : 'it is'}: mode "force" was to make ${committed.length > 1 ? 'them' : 'it'} again.`;
  if (placeholders.length === 0) {
    context.logger.warn(`No image was made again, because ${why}\n${fix ? `${fix}\n` : ''}${kept}`);
    return summary;
  }
  // A real image that a changed setting replaced by a placeholder is the surprise to explain.
  const replacing = earlier.summarise(placeholders);
  context.logger.warn(
    `PLACEHOLDER IMAGES: ${placeholders.length} image(s) are placeholders because ${why}\n${fix ? `${fix}\n` : ''}They are marked in the manifest and replaced by real images ${later ?? 'on the next build with ComfyUI'}.${committed.length > 0 ? `\n${kept}` : ''}${replacing ? `\n${replacing}` : ''}${
      uncommittedHint
        ? `\n${uncommittedHint}\n${formatList(
            summary.todo
              .filter((image) => uncommitted.has(image.key))
              .map((image) => `${image.request.post} › ${image.request.field} → ${manifest.images[image.key]!.file}`),
            'npx astro-comfyui status lists them all',
          )}`
        : ''
    }`,
  );
  for (const image of placeholders) {
    // Placeholders already committed for these images stay as they are.
    if (!summary.missing.has(image.key)) continue;
    const png = await renderPlaceholder(image.width, image.height, image.key, image.request.prompt);
    await writeImage(image, png, options, { placeholder: true, durationMs: 0, comfyuiVersion: null }, writer);
    await notifyReady(context, image, true);
  }
  summary.placeholders += placeholders.length;
  return summary;
}
