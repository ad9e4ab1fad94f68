import { randomInt, randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import type { ComfyUIPool, ComfyUISupervisor, Logger, PromptProgress } from '@astro-comfyui/comfyui';
import { formatDuration, isLeaveRunning, redactComfyUIUrl, withFreshRun, type WorkflowTemplate } from '@astro-comfyui/comfyui/workflows';
import { acquireLock } from './acquire-lock.js';
import { findImagesElsewhere } from './find-images-elsewhere.js';
import { warnUnboundValues } from './find-unbound-values.js';
import { createPool } from './create-pool.js';
import { EarlierImages } from './earlier-images.js';
import { adoptImages, readAdoptableEntry } from './adopt-images.js';
import { assertImagesFetched } from './assert-images-fetched.js';
import { ManifestWriter } from './manifest-writer.js';
import { loadTemplate } from './collect-post-images.js';
import { pinImageIntoPost, pinTargetOf } from './pin-image-into-post.js';
import { cacheDirectory } from './cache-directory.js';
import { classifyImages, listImageFiles } from './classify-images.js';
import { preflightImages } from './preflight-images.js';
import { formatList } from './format-list.js';
import { listedWithoutFile, listedWithoutFileHint, noteOfMissingImage } from './listed-without-file.js';
import { AstroComfyUIError } from './astro-comfyui-error.js';
import { readManifest, type Manifest } from './manifest.js';
import { readCommittedManifest } from './read-committed-manifest.js';
import type { ResolvedOptions } from './options.js';
import { removeLeftPostTempFiles, removeLeftTempFiles } from './remove-left-temp-files.js';
import { renderPlaceholder } from './render-placeholder.js';
import { interruptingSignal } from './run-interruptibly.js';
import { imagesToRestamp, restampImages } from './restamp-images.js';
import { warnIfGitIgnores } from './warn-if-git-ignores.js';
import { resolveImage, type ResolvedImage } from './resolve-image.js';
import { writeImage } from './write-image.js';
import { QuietJobReporter } from './quiet-job-reporter.js';
import { suggestComfyUIDesktop } from './suggest-comfyui-desktop.js';

export interface SyncContext {
  logger: Logger;
  signal?: AbortSignal;
  /**
   * The signal of one image's generation (dev: it aborts when no post asks for the image any more); an
   * image stopped by it is dropped, not failed. Default: `signal`.
   */
  signalOf?: (image: ResolvedImage) => AbortSignal | undefined;
  /** Called after each image file is written (its manifest entry follows in a batch); its failure is logged, not fatal. */
  onImageReady?: (image: ResolvedImage, made: { placeholder: boolean }) => void | Promise<void>;
  /** Report what would happen without generating or writing anything. */
  dryRun?: boolean;
  /** A ComfyUI supervisor that outlives this run (dev); without it the run starts and stops its own. */
  supervisor?: ComfyUISupervisor;
  /** Live progress of each generation (toolbar, CLI progress bars). */
  onProgress?: (image: ResolvedImage, progress: PromptProgress & { endpoint: string }) => void;
  /** The committed manifest as readCommittedManifest just returned it (dev reads it first to show what is committed); read here otherwise. */
  manifest?: Manifest;
  /** The images folder's file names as just listed (dev lists it for its index too); listed here otherwise. */
  files?: Set<string>;
  /**
   * When images that no ComfyUI answered for are made without anyone asking (dev: "as soon as a ComfyUI
   * answers…"); builds say "on the next build with ComfyUI".
   */
  whenComfyUIAnswers?: string;
  /** The same for images that no ComfyUI had the node types or model files for (dev: "as soon as a ComfyUI has…"). */
  whenComfyUICanRun?: string;
  /**
   * Images that cannot be made fail the run whatever `onMissing` says, and the advice offers no
   * placeholders: `generate` was asked to make the images, and placeholders written by it would be
   * committed as if it had.
   */
  realImagesOnly?: boolean;
}

export interface SyncSummary {
  /** The images as made: a `regenerate: true` prompt appears with the new seed it was generated with. */
  images: ResolvedImage[];
  total: number;
  ready: number;
  generated: number;
  placeholders: number;
  /** Images that would be generated (dry run) or were missing. */
  todo: ResolvedImage[];
  /** Keys of the images that had no committed file at the start. */
  missing: Set<string>;
  failed: Array<{ image: ResolvedImage; error: Error }>;
  /** The manifest when the run ended: what it read, or, once it committed images, what is on disk then. */
  manifest: Manifest;
  /**
   * Why the missing images became placeholders although ComfyUI was to make them: no ComfyUI answered, or
   * none had what they need. Null when they were made, failed, or frozen mode never asked.
   */
  waitingFor: 'comfyui' | 'requirements' | null;
}

export { classifyImages, type ImageState } from './classify-images.js';

/**
 * Makes every image exist: committed ones are used as they are; missing ones are generated through
 * the pool (mode `generate`/`force`) or become placeholders / an error (mode `frozen`, or no ComfyUI).
 * One failed image does not stop the others; failures are reported together at the end.
 */
export async function syncImages(requested: ResolvedImage[], options: ResolvedOptions, context: SyncContext): Promise<SyncSummary> {
  const { logger } = context;
  const template = await loadTemplate(options);
  if (template) warnUnboundValues(template, requested, options.root, logger);
  const images = await reseedRegenerated(requested, options, context, template);
  const unique = [...new Map(images.map((image) => [image.key, image])).values()];
  // Outside CI a conflicted manifest is merged; in frozen mode the error explains how to fix it.
  const committed = context.manifest ?? (await readCommittedManifest(options, logger, options.mode !== 'frozen' && !context.dryRun));
  let files = context.files;
  if (!files) {
    files = await listImageFiles(options.outDir);
    if (!context.dryRun) await removeLeftTempFiles(options, files, logger);
    if (!context.dryRun) await removeLeftPostTempFiles(images, options, logger);
  }
  const { manifest } = await adoptImages(unique, options, committed, { write: !context.dryRun, logger, files });
  const states = await classifyImages(unique, options, manifest, files);
  const missing = new Set(unique.filter((image) => states.get(image.key) === 'missing').map((image) => image.key));
  await assertImagesFetched(unique, states, manifest, options);
  const elsewhere = await findImagesElsewhere(missing.size, options, files);
  if (elsewhere) throw new AstroComfyUIError('IMAGES_ELSEWHERE', `${elsewhere.message} Nothing was generated.`, elsewhere.hint);
  const summary: SyncSummary = {
    images,
    total: unique.length,
    ready: 0,
    generated: 0,
    placeholders: 0,
    todo: [],
    missing,
    failed: [],
    manifest,
    waitingFor: null,
  };
  const wanted = (image: ResolvedImage) => {
    const state = states.get(image.key)!;
    if (options.mode === 'force' || (image.request.regenerate && options.mode !== 'frozen')) return true;
    if (state === 'ready') return false;
    // A committed placeholder is replaced as soon as ComfyUI can make the real image.
    return state === 'missing' || options.mode !== 'frozen';
  };
  summary.todo = unique.filter(wanted);
  const todo = new Set(summary.todo);
  // Committed placeholders that stay (frozen mode) are counted as placeholders, never as real images.
  const keptPlaceholders = unique.filter((image) => !todo.has(image) && states.get(image.key) === 'placeholder').length;
  summary.placeholders = keptPlaceholders;
  summary.ready = unique.length - summary.todo.length - keptPlaceholders;
  // Committed images whose disclosure mark changed are re-stamped, never generated again.
  const restamp = imagesToRestamp(
    unique.filter((image) => !todo.has(image)),
    manifest,
    options,
  );
  if ((summary.todo.length === 0 && restamp.length === 0) || context.dryRun) return summary;

  const writer = new ManifestWriter(options.manifestFile, cacheDirectory(options), { onWait: (message) => logger.info(`Waiting: ${message}.`) });
  try {
    if (restamp.length > 0) await restampImages(restamp, manifest, options, logger, writer, (image) => notifyReady(context, image, false));
    if (summary.todo.length > 0) await makeImages(summary, manifest, options, context, writer);
  } finally {
    await writer.flush();
  }
  // Re-read: the entries of this run, merged with what other builds committed meanwhile.
  summary.manifest = await readManifest(options.manifestFile);
  if (summary.generated > 0) {
    const made = summary.todo.find((image) => summary.manifest.images[image.key] && !summary.manifest.images[image.key]!.placeholder);
    await warnIfGitIgnores(made, options, logger);
  }
  return summary;
}

/** Generates what is missing through the pool, or makes placeholders, or explains why neither. */
async function makeImages(
  summary: SyncSummary,
  manifest: Manifest,
  options: ResolvedOptions,
  context: SyncContext,
  writer: ManifestWriter,
): Promise<SyncSummary> {
  const { logger } = context;
  if (options.mode === 'frozen') return placeOrFail(summary, options, context, manifest, 'frozen mode (CI) never contacts ComfyUI', writer);
  // Before any GPU work: an image that cannot be saved must not cost minutes of generation first.
  await assertWritable(options);

  const pool = await createPool(options, { logger, supervisor: context.supervisor });
  try {
    const up = await pool.connect();
    if (up === 0) {
      const desktop = await suggestComfyUIDesktop(options);
      const reasons = pool
        .status()
        .map((s) => `\n- ${s.url}: ${(s.lastError ?? 'not reachable').replace(/\n/g, '\n  ')}`)
        .join('');
      summary.waitingFor = 'comfyui';
      return await placeOrFail(summary, options, context, manifest, `no ComfyUI answers:${reasons}`, writer, desktop);
    }
    try {
      await preflightImages(pool, summary.todo, options, logger);
    } catch (error) {
      // Like no ComfyUI at all: the images cannot be made now (a checkpoint still downloading, a new GPU
      // machine not set up yet), which is what placeholders are for. The error says what to install.
      if (!(error instanceof AstroComfyUIError && error.code === 'MISSING_REQUIREMENTS')) throw error;
      if (options.onMissing !== 'placeholder' || context.realImagesOnly) {
        const placeholders = context.realImagesOnly ? '' : ' Or set onMissing: "placeholder" to build with marked placeholders meanwhile.';
        throw new AstroComfyUIError(error.code, error.message, `${error.hint}${placeholders}`);
      }
      summary.waitingFor = 'requirements';
      return await placeOrFail(summary, options, context, manifest, `no ComfyUI has what they need:\n${error.message}`, writer, error.hint);
    }
    await generateAll(pool, summary, manifest, options, context, writer);
  } finally {
    await pool.close();
  }
  if (context.signal?.aborted) {
    const jobs = isLeaveRunning(context.signal.reason)
      ? "The jobs still waiting in ComfyUI's queue were taken back; an image it was making finishes there, and the next run collects it."
      : 'The jobs sent to ComfyUI were cancelled.';
    throw new AstroComfyUIError(
      'STOPPED',
      `Stopped before every image was made: ${summary.generated} of ${summary.todo.length} generated and kept. ${jobs}`,
      'Run it again to make the rest: only what is missing is made.',
    );
  }
  if (summary.failed.length > 0) {
    const list = formatList(
      summary.failed.map(({ image, error }) => `${image.request.post} › ${image.request.field} ("${truncate(image.request.prompt)}"): ${error.message}`),
      'each failure is in the log above',
    );
    // The client's message says to raise "the deadline": here that is an option, which it cannot name.
    const slow = summary.failed.some(({ error }) => (error as { code?: string }).code === 'DEADLINE_EXCEEDED')
      ? ` If ComfyUI is only slow (a busy queue, --cpu), raise imageDeadlineMs in the astro-comfyui options (now ${formatDuration(options.imageDeadlineMs)}).`
      : '';
    throw new AstroComfyUIError(
      'GENERATION_FAILED',
      `${summary.failed.length} of ${summary.todo.length} images could not be generated:\n${list}`,
      (summary.generated > 0
        ? `The other ${summary.generated} image${summary.generated > 1 ? 's were' : ' was'} generated and kept; fix the cause above and build again to generate only what is missing.`
        : 'No image was generated; fix the cause above and build again.') + slow,
    );
  }
  return summary;
}

async function generateAll(
  pool: ComfyUIPool,
  summary: SyncSummary,
  manifest: Manifest,
  options: ResolvedOptions,
  context: SyncContext,
  writer: ManifestWriter,
): Promise<void> {
  // Images with no file at the start (not forced, not regenerated): if one appears, another build made it.
  const missing = new Set(
    options.mode === 'force' ? [] : summary.todo.filter((image) => !image.request.regenerate && summary.missing.has(image.key)).map((image) => image.key),
  );
  const { logger } = context;
  const limit = pLimit(options.concurrency);
  const started = Date.now();
  let done = 0;
  let lastStepLog = 0;
  let lastQueueLog = 0;
  const total = summary.todo.length;
  logger.info(`Generating ${total} image${total > 1 ? 's' : ''} with ComfyUI (${options.endpoints.map(redactComfyUIUrl).join(', ')}).`);
  const replacing = new EarlierImages(manifest, summary.todo).summarise(summary.todo);
  if (replacing) logger.info(replacing);
  await Promise.all(
    summary.todo.map((image) => {
      // Taken now, not when its turn comes: an image still waiting for a turn can be stopped too.
      const signal = context.signalOf?.(image) ?? context.signal;
      return limit(async () => {
        // Stopped on its own (dev: no post asks for it now), not with the whole run: dropped, not failed.
        const dropped = () => signal?.aborted && !context.signal?.aborted;
        const drop = () => {
          done++;
          logger.info(`${image.request.post} › ${image.request.field}: dropped, no post asks for it any more.`);
        };
        if (signal?.aborted) {
          if (dropped()) drop();
          return;
        }
        const lockDir = cacheDirectory(options);
        let release: () => Promise<void>;
        try {
          release = await acquireLock(path.join(lockDir, `${image.key}.lock`), {
            what: `Generating ${image.fileName}`,
            timeoutMs: options.imageDeadlineMs,
            signal,
            onWait: (message) => logger.info(`Waiting: ${message}.`),
          });
        } catch (error) {
          // Stopped while another build held the image: nothing was sent for it.
          if (!signal?.aborted) throw error;
          if (dropped()) drop();
          return;
        }
        let stop: ReturnType<typeof interruptingSignal> | undefined;
        /** How the log names this image while it runs: `[3/8] src/content/blog/harbour.md › image`. */
        const running = () => `[${done + 1}/${total}] ${image.request.post} › ${image.request.field}`;
        // A job ComfyUI is quiet about (loading the model files, decoding) still shows in the log.
        const quiet = new QuietJobReporter(running, (line) => logger.info(line));
        try {
          // Another build may have made it while we waited for the lock: its file is there (written
          // before its manifest entry, which that build may not have flushed yet), so this run records
          // the entry the file carries and its pages show the image.
          // (A committed placeholder being replaced has its file already: only a missing one counts.)
          const madeElsewhere = missing.has(image.key) ? await readAdoptableEntry(path.join(options.outDir, image.fileName), image) : undefined;
          if (madeElsewhere) {
            writer.add(image.key, madeElsewhere);
            summary.ready++;
            await notifyReady(context, image, false);
            return;
          }
          // --force promises a real run: ComfyUI must not answer from its cache, and an earlier job under
          // the image's usual prompt id must not be reused.
          const fresh = options.mode === 'force';
          const nonce = randomUUID().slice(0, 8);
          // Stopped (Ctrl-C), a job is left to finish for the next run, which asks for it by its prompt id;
          // a forced one (its own id) or a regenerated one (a new random seed each run) is interrupted.
          stop = signal && (fresh || image.request.regenerate) ? interruptingSignal(signal) : undefined;
          const result = await pool.run(fresh ? withFreshRun(image.buildWorkflow(), nonce) : image.buildWorkflow(), {
            promptId: `astro-comfyui-${image.key.slice(0, 40)}${fresh ? `-${nonce}` : ''}`,
            label: `${image.request.post} › ${image.request.field}`,
            signal: stop?.signal ?? signal,
            ...(image.madeSize ? { expectImage: image.madeSize } : {}),
            onProgress: (progress) => {
              context.onProgress?.(image, progress);
              quiet.onProgress(progress);
              if (progress.type === 'step' && Date.now() - lastStepLog > 5000) {
                lastStepLog = Date.now();
                logger.info(`${running()}: step ${progress.value}/${progress.max}`);
              }
              // More jobs ahead than this run keeps queued there: a shared ComfyUI is busy with other
              // people's work, which can take long; say so instead of going silent.
              if (progress.type === 'queued' && progress.position > options.queueAhead && Date.now() - lastQueueLog > 10_000) {
                lastQueueLog = Date.now();
                logger.info(
                  `${image.request.post} › ${image.request.field}: waiting in the queue of ${progress.endpoint}, ${progress.position} jobs ahead (not all from this build).`,
                );
              }
            },
          });
          const png = result.images[0]!.data;
          await writeImage(
            image,
            png,
            options,
            {
              placeholder: false,
              durationMs: result.durationMs,
              comfyuiVersion: result.comfyuiVersion,
            },
            writer,
          );
          summary.generated++;
          done++;
          if (image.request.regenerate) await recordSeed(image, options, logger);
          const elapsed = Date.now() - started;
          const eta = done < total ? ` — about ${formatDuration((elapsed / done) * (total - done))} left` : '';
          logger.info(`[${done}/${total}] ${image.request.post} › ${image.request.field} → ${image.fileName} (${formatDuration(result.durationMs)})${eta}`);
          await notifyReady(context, image, false);
        } catch (error) {
          if (dropped()) return drop();
          // The whole run was stopped (Ctrl-C): not a failure of this image.
          if (context.signal?.aborted) return;
          done++;
          summary.failed.push({ image, error: error as Error });
          logger.error(`[${done}/${total}] ${image.request.post} › ${image.request.field} failed: ${(error as Error).message}`);
        } finally {
          quiet.stop();
          stop?.release();
          await release();
        }
      });
    }),
  );
}

async function placeOrFail(
  summary: SyncSummary,
  options: ResolvedOptions,
  context: SyncContext,
  manifest: Manifest,
  why: string,
  writer: ManifestWriter,
  /** What to set to use a ComfyUI found elsewhere (ComfyUI Desktop's port), in place of the general advice. */
  fix?: string,
): Promise<SyncSummary> {
  const missing = summary.todo.filter((image) => !manifest.images[image.key] || !manifest.images[image.key]!.placeholder);
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
        (image) => `${image.request.post} › ${image.request.field}: "${truncate(image.request.prompt)}"${noteOfMissingImage(image, uncommitted, earlier)}`,
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
    throw new AstroComfyUIError(
      options.mode === 'frozen' ? 'MISSING_IMAGES' : 'COMFYUI_UNAVAILABLE',
      `${summary.todo.length} image${summary.todo.length > 1 ? 's are' : ' is'} not generated yet and ${why}\nMissing images:\n${list}`,
      !uncommittedHint
        ? hint
        : uncommitted.size < new Set(summary.todo.map((image) => image.key)).size
          ? `${uncommittedHint} For the others: ${hint}`
          : uncommittedHint,
    );
  }
  // A real image that a changed setting replaced by a placeholder is the surprise to explain.
  const replacing = earlier.summarise(summary.todo);
  context.logger.warn(
    `PLACEHOLDER IMAGES: ${summary.todo.length} image(s) are placeholders because ${why}\n${fix ? `${fix}\n` : ''}They are marked in the manifest and replaced by real images ${later ?? 'on the next build with ComfyUI'}.${replacing ? `\n${replacing}` : ''}${
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
  for (const image of missing) {
    const png = await renderPlaceholder(image.width, image.height, image.key, image.request.prompt);
    await writeImage(image, png, options, { placeholder: true, durationMs: 0, comfyuiVersion: null }, writer);
    summary.placeholders++;
    await notifyReady(context, image, true);
  }
  // Placeholders already committed for these images stay as they are.
  summary.placeholders += summary.todo.length - missing.length;
  return summary;
}

/**
 * `regenerate: true` asks for a new image: each such prompt gets a new random seed (and so a new key)
 * here, and once generated, the seed is written into the post in place of `regenerate: true`, so the
 * next builds reproduce that image. Frozen mode (CI) never regenerates.
 */
async function reseedRegenerated(
  images: ResolvedImage[],
  options: ResolvedOptions,
  context: SyncContext,
  template: WorkflowTemplate | undefined,
): Promise<ResolvedImage[]> {
  const asked = images.filter((image) => image.request.regenerate);
  if (asked.length === 0 || context.dryRun) return images;
  if (options.mode === 'frozen') {
    context.logger.warn(
      `regenerate: true is ignored in frozen mode (CI) for ${asked.map((i) => `${i.request.post} › ${i.request.field}`).join(', ')}: regenerate where ComfyUI runs.`,
    );
    return images;
  }
  return images.map((image) => (image.request.regenerate ? resolveImage({ ...image.request, seed: randomInt(2 ** 32) }, options, template) : image));
}

/** Writes the seed a regenerated image was made with into its post, replacing `regenerate: true`. */
async function recordSeed(image: ResolvedImage, options: ResolvedOptions, logger: Logger): Promise<void> {
  const { request } = image;
  const keep = `write seed: ${image.seed} there and remove regenerate: true to keep this image`;
  const { regenerate: _, post: _p, field: _f, index: _i, ...prompt } = request;
  try {
    await pinImageIntoPost(path.join(options.root, request.post), pinTargetOf(request.field, options.listField), { ...prompt, seed: image.seed });
    logger.info(`${request.post} › ${request.field}: recorded seed ${image.seed} in place of regenerate: true, so later builds keep this image.`);
  } catch (error) {
    logger.warn(
      `${request.post} › ${request.field} was regenerated with seed ${image.seed}, but the post could not be updated (${(error as Error).message}); ${keep}.`,
    );
  }
}

/** Checks that the images folder, the manifest and the cache folder can be written, naming the one that cannot. */
async function assertWritable(options: ResolvedOptions): Promise<void> {
  const targets: Array<[string, string]> = [
    [options.outDir, 'the generated images folder'],
    [cacheDirectory(options), 'the astro-comfyui cache folder'],
  ];
  for (const [dir, what] of targets) {
    const probe = path.join(dir, `.astro-comfyui-write-check-${process.pid}`);
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(probe, '');
      await rm(probe);
    } catch (error) {
      throw new AstroComfyUIError(
        'NOT_WRITABLE',
        `Cannot write to ${what} ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); nothing was generated.`,
        `Make ${path.relative(options.root, dir) || dir} writable (check its permissions and the disk), or set outDir in the astro-comfyui options.`,
        { cause: error },
      );
    }
  }
  await access(options.manifestFile, constants.W_OK).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return;
    throw new AstroComfyUIError(
      'NOT_WRITABLE',
      `Cannot write the image manifest ${options.manifestFile} (${error.code}); nothing was generated.`,
      'Make the file writable (check its permissions).',
      { cause: error },
    );
  });
}

async function notifyReady(context: SyncContext, image: ResolvedImage, placeholder: boolean): Promise<void> {
  try {
    await context.onImageReady?.(image, { placeholder });
  } catch (error) {
    context.logger.warn(`${image.fileName} is written, but updating the page failed: ${(error as Error).message}`);
  }
}

function truncate(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
