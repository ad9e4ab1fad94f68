import { hash } from 'node:crypto';
import path from 'node:path';
import {
  applyWorkflowBindings,
  buildSd35Workflow,
  isComfyUIError,
  resolveSd35Model,
  resolveSd35Settings,
  type Sd35ModelSettings,
  type ApiWorkflow,
  type WorkflowTemplate,
} from '@astro-comfyui/comfyui/workflows';
import { canonicalJson } from './canonical-json.js';
import type { ResolvedOptions } from './options.js';
import type { ImageRequest, ScanProblem } from './scan-posts.js';

/** Bumped when the built-in graph changes in a way that changes pixels, so cached images are regenerated. */
const SD35_BUILDER_VERSION = 1;

/** How the workflow id of an image made with the author's own workflow starts. */
const CUSTOM_WORKFLOW = 'custom:';

/** SaveImage's filename_prefix in every graph this package submits: the folder on the ComfyUI server. */
export const SAVE_PREFIX = 'astro-comfyui/';

/** The start of the key a generated image's file name ends with (`<slug>-<12 hex>.png`); undefined for any other name. */
export function keyPrefixOf(fileName: string): string | undefined {
  return /-([0-9a-f]{12})\.png$/.exec(fileName)?.[1];
}

/** Everything that determines one image, its cache key and the graph that makes it. */
export interface ResolvedImage {
  request: ImageRequest;
  /** sha256 of the canonical JSON of everything that determines the pixels. */
  key: string;
  /** `<slug>-<key prefix>.png` inside outDir. */
  fileName: string;
  positive: string;
  negative: string;
  width: number;
  height: number;
  seed: number;
  /** Model files and sampler settings, recorded in the manifest. */
  model: Record<string, unknown>;
  /** `sd35:<preset>@<version>` or `custom:<sha256 of the workflow file>`. */
  workflowId: string;
  /**
   * The size its graph makes: the format's for the built-in graphs. Undefined for the author's own
   * workflow, which may scale the image (a hires fix, an upscaler) or have a size of its own; its PNG is
   * still checked whole, and the size it has is recorded.
   */
  readonly madeSize: { width: number; height: number } | undefined;
  /** Builds the graph to submit. Built on demand: a scan of thousands of cached posts never needs it. */
  buildWorkflow(): ApiWorkflow;
}

export class ResolveProblem extends Error {
  constructor(readonly problem: ScanProblem) {
    super(`${problem.post} › ${problem.field}: ${problem.message}`);
  }
}

/** Applies preset, style and format to a request and computes its key and graph. */
export function resolveImage(request: ImageRequest, options: ResolvedOptions, template?: WorkflowTemplate): ResolvedImage {
  const preset = named(options.presets, request.preset);
  if (request.preset !== undefined && !preset) throw unknown(request, 'preset', request.preset, options.presets);
  const styleName = request.style ?? preset?.style;
  const style = named(options.styles, styleName);
  if (styleName !== undefined && !style) throw unknown(request, 'style', styleName, options.styles);
  const formatName = request.format ?? preset?.format ?? options.defaultFormat;
  const format = named(options.formats, formatName);
  if (!format) throw unknown(request, 'format', formatName, options.formats);

  const positive = [style?.prefix, request.prompt, style?.suffix].filter((s) => s?.trim()).join(' ');
  const negative = [style?.negative, preset?.negative, request.negative].filter((s) => s?.trim()).join(', ');
  // Without a seed, derive one from the prompt: repeatable builds, and moving a post keeps its image.
  const seed = request.seed ?? preset?.seed ?? deriveSeed(request.prompt);
  const { width, height } = format!;

  let maker: WorkflowMaker;
  let model: Record<string, unknown>;
  // The model's canonical JSON, when it is known already (shared model setups): the key need not sort it again.
  let modelJson: string | undefined;
  let workflowId: string;
  let graphForKey: ApiWorkflow | undefined;
  try {
    if (template) {
      maker = templateMakerOf(template, options.model);
      graphForKey = maker.build({ positive, negative, seed, width, height });
      workflowId = workflowIdOf(template);
      model = { workflowFile: path.basename(template.source), bindings: template.bindings };
    } else {
      const setup = sd35SetupOf(options.model);
      // Checks the prompt, size and seed now, so a bad one is reported by the scan, not at submission.
      const settings = resolveSd35Settings({ prompt: positive, negative, width, height, seed }, setup.settings);
      maker = setup;
      workflowId = `sd35:${settings.model}@${SD35_BUILDER_VERSION}`;
      ({ model, json: modelJson } = setup);
    }
  } catch (error) {
    if (isComfyUIError(error)) throw problem(request, '', error.message);
    throw error;
  }

  const key = sha256(
    graphForKey === undefined && modelJson !== undefined
      ? keyText({ workflowId, modelJson, positive, negative, seed, width, height })
      : canonicalJson({ workflowId, model, positive, negative, seed, width, height, graph: graphForKey }),
  );
  const fileName = `${slugify(request.post)}${request.index > 0 ? `-${request.index}` : ''}-${key.slice(0, 12)}.png`;
  return new Resolved(request, key, fileName, positive, negative, width, height, seed, model, workflowId, maker);
}

/** What builds an image's graph from its own values: one per model setup or workflow file, shared by every image of a run. */
interface WorkflowMaker {
  build(image: Pick<ResolvedImage, 'positive' | 'negative' | 'seed' | 'width' | 'height'>): ApiWorkflow;
}

/**
 * A resolved image holds its values and a shared maker, no graph and no closure of its own: a scan of
 * 50,000 cached posts keeps 50,000 of them, and each one's size is paid in memory and garbage collection.
 */
class Resolved implements ResolvedImage {
  readonly #maker: WorkflowMaker;

  constructor(
    readonly request: ImageRequest,
    readonly key: string,
    readonly fileName: string,
    readonly positive: string,
    readonly negative: string,
    readonly width: number,
    readonly height: number,
    readonly seed: number,
    readonly model: Record<string, unknown>,
    readonly workflowId: string,
    maker: WorkflowMaker,
  ) {
    this.#maker = maker;
  }

  get madeSize() {
    return this.workflowId.startsWith(CUSTOM_WORKFLOW) ? undefined : { width: this.width, height: this.height };
  }

  buildWorkflow(): ApiWorkflow {
    const workflow = this.#maker.build(this);
    // SaveImage writes into an astro-comfyui subfolder on the server, named after the key.
    for (const node of Object.values(workflow)) {
      if (node.class_type === 'SaveImage') node.inputs.filename_prefix = `${SAVE_PREFIX}${this.key.slice(0, 12)}`;
    }
    return workflow;
  }
}

function problem(request: ImageRequest, field: string, message: string): ResolveProblem {
  return new ResolveProblem({ post: request.post, field: `${request.field}${field ? `.${field}` : ''}`, message });
}

/** A post names a preset, style or format the options do not define. */
function unknown(request: ImageRequest, kind: string, name: string, names: Record<string, unknown>): ResolveProblem {
  const known = `Known ${kind}s: ${Object.keys(names).join(', ') || '(none)'}. Add it to "${kind}s" in the astro-comfyui options.`;
  return problem(request, kind, `unknown ${kind} "${name}". ${known}`);
}

/**
 * The option a post names, only if the user defined it: names come from frontmatter, and "toString" or
 * "__proto__" must be unknown names, not what every object inherits.
 */
function named<T>(defined: Record<string, T>, name: string | undefined): T | undefined {
  return name !== undefined && Object.hasOwn(defined, name) ? defined[name] : undefined;
}

// Every image of a run shares one model setup: resolve it, and its canonical JSON for the key, once per
// model options instead of once per image. A failed setup is not kept, so each image reports it.
const sd35Setups = new WeakMap<ResolvedOptions['model'], WorkflowMaker & { settings: Sd35ModelSettings; model: Record<string, unknown>; json: string }>();
function sd35SetupOf(options: ResolvedOptions['model']) {
  let setup = sd35Setups.get(options);
  if (!setup) {
    const settings = resolveSd35Model({
      model: options.preset,
      checkpoint: options.checkpoint,
      textEncoders: options.textEncoders,
      steps: options.steps,
      cfg: options.cfg,
      sampler: options.sampler,
      scheduler: options.scheduler,
      shift: options.shift,
    });
    const model = { ...settings };
    const build: WorkflowMaker['build'] = ({ positive, negative, seed, width, height }) =>
      buildSd35Workflow(resolveSd35Settings({ prompt: positive, negative, width, height, seed }, settings)).workflow;
    setup = { settings, model, json: canonicalJson(model), build };
    sd35Setups.set(options, setup);
  }
  return setup;
}

/**
 * Exactly `canonicalJson({ workflowId, model, positive, negative, seed, width, height })` (keys in sorted
 * order, the model's canonical JSON given), without sorting again per image: the text the key hashes.
 */
export function keyText(p: { workflowId: string; modelJson: string; positive: string; negative: string; seed: number; width: number; height: number }): string {
  const j = JSON.stringify;
  return `{"height":${j(p.height)},"model":${p.modelJson},"negative":${j(p.negative)},"positive":${j(p.positive)},"seed":${j(p.seed)},"width":${j(p.width)},"workflowId":${j(p.workflowId)}}`;
}

// A workflow file's maker for the model options it is used with: their sampler values fill its bindings too.
const templateMakers = new WeakMap<WorkflowTemplate, { options: ResolvedOptions['model']; maker: WorkflowMaker }>();
function templateMakerOf(template: WorkflowTemplate, options: ResolvedOptions['model']): WorkflowMaker {
  const known = templateMakers.get(template);
  if (known?.options === options) return known.maker;
  const fixed = {
    ...(options.steps !== undefined ? { steps: options.steps } : {}),
    ...(options.cfg !== undefined ? { cfg: options.cfg } : {}),
    ...(options.sampler !== undefined ? { sampler: options.sampler } : {}),
    ...(options.scheduler !== undefined ? { scheduler: options.scheduler } : {}),
    ...(options.shift !== undefined ? { shift: options.shift } : {}),
  };
  const maker: WorkflowMaker = {
    build: ({ positive, negative, seed, width, height }) => applyWorkflowBindings(template, { prompt: positive, negative, seed, width, height, ...fixed }),
  };
  templateMakers.set(template, { options, maker });
  return maker;
}

const templateIds = new WeakMap<WorkflowTemplate, string>();
function workflowIdOf(template: WorkflowTemplate): string {
  let id = templateIds.get(template);
  if (id === undefined) {
    id = `${CUSTOM_WORKFLOW}${sha256(canonicalJson(template.workflow)).slice(0, 16)}`;
    templateIds.set(template, id);
  }
  return id;
}

export function deriveSeed(prompt: string): number {
  return Number.parseInt(sha256(prompt.trim()).slice(0, 8), 16);
}

function sha256(text: string): string {
  return hash('sha256', text, 'hex');
}

/**
 * A file-name-safe slug of the post's base name ("My Post – Ünïcode.md" → "my-post-unicode"); a
 * folder-style post (`my-trip/index.md`) is named by its folder, as Astro names its entry.
 */
export function slugify(post: string): string {
  const slash = post.lastIndexOf('/');
  let name = post.slice(slash + 1).replace(/\.[^.]+$/, '');
  if (slash > 0 && name.toLowerCase() === 'index') name = path.posix.basename(post.slice(0, slash));
  // Most post names are slugs already ("my-post"): slugText would give them back unchanged.
  return (/^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(name) ? name : slugText(name)).slice(0, 60) || 'image';
}

/** Text as lowercase ASCII letters and digits joined by single dashes, accents dropped ("Été à Brest" → "ete-a-brest"). */
export function slugText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}
