import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ComfyUISupervisor, Logger } from '@astro-comfyui/comfyui';
import { cacheDirectory } from '../cache-directory.js';
import { loadTemplate } from '../collect-post-images.js';
import { createPool } from '../create-pool.js';
import { ManifestWriter } from '../manifest-writer.js';
import type { ResolvedOptions } from '../options.js';
import { type PinnedPrompt, pinTargetOf, preparePin } from '../pin-image-into-post.js';
import { buildSiteGraph, checkRequirements, preflightImages } from '../preflight-images.js';
import type { ImageState } from '../classify-images.js';
import { pngSize } from '../png-text.js';
import { ResolveProblem, type ResolvedImage, resolveImage } from '../resolve-image.js';
import { listPosts, scanPost } from '../scan-posts.js';
import { writeFileAtomic } from '../write-file-atomic.js';
import { writeImage } from '../write-image.js';
import type { Reply } from './toolbar-channel.js';
import { pruneCandidates } from './prune-candidates.js';
import { CANDIDATE_ROUTE, EVENTS } from './toolbar-events.js';
import type { GenerateMessage, PinMessage } from './toolbar-messages.js';
import { describeError } from '../describe-error.js';
import { describeJobPhase } from '../describe-job-phase.js';
import { suggestComfyUIDesktop } from '../suggest-comfyui-desktop.js';

/** What the toolbar's actions work with, for the whole dev session. */
export interface ToolbarContext {
  options: ResolvedOptions;
  logger: Logger;
  supervisor: ComfyUISupervisor | undefined;
  candidatesDir: string;
  /** Aborted when the dev server stops. */
  signal: AbortSignal;
  /** Re-reads a post the toolbar wrote and refreshes the page's images. */
  refreshImages: (post: string) => Promise<void>;
  /** Makes what is missing or failed now (in the background): ComfyUI was just started. */
  generateMissing: () => void;
  /** What the dev server shows for an image now (its image index), without reading the manifest. */
  shownImage: (image: ResolvedImage) => { state: ImageState; file: string | null };
  /** The site's `base` (Astro's config), which starts every page's path and names no post. */
  base: string;
  /** The `slug` a post's frontmatter gives it (Astro's id for it, so its page's name), if known. */
  slugOf: (post: string) => string | undefined;
  /** What changed since the committed image of a missing image's place, e.g. `["steps 4 → 6"]`. */
  changesOf: (image: ResolvedImage) => string[] | undefined;
}

/** Only posts matched by the content globs exist for the toolbar; anything else is refused. */
export async function assertPost({ options }: ToolbarContext, post: string): Promise<void> {
  const posts = await listPosts(options.root, options.content);
  if (!posts.includes(post))
    throw new Error(`"${post}" is not a post inside the content folders (${options.content.join(', ')}); the toolbar only writes there.`);
}

/**
 * The position of a target among the post's images (it names the file: `harbour-1-….png`), as the scan
 * numbers them. The target is the image field, or an item of the list field that the post has.
 */
function indexOfTarget({ options }: ToolbarContext, post: string, target: string): number {
  if (target === options.field) return 0;
  const pin = pinTargetOf(target, options.listField);
  if (typeof pin === 'string') throw new Error(`"${target}" is not an image field; use ${options.field} or ${options.listField}[n].`);
  const { requests, problems } = scanPost(options.root, post, options.field, options.listField);
  const fields = [...requests, ...problems].map((r) => r.field.split('.')[0]);
  if (!fields.includes(target)) throw new Error(`${post} has no ${target}; reload the panel.`);
  return pin.item + (fields.includes(options.field) ? 1 : 0);
}

/**
 * How long the Advanced tab waits for a running endpoint's node list: longer than its other calls, as a
 * server with many custom nodes can take seconds to list them, and the states are shown meanwhile.
 */
const REQUIREMENTS_CHECK_TIMEOUT_MS = 15_000;

/**
 * Every endpoint's state for the Advanced tab, sent to `show` at once, then again with what each running
 * one lacks to make the site's images once that is known (`checking` until then). `override` names what
 * the managed one is doing (starting): that status is sent once, unchecked, so that starting does not
 * wait for the checks; the status sent once it runs checks every endpoint.
 */
export async function readStatus(
  { options, logger, supervisor, signal }: ToolbarContext,
  show: (endpoints: EndpointState[], observedAt: number) => void,
  override?: string,
) {
  const pool = await createPool(options, { logger, supervisor, timeoutMs: 3000 });
  try {
    // The graph to check the running endpoints against; none while starting (see above). A workflow file
    // that cannot be read is reported where images are made; the status still shows.
    const toCheck =
      override === undefined
        ? await loadTemplate(options).then(
            (template) => buildSiteGraph(options, template),
            () => undefined,
          )
        : undefined;
    const reports = await pool.describe();
    const elsewhere = reports.some((report) => report.up) ? undefined : await suggestComfyUIDesktop(options);
    const states = reports.map((report, i): EndpointState => {
      const managed = i === 0 && supervisor ? supervisor.status() : undefined;
      const unknown = { missing: [], unchecked: null, suggestion: null };
      if (!report.up) {
        return {
          url: report.url,
          state: override ?? (managed?.state === 'crashed' ? 'crashed' : 'stopped'),
          managed: false,
          canStart: Boolean(managed),
          version: null,
          devices: [],
          queue: 0,
          checking: false,
          elsewhere: elsewhere ?? null,
          ...unknown,
        };
      }
      return {
        url: report.url,
        state: 'running',
        managed: managed?.managed ?? false,
        canStart: false,
        version: report.comfyuiVersion,
        devices: report.devices,
        queue: report.queue,
        checking: toCheck !== undefined,
        elsewhere: null,
        ...unknown,
      };
    });
    // When the endpoints were seen as they are here: the later check results repeat this status, and the
    // panel shows the status seen last, whichever answer arrives last (a Refresh checked before Stop).
    const observedAt = performance.timeOrigin + performance.now();
    show(states, observedAt);
    if (!toCheck) return;
    // Each endpoint's result is shown as it comes: a slow one does not hold back the others'.
    await Promise.all(
      states.map(async (e, i) => {
        if (!e.checking) return;
        // Aborted with the dev server, which then need not wait for a slow machine to exit.
        const check = await checkRequirements(pool, e.url, toCheck, options, { timeoutMs: REQUIREMENTS_CHECK_TIMEOUT_MS, signal });
        states[i] = { ...e, checking: false, ...check };
        show([...states], observedAt);
      }),
    );
  } finally {
    await pool.close();
  }
}

/** One endpoint as the Advanced tab shows it (app-advanced-tab.ts). */
export interface EndpointState {
  url: string;
  state: string;
  managed: boolean;
  canStart: boolean;
  version: string | null;
  devices: Array<{ name: string; vramTotal: number; vramFree: number }>;
  queue: number;
  /** Its node list is still being read: `missing` and `unchecked` are not known yet. */
  checking: boolean;
  /** What it lacks to make this site's images, one line each. */
  missing: string[];
  /** Why that could not be checked (its node list did not come), or null when it was. */
  unchecked: string | null;
  /** The model options that would use the SD3.5 files it has instead of the missing ones, if any would. */
  suggestion: string | null;
  /** For a local ComfyUI that does not answer: where one does (ComfyUI Desktop's port), and what to set. */
  elsewhere: string | null;
}

/** Makes `message.count` candidates with consecutive seeds, reporting progress and each candidate as it comes. */
export async function generateCandidates(context: ToolbarContext, message: GenerateMessage, reply: Reply): Promise<void> {
  const { options, logger, supervisor, candidatesDir, signal } = context;
  const { requestId } = message;
  const template = await loadTemplate(options);
  if (template && message.count > 1 && !template.bindings.seed?.length) {
    // Candidates differ only by their seed: without a binding, ComfyUI would make one picture N times.
    throw new Error(
      `${path.relative(options.root, template.source)} binds no "seed", so every candidate would be the same picture. Ask for 1, or bind the sampler's seed in workflow.bindings.`,
    );
  }
  const index = indexOfTarget(context, message.post, message.target);
  const candidates = Array.from({ length: message.count }, (_, i) =>
    resolveImage({ ...promptOf(message), seed: message.seed + i, post: message.post, field: message.target, index }, options, template),
  );
  const pool = await createPool(options, { logger, supervisor, pollIntervalMs: Math.min(options.pollIntervalMs, 500) });
  try {
    if ((await pool.connect()) === 0) {
      const reason = pool
        .status()
        .map((s) => s.lastError ?? s.url)
        .join('; ');
      const elsewhere = await suggestComfyUIDesktop(options);
      throw new Error(`ComfyUI is not running: ${reason}${supervisor ? ' Start it in the Advanced tab.' : ''}${elsewhere ? ` ${elsewhere}` : ''}`);
    }
    await preflightImages(pool, candidates, options, logger);
    await mkdir(candidatesDir, { recursive: true });
    await Promise.all(
      candidates.map(async (image, index) => {
        const result = await pool.run(image.buildWorkflow(), {
          promptId: `astro-comfyui-${image.key.slice(0, 40)}`,
          label: `candidate ${index + 1} for ${image.request.post} › ${image.request.field}`,
          signal,
          ...(image.madeSize ? { expectImage: image.madeSize } : {}),
          // What a node ComfyUI began does, in words: the panel shows it while no step comes.
          onProgress: (p) => reply(EVENTS.progress, { requestId, index, ...p, ...(p.type === 'executing' ? { phase: describeJobPhase(p.classType) } : {}) }),
        });
        const png = result.images[0]!.data;
        await writeFileAtomic(path.join(candidatesDir, `${image.key}.png`), png);
        reply(EVENTS.candidate, {
          requestId,
          index,
          key: image.key,
          seed: image.seed,
          ...pngSize(png),
          url: `${CANDIDATE_ROUTE}${image.key}.png`,
          settings: { style: image.request.style ?? null, format: image.request.format ?? options.defaultFormat, preset: image.request.preset ?? null },
          workflow: image.buildWorkflow(),
        });
      }),
    );
    reply(EVENTS.done, { requestId });
  } finally {
    await pool.close();
    await pruneCandidates(candidatesDir).catch((error: Error) =>
      logger.warn(`Could not remove old toolbar candidates from ${candidatesDir}: ${error.message}`),
    );
  }
}

/** Commits the chosen candidate as the post's image and writes its prompt into the post. */
export async function pinCandidate(context: ToolbarContext, message: PinMessage, reply: Reply): Promise<void> {
  const { options, logger, candidatesDir, refreshImages } = context;
  const template = await loadTemplate(options);
  const index = indexOfTarget(context, message.post, message.target);
  const image = resolveImage({ ...promptOf(message), post: message.post, field: message.target, index }, options, template);
  if (image.key !== message.key) throw new Error('The settings changed since this candidate was generated; generate again before pinning.');
  const candidate = path.join(candidatesDir, `${image.key}.png`);
  const png = await readFile(candidate).catch(() => {
    throw new Error('This candidate is gone from the cache; generate it again.');
  });
  // A post that cannot take the pin is refused before the image is committed: a refusal changes nothing.
  const pin = await preparePin(path.join(options.root, message.post), pinTargetOf(message.target, options.listField), promptOf(message));
  const manifest = new ManifestWriter(options.manifestFile, cacheDirectory(options), { onWait: (m) => logger.info(`Waiting: ${m}.`) });
  await writeImage(image, png, options, { placeholder: false, durationMs: 0, comfyuiVersion: null }, manifest);
  await manifest.flush();
  await pin.write();
  await refreshImages(path.join(options.root, message.post));
  reply(EVENTS.pinned, { requestId: message.requestId, post: message.post, target: message.target, file: image.fileName, key: image.key });
}

/** The prompt of a toolbar request, as the frontmatter holds one. */
function promptOf(message: GenerateMessage | PinMessage): PinnedPrompt {
  const { requestId: _id, post: _post, target: _target, ...rest } = message;
  const { count: _count, key: _key, ...prompt } = rest as typeof rest & { count?: number; key?: string };
  return prompt;
}

/** A bad prompt reads better without the post and field, which the panel already shows. */
export function describe(error: Error): string {
  if (error instanceof ResolveProblem) return error.problem.message;
  // With its hint: a pin's line to write by hand, the settings that use the models a ComfyUI has.
  return describeError(error);
}
