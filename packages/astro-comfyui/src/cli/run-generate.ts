import path from 'node:path';
import picomatch from 'picomatch';
import { assertNoProblems, collectPostImages, loadTemplate } from '../collect-post-images.js';
import { EarlierImages } from '../earlier-images.js';
import { listedWithoutFile, noteOfMissingImage } from '../listed-without-file.js';
import type { ResolvedOptions } from '../options.js';
import { runInterruptibly } from '../run-interruptibly.js';
import { syncImages } from '../sync-images.js';
import { createCliLogger } from './cli-logger.js';
import { ProgressLine } from './progress-line.js';
import { describeJobPhase } from '../describe-job-phase.js';

/** `astro-comfyui generate`: make missing images outside a build (e.g. on the GPU box before committing). */
export async function runGenerate(options: ResolvedOptions, args: { force: boolean; only?: string; dryRun: boolean }): Promise<number> {
  const progress = new ProgressLine();
  const logger = createCliLogger(progress);
  // Asking for generation means generating, even where CI would default to frozen.
  const effective: ResolvedOptions = { ...options, mode: args.force ? 'force' : 'generate' };
  if (options.startNotUsed) logger.info(options.startNotUsed);
  const { images, problems } = await collectPostImages(effective, await loadTemplate(effective));
  const isSelected = args.only ? picomatch(args.only, { dot: true }) : () => true;
  const selected = images.filter((image) => isSelected(image.request.post) || isSelected(path.join(options.root, image.request.post)));
  assertNoProblems(problems.filter((p) => isSelected(p.post)));
  if (args.only && selected.length === 0) {
    // A bare file name is the likely slip: the glob is matched against the post's path from the project root.
    const anywhere = args.only.includes('/') ? '' : ` For that name in any folder: --only "**/${args.only}".`;
    logger.warn(
      `No post with an image prompt matches --only "${args.only}" (matched against paths such as ${images[0]?.request.post ?? 'src/content/blog/post.md'}).${anywhere}`,
    );
    return 0;
  }
  let done = 0;
  const total = new Set(selected.map((image) => image.key)).size;
  const summary = await runInterruptibly(logger, (signal) =>
    syncImages(selected, effective, {
      logger,
      signal,
      dryRun: args.dryRun,
      realImagesOnly: true,
      onImageReady: () => {
        done++;
      },
      onProgress: (image, p) => {
        if (p.type === 'step') progress.update(done, total, `${image.request.post} step ${p.value}/${p.max}`);
        // Where no step comes, what ComfyUI is doing: loading the model files above all (minutes, once).
        else if (p.type === 'executing') {
          const phase = describeJobPhase(p.classType);
          if (phase) progress.update(done, total, `${image.request.post} ${phase}`);
        }
      },
    }),
  );
  progress.clear();
  if (args.dryRun) {
    if (summary.todo.length === 0) logger.info(`${summary.total === 1 ? 'The image is' : `All ${summary.total} images are`} generated; nothing to do.`);
    else {
      logger.info(`Would generate ${summary.todo.length} of ${summary.total} image${summary.total === 1 ? '' : 's'}:`);
      const earlier = new EarlierImages(summary.manifest, summary.todo);
      const uncommitted = listedWithoutFile(summary.todo, summary.missing, summary.manifest);
      for (const image of summary.todo)
        logger.info(`  ${image.request.post} › ${image.request.field} → ${image.fileName}${noteOfMissingImage(image, uncommitted, earlier)}`);
    }
    return 0;
  }
  logger.info(
    `${summary.total} image${summary.total === 1 ? '' : 's'}: ${summary.ready} already generated, ${summary.generated} generated now${summary.placeholders ? `, ${summary.placeholders} placeholders` : ''}.`,
  );
  return 0;
}
