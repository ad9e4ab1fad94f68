import { randomUUID } from 'node:crypto';
import path from 'node:path';
import pLimit from 'p-limit';
import type { ComfyUIPool } from '@astro-comfyui/comfyui';
import { formatDuration, isLeaveRunning, redactComfyUIUrl, withFreshRun } from '@astro-comfyui/comfyui/workflows';
import { acquireLock } from './acquire-lock.js';
import { adoptImages, readAdoptableEntry } from './adopt-images.js';
import { assertImagesFetched } from './assert-images-fetched.js';
import { assertWritable } from './assert-writable.js';
import { AstroComfyUIError } from './astro-comfyui-error.js';
import { cacheDirectory } from './cache-directory.js';
import { classifyImages, listImageFiles } from './classify-images.js';
import { loadTemplate } from './collect-post-images.js';
import { createPool } from './create-pool.js';
import { EarlierImages } from './earlier-images.js';
import { findImagesElsewhere } from './find-images-elsewhere.js';
import { warnUnboundValues } from './find-unbound-values.js';
import { formatList, shorten } from './format-list.js';
import { readManifest, type Manifest } from './manifest.js';
import { ManifestWriter } from './manifest-writer.js';
import { notifyReady } from './notify-ready.js';
import type { ResolvedOptions } from './options.js';
import { placeOrFail } from './place-or-fail.js';
import { preflightImages } from './preflight-images.js';
import { QuietJobReporter } from './quiet-job-reporter.js';
import { readCommittedManifest } from './read-committed-manifest.js';
import { removeLeftPostTempFiles, removeLeftTempFiles } from './remove-left-temp-files.js';
import { putOffRegenerated, recordSeed, reseedRegenerated } from './reseed-regenerated.js';
import type { ResolvedImage } from './resolve-image.js';
import { imagesToRestamp, restampImages } from './restamp-images.js';
import { interruptingSignal } from './run-interruptibly.js';
import { suggestComfyUIDesktop } from './suggest-comfyui-desktop.js';
import type { SyncContext, SyncSummary } from './sync-context.js';
import { warnIfGitIgnores } from './warn-if-git-ignores.js';
import { writeImage } from './write-image.js';

export type { SyncContext, SyncSummary } from './sync-context.js';
export { classifyImages, type ImageState } from './classify-images.js';

/**
 * Makes every image exist: committed ones are used as they are; missing ones are generated through
 * the pool (mode `generate`/`force`) or become placeholders / an error (mode `frozen`, or no ComfyUI
 * answers or has what they need; a `regenerate: true` prompt then keeps the image its post has).
 * One failed image does not stop the others; failures are reported together at the end.
 */
export async function syncImages(requested: ResolvedImage[], options: ResolvedOptions, context: SyncContext): Promise<SyncSummary> {
  const { logger } = context;
  const template = await loadTemplate(options);
  if (template) warnUnboundValues(template, requested, options.root, logger);
  const images = await reseedRegenerated(requested, options, context, template);
  const originals = new Map(images.flatMap((image, i) => (image === requested[i] ? [] : [[image, requested[i]!] as const])));
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
    const putOff = (reason: string, details: string) => putOffRegenerated(summary, originals, manifest, files, options, context, reason, details);
    if (summary.todo.length > 0) await makeImages(summary, manifest, options, context, writer, putOff);
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
  /** Sends `regenerate: true` prompts back to their posts' images when no ComfyUI can make new ones. */
  putOffRegenerated: (reason: string, details: string) => Promise<void>,
): Promise<SyncSummary> {
  const { logger } = context;
  // `generate` was asked for the new images: it fails instead.
  const putOff = async (reason: string, details: string) => {
    if (!context.realImagesOnly) await putOffRegenerated(reason, details);
    return summary.todo.length === 0;
  };
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
      if (await putOff('no ComfyUI answers', `${reasons.slice(1)}${desktop ? `\n${desktop}` : ''}`)) return summary;
      return await placeOrFail(summary, options, context, manifest, `no ComfyUI answers:${reasons}`, writer, desktop);
    }
    try {
      await preflightImages(pool, summary.todo, options, logger);
    } catch (error) {
      // Like no ComfyUI at all: the images cannot be made now (a checkpoint still downloading, a new GPU
      // machine not set up yet), which is what placeholders are for. The error says what to install.
      if (!(error instanceof AstroComfyUIError && error.code === 'MISSING_REQUIREMENTS')) throw error;
      summary.waitingFor = 'requirements';
      if (await putOff('no ComfyUI has what the images need', `${error.message}\n${error.hint}`)) return summary;
      if (options.onMissing !== 'placeholder' || context.realImagesOnly) {
        const placeholders = context.realImagesOnly ? '' : ' Or set onMissing: "placeholder" to build with marked placeholders meanwhile.';
        throw new AstroComfyUIError(error.code, error.message, `${error.hint}${placeholders}`);
      }
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
      summary.failed.map(({ image, error }) => `${image.request.post} › ${image.request.field} ("${shorten(image.request.prompt)}"): ${error.message}`),
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
          context.onImageFailed?.(image, error as Error);
        } finally {
          quiet.stop();
          stop?.release();
          await release();
        }
      });
    }),
  );
}
