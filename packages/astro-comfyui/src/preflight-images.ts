import type { ApiWorkflow, ComfyUIPool, Logger } from '@astro-comfyui/comfyui';
import {
  assertWorkflowRequirements,
  describeMissingRequirements,
  findMissingRequirements,
  isComfyUIError,
  type MissingRequirements,
  type WorkflowTemplate,
} from '@astro-comfyui/comfyui/workflows';
import { AstroComfyUIError } from './astro-comfyui-error.js';
import type { ResolvedOptions } from './options.js';
import { resolveImage, ResolveProblem, type ResolvedImage } from './resolve-image.js';
import { suggestInstalledModel } from './suggest-installed-model.js';

/**
 * Checks the graphs against `/object_info` of every endpoint that answers, before the first job. An
 * endpoint that lacks a node type or model file gets none of the jobs (the pool checks the others when
 * they come up); when no endpoint can run them, one error lists every missing piece on each.
 */
export async function preflightImages(pool: ComfyUIPool, images: ResolvedImage[], options: ResolvedOptions, logger: Logger): Promise<void> {
  const graphs = graphsToCheck(images);
  /** For each refused endpoint, the model options that would use what it has instead (if any would). */
  const suggestions = new Map<string, string | undefined>();
  const { admitted, refused } = await pool.admit((info, url) => {
    for (const graph of graphs) {
      try {
        assertWorkflowRequirements(graph, info, url);
      } catch (error) {
        // The refusal carries what is missing: no second look at the graph.
        if (isComfyUIError(error) && error.code === 'MISSING_NODES_OR_MODELS') {
          suggestions.set(url, suggestInstalledModel(options, error.details as unknown as MissingRequirements));
        }
        throw error;
      }
    }
  });
  // Said only when every refused endpoint would take the same settings: one config serves them all.
  const suggested = new Set(refused.map((r) => suggestions.get(r.url)));
  const suggestion = suggested.size === 1 ? [...suggested][0] : undefined;
  const fix = options.workflow
    ? 'Install what is listed or change the workflow file.'
    : `Install the files listed, or set model.checkpoint / model.textEncoders in the astro-comfyui options to files you have.${suggestion ? ` ${suggestion}` : ''}`;
  if (refused.length > 0 && admitted.length === 0) {
    throw new AstroComfyUIError('MISSING_REQUIREMENTS', refused.map((r) => r.error.message).join('\n'), fix);
  }
  for (const { error } of refused) logger.warn(`${error.message}\nThe other endpoints (${admitted.join(', ')}) make the images of this run meanwhile. ${fix}`);
}

/**
 * The graphs whose node types and model files stand for all of `images`: one per workflow id, as the
 * other images of that id differ only in prompt, seed and size.
 */
export function graphsToCheck(images: ResolvedImage[]): ApiWorkflow[] {
  const graphs = new Map<string, ApiWorkflow>();
  for (const image of images) if (!graphs.has(image.workflowId)) graphs.set(image.workflowId, image.buildWorkflow());
  return [...graphs.values()];
}

/**
 * The graph that stands for every image of the site: they all share one model setup (or the one workflow
 * file), so any prompt's graph has their node types and model files. `status` and the dev toolbar check
 * it even before a post has a prompt. Undefined when the model options themselves are wrong: every
 * image reports that as its problem.
 */
export function buildSiteGraph(options: ResolvedOptions, template: WorkflowTemplate | undefined): ApiWorkflow | undefined {
  try {
    return resolveImage({ prompt: 'a requirements check', post: 'check.md', field: options.field, index: 0 }, options, template).buildWorkflow();
  } catch (error) {
    if (error instanceof ResolveProblem) return undefined;
    throw error;
  }
}

/** What an endpoint lacks to run a graph, one line each, or why that was not checked. */
export interface RequirementsCheck {
  missing: string[];
  /** The first line of the error when its `/object_info` did not come: "nothing missing" would be a guess. */
  unchecked: string | null;
  /** The model options that would use the SD3.5 files it has instead of the missing ones, if any would. */
  suggestion: string | null;
}

/** What an endpoint lacks to run `graph` (the site's, made with `site`), or why it could not be asked. */
export async function checkRequirements(
  pool: ComfyUIPool,
  url: string,
  graph: ApiWorkflow,
  site: Pick<ResolvedOptions, 'model' | 'workflow'>,
  options: { timeoutMs?: number; signal?: AbortSignal } = {},
): Promise<RequirementsCheck> {
  const info = await pool.objectInfo(url, options).catch((error: Error) => error);
  if (info instanceof Error) return { missing: [], unchecked: info.message.split('\n')[0]!, suggestion: null };
  const missing = findMissingRequirements(graph, info);
  return { missing: describeMissingRequirements(missing), unchecked: null, suggestion: suggestInstalledModel(site, missing) ?? null };
}
