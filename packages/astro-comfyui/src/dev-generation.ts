import { stat } from 'node:fs/promises';
import path from 'node:path';
import { type ComfyUISupervisor, type Logger, silentLogger } from '@astro-comfyui/comfyui';
import type { ViteDevServer } from 'vite';
import { loadTemplate } from './collect-post-images.js';
import { createPool } from './create-pool.js';
import { describeError } from './describe-error.js';
import { PostCatalog } from './post-catalog.js';
import { buildSiteGraph, checkRequirements } from './preflight-images.js';
import type { ImageIndex } from './image-index.js';
import { listImageFiles } from './classify-images.js';
import { EarlierImages } from './earlier-images.js';
import type { Manifest } from './manifest.js';
import { readCommittedManifest } from './read-committed-manifest.js';
import type { ResolvedImage } from './resolve-image.js';
import type { ResolvedOptions } from './options.js';
import { removeLeftPostTempFiles, removeLeftTempFiles } from './remove-left-temp-files.js';
import { syncImages } from './sync-images.js';
import { IMAGE_READY_EVENT } from './dev-events.js';
import { invalidateImagesModule } from './vite-plugin-images.js';

/** How often dev looks for a ComfyUI while none answers. */
const COMFYUI_PROBE_INTERVAL_MS = 5000;
/**
 * How often dev asks the ComfyUIs that lack a model file or node type whether they have it now (a
 * download finished, a custom node installed): less often, as each look reads a whole `/object_info`.
 */
const REQUIREMENTS_PROBE_INTERVAL_MS = 10_000;
/** Failures that say nothing of the image (no ComfyUI answered): they do not hold it back. */
const TRANSIENT_FAILURES = new Set(['UNREACHABLE', 'ALL_ENDPOINTS_DOWN', 'TIMEOUT']);
/** When dev makes the images it could not make yet, as its messages say it. */
const ANSWERS_LATER = `as soon as a ComfyUI answers (astro dev looks for one every ${COMFYUI_PROBE_INTERVAL_MS / 1000} s)`;
const CAN_RUN_LATER = `as soon as a ComfyUI has what they need (astro dev looks every ${REQUIREMENTS_PROBE_INTERVAL_MS / 1000} s)`;

export interface DevGeneration {
  /** Re-reads `post` (a path) if given, rebuilds the image index from the manifest and invalidates the virtual module. */
  reindex(post?: string): Promise<void>;
  /** Rescans posts and generates what is missing; calls made while one runs are merged into one more run. */
  refresh(): Promise<void>;
  /** The same, trying again the images that failed (ComfyUI was started again). */
  retry(): Promise<void>;
  /**
   * The `slug` a post's frontmatter gives it, as the last run read it (a save is read by the run it
   * starts, once the editor is done writing); undefined before the first run has read the posts.
   */
  slugOf(post: string): string | undefined;
  /** What changed since the committed image of a missing image's place (EarlierImages), as the last run read the manifest. */
  changesOf(image: ResolvedImage): string[] | undefined;
  dispose(): Promise<void>;
}

/**
 * Dev mode: the server starts at once, missing images are generated in the background, and each new
 * image invalidates the virtual module and reaches the pages that show it.
 */
export function startDevGeneration(
  server: ViteDevServer,
  index: ImageIndex,
  options: ResolvedOptions,
  logger: Logger,
  supervisor?: ComfyUISupervisor,
): DevGeneration {
  const controller = new AbortController();
  // Mode "force" makes every image again once, as a build does, not at every save: each would send the
  // whole site to the GPU again. Until such a run has been made (ComfyUI may not answer yet), runs force.
  let forcePending = options.mode === 'force';
  if (forcePending) logger.info('Mode "force": every image is made again once; after that, astro dev makes only what is missing.');
  let running: Promise<void> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | null = null;
  let reported = new Set<string>();
  /** Posts added, changed or deleted since the last run. */
  const saved = new Set<string>();
  /** The posts read since the last run started (root-relative), changed or not. */
  const readSinceRun = new Set<string>();
  /**
   * The images that failed (by key, with their post). They are tried again when their post is saved or
   * ComfyUI comes back, not at every save of any post: with an editor's autosave, a lasting failure (the
   * GPU out of memory) would send the same job to the GPU, and its error to the log, every few seconds.
   */
  const failed = new Map<string, string>();
  /** retry() cleared `failed`: the next run goes over every post. */
  let retryAll = false;
  // A warning or error the last run gave is not given again by the next one when it is the same: while
  // no ComfyUI answers, each save of any post (every few seconds with an autosave) would print again the
  // whole list of images waiting for one. Dev says when it changes, and when a ComfyUI answers.
  let saidLastRun = new Set<string>();
  let saidThisRun = new Set<string>();
  const sayOnce = (say: (message: string) => void) => (message: string) => {
    saidThisRun.add(message);
    if (!saidLastRun.has(message)) say(message);
  };
  const runLogger: Logger = { info: (m) => logger.info(m), warn: sayOnce((m) => logger.warn(m)), error: sayOnce((m) => logger.error(m)) };
  /** Whether the current run went as far as making images (a save that changed no prompt does not). */
  let synced = false;
  const endRun = () => {
    if (!synced) return;
    synced = false;
    saidLastRun = saidThisRun;
    saidThisRun = new Set();
  };
  /** The images the current run is making (or will), each with its own stop. */
  const generating = new Map<string, AbortController>();
  // What the last run left: nothing to make (no image missing, failed or a placeholder to replace) or
  // not, the images folder and manifest it started from, and what it read of them. While the folder and
  // manifest stay so, the run after a save needs only the saved posts: none if no prompt changed, else
  // theirs, checked against what the last run read (at 50,000 posts reading the manifest and the folder
  // and checking every image cost ~0.8 s a save).
  let last: { nothingLeft: boolean; disk: string; manifest: Manifest; files: Set<string> } | undefined;
  /** A file in the images folder changed since the last run started (the watcher saw it). */
  let folderTouched = false;
  const outDir = path.resolve(options.outDir);
  /** The folder's and the manifest's identity and times: any write by rename or in place changes it. */
  const stampDisk = async () => {
    const stamps = await Promise.all(
      [outDir, options.manifestFile].map((file) =>
        stat(file, { bigint: true }).then(
          (s) => `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`,
          () => 'none',
        ),
      ),
    );
    return stamps.join(' ');
  };

  // Every post's images, read once; afterwards a save re-reads only the saved post.
  let catalog: PostCatalog | undefined;
  const loadCatalog = async () => {
    if (!catalog) {
      catalog = new PostCatalog(options, await loadTemplate(options));
      await catalog.loadAll();
    }
    return catalog;
  };

  /** Reads the posts saved since the catalog last read them (their changes wait in it for the next run). */
  const readSaved = (posts: PostCatalog) => {
    for (const file of saved) {
      const post = posts.postOf(file);
      posts.update(file);
      if (post) readSinceRun.add(post);
    }
    saved.clear();
  };

  // Dev may write (generate, pin), so a manifest git left conflicted is merged here as in builds.
  const readCommitted = () => readCommittedManifest(options, logger, options.mode !== 'frozen');
  /**
   * Points the virtual module at the committed images: of every post, or, with `only`, of those posts
   * (`images` are then theirs alone).
   */
  const updateIndex = (images: ResolvedImage[], manifest: Manifest, files: Set<string>, only?: ReadonlySet<string>) => {
    if (only) index.updatePosts(only, images, manifest, options.outDir, files);
    else index.update(images, manifest, options.outDir, files);
    invalidateImagesModule(server, index.takeChangedParts());
  };
  // The manifest as the latest run read it (`last` is unset while a run goes on, when the toolbar asks most).
  let committed: Manifest | undefined;
  const changesOf = (image: ResolvedImage) => (committed ? new EarlierImages(committed, [image]).changesOf(image) : undefined);

  const reindex = async (post?: string) => {
    const posts = await loadCatalog();
    if (post) posts.update(post);
    updateIndex(posts.images(), await readCommitted(), await listImageFiles(options.outDir));
  };

  // While no ComfyUI answers, or none has what the images need, dev looks again every few seconds and
  // makes what is missing as soon as one does (a GPU machine woken up, ComfyUI started by hand, a model
  // file copied in), not at the author's next save.
  let probe: NodeJS.Timeout | null = null;
  let probing: Promise<void> | undefined;
  const waitUntilReady = (wait: { ready: () => Promise<boolean>; intervalMs: number; said: string }) => {
    // One look at a time: a run that finds no ComfyUI while a look is under way leaves the next to it.
    if (probe || probing || controller.signal.aborted) return;
    probe = setTimeout(() => {
      probe = null;
      probing = wait.ready().then((ready) => {
        probing = undefined;
        if (controller.signal.aborted) return;
        if (!ready) return waitUntilReady(wait);
        logger.info(wait.said);
        void retry();
      });
    }, wait.intervalMs);
    // Never what keeps a process alive.
    probe.unref();
  };
  const waitForComfyUI = () =>
    waitUntilReady({
      ready: () => anyComfyUIAnswers(options, supervisor),
      intervalMs: COMFYUI_PROBE_INTERVAL_MS,
      said: 'ComfyUI answers now: making the images that are missing.',
    });
  const waitForRequirements = () =>
    waitUntilReady({
      ready: () => anyComfyUICanRun(options, supervisor),
      intervalMs: REQUIREMENTS_PROBE_INTERVAL_MS,
      said: 'A ComfyUI has what the images need now: making the images that are missing.',
    });

  const run = async () => {
    if (probe) clearTimeout(probe);
    probe = null;
    const posts = await loadCatalog();
    readSaved(posts);
    // A failed image whose post was saved is tried again, in a run over every post.
    let retrying = retryAll;
    retryAll = false;
    for (const [key, post] of failed) {
      if (readSinceRun.has(post)) {
        failed.delete(key);
        retrying = true;
      }
    }
    readSinceRun.clear();
    const changes = posts.takeChanges();
    const disk = await stampDisk();
    const previous = last;
    const only = previous?.nothingLeft && !retrying && !folderTouched && disk === previous.disk && changes !== 'all' ? changes : undefined;
    if (only?.size === 0) return;
    synced = true;
    // A run that fails on the way leaves nothing known: the next one is a full one.
    last = undefined;
    folderTouched = false;
    // Each problem is said once, when it appears, not again at every save of any post (the toolbar
    // keeps showing every current one).
    const problems = posts.problems().map((p) => `${p.post} › ${p.field} ${p.message}`);
    for (const problem of problems) if (!reported.has(problem)) logger.warn(problem);
    reported = new Set(problems);
    // Read once: the index shows what is committed while the sync below generates what is missing.
    const manifest = only ? previous!.manifest : await readCommitted();
    committed = manifest;
    // A listing of the last run has been swept already; a new one may show temp files a killed run left.
    const files = only ? previous!.files : await listImageFiles(options.outDir);
    if (!only) await removeLeftTempFiles(options, files, logger);
    const images = only ? posts.imagesOf(only) : posts.images();
    if (!only) await removeLeftPostTempFiles(images, options, logger);
    updateIndex(images, manifest, files, only);
    const tried = failed.size > 0 ? images.filter((image) => !failed.has(image.key)) : images;
    const summary = await syncImages(tried, forcePending || options.mode !== 'force' ? options : { ...options, mode: 'generate' }, {
      logger: runLogger,
      manifest,
      files,
      whenComfyUIAnswers: ANSWERS_LATER,
      whenComfyUICanRun: CAN_RUN_LATER,
      ...(supervisor ? { supervisor } : {}),
      signal: controller.signal,
      onImageFailed: (image, error) => {
        // ComfyUI out of reach is no lasting failure of the image: the next save tries it again.
        if (TRANSIENT_FAILURES.has((error as { code?: string }).code ?? '')) return;
        // A regenerated image has a new random key at each run: it is held back under its post's own.
        const shown = image.request.regenerate
          ? images.find((other) => other.request.post === image.request.post && other.request.field === image.request.field)
          : image;
        if (shown) failed.set(shown.key, image.request.post);
      },
      signalOf: (image) => {
        // A regenerated image has a new random key no post names yet: only the dev server stops it.
        if (image.request.regenerate) return controller.signal;
        const job = new AbortController();
        generating.set(image.key, job);
        return AbortSignal.any([controller.signal, job.signal]);
      },
      // A new image goes straight into the index: no re-read of the posts, the manifest or the folder.
      onImageReady: (image, { placeholder }) => {
        const file = path.join(options.outDir, image.fileName);
        // Each post that asks for this very image shows it (its file is named after one of them).
        for (const shown of [image, ...posts.sharing(image.key)]) index.add(shown, file, placeholder);
        invalidateImagesModule(server, index.takeChangedParts());
        // Pages that show it swap it in place (dev-client.ts); the others are left alone.
        server.hot.send({ type: 'custom', event: IMAGE_READY_EVENT, data: { file: image.fileName } });
      },
    }).finally(() => generating.clear());
    if (summary.waitingFor === 'comfyui') waitForComfyUI();
    if (summary.waitingFor === 'requirements') waitForRequirements();
    if (summary.waitingFor === null) forcePending = false;
    // After a run that made or failed anything, the next save runs in full (and retries).
    // Images put off until a ComfyUI can make them (a regenerated one) are left too: the next look runs in full.
    last = { nothingLeft: summary.todo.length === 0 && summary.waitingFor === null, disk, manifest: summary.manifest, files };
    committed = summary.manifest;
  };

  /**
   * A save during a run: the saved posts are read now, and an image no post asks for any more (its prompt
   * was edited while it waited or ran) is stopped, so the GPU goes to what the posts say now. The
   * autosave of an editor would otherwise queue an image for every half-typed prompt.
   */
  const dropUnwanted = () => {
    if (!catalog || generating.size === 0) return;
    readSaved(catalog);
    for (const [key, job] of generating) if (!catalog.wants(key)) job.abort();
  };

  const refresh = (): Promise<void> => {
    if (controller.signal.aborted) return Promise.resolve();
    if (running) {
      again = true;
      dropUnwanted();
      return running;
    }
    running = run()
      .catch((error: Error) => {
        const code = (error as { code?: string }).code;
        // The forced run was made; the images that failed keep their committed files.
        if (code === 'GENERATION_FAILED') forcePending = false;
        if (code === 'COMFYUI_UNAVAILABLE') waitForComfyUI();
        if (code === 'MISSING_REQUIREMENTS') waitForRequirements();
        const later =
          code === 'MISSING_REQUIREMENTS'
            ? `\nThe images are made ${CAN_RUN_LATER}.`
            : code === 'GENERATION_FAILED'
              ? '\nastro dev tries a failed image again when its post is saved, or when ComfyUI answers again after it was down.'
              : '';
        if (!controller.signal.aborted) runLogger.error(`${describeError(error)}${later}`);
      })
      .finally(() => {
        endRun();
        running = null;
        if (again) {
          again = false;
          void refresh();
        }
      });
    return running;
  };

  const retry = (): Promise<void> => {
    if (failed.size > 0) retryAll = true;
    failed.clear();
    return refresh();
  };

  const schedule = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void refresh(), 150);
  };
  // A saved post is read when the run starts, after the watcher has been quiet for 150 ms, not when the
  // watcher reports it: the watcher can report a save at its first write and drop the next ones (it
  // throttles changes to one per 50 ms), so a post read at once could stay half-written.
  // Before the catalog is loaded, any Markdown file may be a post.
  const mayBePost = (file: string) => (catalog ? catalog.covers(file) : /\.(md|mdx|markdoc)$/.test(file));
  const onChange = (file: string) => {
    if (inFolder(file)) folderTouched = true;
    if (!mayBePost(file)) return;
    saved.add(file);
    schedule();
  };
  // A generated image deleted while dev runs (by hand, to have it made again, or by a prune) leaves the
  // index at once, or every page importing the images module fails; the run then generates it again.
  const inFolder = (file: string) => path.dirname(path.resolve(options.root, file)) === outDir;
  const onUnlink = (file: string) => {
    if (!inFolder(file) || !file.endsWith('.png')) return onChange(file);
    folderTouched = true;
    schedule();
  };
  server.watcher.on('add', onChange);
  server.watcher.on('change', onChange);
  server.watcher.on('unlink', onUnlink);
  void refresh();

  return {
    reindex,
    refresh,
    retry,
    slugOf: (post) => catalog?.slugOf(post),
    changesOf,
    async dispose() {
      controller.abort();
      if (timer) clearTimeout(timer);
      if (probe) clearTimeout(probe);
      await probing;
      server.watcher.off('add', onChange);
      server.watcher.off('change', onChange);
      server.watcher.off('unlink', onUnlink);
      await running;
    },
  };
}

/** Whether any endpoint answers now; nothing is started. */
async function anyComfyUIAnswers(options: ResolvedOptions, supervisor: ComfyUISupervisor | undefined): Promise<boolean> {
  const pool = await createPool(options, { logger: silentLogger, supervisor, timeoutMs: 3000 });
  try {
    return (await pool.describe()).some((report) => report.up);
  } catch {
    return false;
  } finally {
    await pool.close();
  }
}

/** Whether any endpoint that answers now has every node type and model file the site's images use; nothing is started. */
async function anyComfyUICanRun(options: ResolvedOptions, supervisor: ComfyUISupervisor | undefined): Promise<boolean> {
  const graph = buildSiteGraph(options, await loadTemplate(options).catch(() => undefined));
  if (!graph) return false;
  const pool = await createPool(options, { logger: silentLogger, supervisor, timeoutMs: 15_000 });
  try {
    // Only `/object_info` is asked: an endpoint that does not answer it is `unchecked`, never ready.
    const checks = await Promise.all(pool.status().map(({ url }) => checkRequirements(pool, url, graph, options)));
    return checks.some(({ missing, unchecked }) => missing.length === 0 && unchecked === null);
  } catch {
    return false;
  } finally {
    await pool.close();
  }
}
