import { loadWorkflowTemplate, type WorkflowTemplate } from '@astro-comfyui/comfyui/workflows';
import { AstroComfyUIError } from './astro-comfyui-error.js';
import { formatList } from './format-list.js';
import type { ResolvedOptions } from './options.js';
import { resolveImage, ResolveProblem, type ResolvedImage } from './resolve-image.js';
import { scanPosts, type ImageRequest, type ScanProblem } from './scan-posts.js';

export interface PostImages {
  posts: number;
  images: ResolvedImage[];
  problems: ScanProblem[];
}

/** Scans the posts and resolves every prompt; problems of every post are collected, none hides another. */
export async function collectPostImages(options: ResolvedOptions, template?: WorkflowTemplate): Promise<PostImages> {
  const found: PostImages = { posts: 0, images: [], problems: [] };
  const unresolved: ScanProblem[] = [];
  // Each batch is resolved while the next one is read, instead of waiting for it.
  for await (const scan of scanPosts(options.root, options.content, options.field, options.listField)) {
    found.posts += scan.posts;
    found.problems.push(...scan.problems);
    const resolved = resolveRequests(scan.requests, options, template);
    found.images.push(...resolved.images);
    unresolved.push(...resolved.problems);
  }
  // The posts' own problems first, then those of the options they name.
  found.problems.push(...unresolved);
  return found;
}

export function resolveRequests(requests: ImageRequest[], options: ResolvedOptions, template?: WorkflowTemplate) {
  const images: ResolvedImage[] = [];
  const problems: ScanProblem[] = [];
  for (const request of requests) {
    try {
      images.push(resolveImage(request, options, template));
    } catch (error) {
      if (!(error instanceof ResolveProblem)) throw error;
      problems.push(error.problem);
    }
  }
  return { images, problems };
}

/** Loads the user workflow once per run, if one is configured. */
export async function loadTemplate(options: ResolvedOptions): Promise<WorkflowTemplate | undefined> {
  if (!options.workflow) return undefined;
  try {
    return await loadWorkflowTemplate(options.workflow.file, options.workflow.bindings);
  } catch (error) {
    throw new AstroComfyUIError(
      'INVALID_OPTIONS',
      (error as Error).message,
      'Check the "workflow" option in astro.config: the file must be an API-format export with valid bindings.',
      { cause: error },
    );
  }
}

/** One error that lists every bad prompt, grouped by post, with the fix for each. */
export function assertNoProblems(problems: ScanProblem[]): void {
  if (problems.length === 0) return;
  const posts = new Set(problems.map((p) => p.post));
  const list = formatList(
    problems.map((p) => `${p.post} › ${p.field} ${p.message}`),
    'npx astro-comfyui status lists them all',
  );
  throw new AstroComfyUIError(
    'INVALID_FRONTMATTER',
    `${posts.size} post${posts.size > 1 ? 's have' : ' has'} invalid image prompts:\n${list}`,
    'Fix the frontmatter of the posts listed above; the README has a frontmatter reference.',
  );
}
