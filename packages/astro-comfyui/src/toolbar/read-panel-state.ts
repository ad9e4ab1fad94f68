import path from 'node:path';
import { loadTemplate, resolveRequests } from '../collect-post-images.js';
import { readDevImageMetadata } from '../dev-image-metadata.js';
import { slugText } from '../resolve-image.js';
import { listPosts, scanPost } from '../scan-posts.js';
import type { ToolbarAccess } from './toolbar-access.js';
import type { ToolbarContext } from './toolbar-actions.js';
import { IMAGE_ROUTE } from './toolbar-events.js';

/** One image of the post in the panel: its prompt as the post has it, and what the site has for it. */
export interface PanelImage {
  /** The frontmatter field it lives in: `image`, or `images[1]`. */
  target: string;
  prompt: string;
  negative?: string;
  style?: string;
  format?: string;
  preset?: string;
  /** The seed the image is made with: the post's, or the one derived from the prompt. */
  seed: number;
  alt?: string;
  state: 'ready' | 'placeholder' | 'missing';
  /** For a missing image: what changed since the image this place of the post had committed, if it had one. */
  changes: string[] | null;
  file: string;
  /** The committed file, served to the panel; null while it is missing. */
  url: string | null;
  width: number;
  height: number;
  /** The exact graph that makes this image, for "Open in ComfyUI". */
  workflow: Record<string, unknown>;
}

/** What the panel shows: the posts, the chosen one (the page's own unless `post` is given), its images and problems. */
export async function readPanelState(context: ToolbarContext, request: { requestId: string; pathname: string; post?: string }, access: ToolbarAccess) {
  const { options } = context;
  const posts = await listPosts(options.root, options.content);
  const post =
    request.post !== undefined ? (posts.includes(request.post) ? request.post : null) : postOfPage(posts, request.pathname, context.slugOf, context.base);
  const { images, problems } = post ? await readPostImages(context, post) : { images: [], problems: [] };
  return {
    requestId: request.requestId,
    // A read-only panel says why instead of offering buttons that would be refused.
    readOnly: access.level === 'read' ? access.reason : null,
    canStart: context.supervisor !== undefined,
    /** Why the configured start command is set aside (COMFYUI_URL points at other machines); null when it is not. */
    startNotUsed: options.startNotUsed ?? null,
    /** Whether the Advanced tab shows ComfyUI's web UI through the dev server (`toolbar.comfyuiUI`). */
    comfyuiUI: options.toolbar.comfyuiUI,
    posts,
    post,
    images,
    problems,
    /** Where a new image goes when the post has none. */
    newTarget: options.field,
    styles: Object.keys(options.styles),
    formats: Object.keys(options.formats),
    presets: Object.keys(options.presets),
    defaultFormat: options.defaultFormat,
  };
}

/** The images of one post with their state, and its problems, from that post's file only. */
async function readPostImages({ options, shownImage, changesOf }: ToolbarContext, post: string) {
  const scan = scanPost(options.root, post, options.field, options.listField);
  const resolved = resolveRequests(scan.requests, options, await loadTemplate(options));
  const images: PanelImage[] = await Promise.all(
    resolved.images.map(async (image) => {
      const { request } = image;
      const { state, file } = shownImage(image);
      // The committed file's own size: the author's workflow may make another than the format's.
      const committed = file === null ? undefined : await readDevImageMetadata(path.join(options.outDir, file));
      const size = committed ? { width: committed.width, height: committed.height } : { width: image.width, height: image.height };
      return {
        target: request.field,
        prompt: request.prompt,
        negative: request.negative,
        style: request.style,
        format: request.format,
        preset: request.preset,
        seed: image.seed,
        alt: request.alt,
        state,
        changes: state === 'missing' ? (changesOf(image) ?? null) : null,
        // The committed file (it may be named after another post), or the name it will get.
        file: file ?? image.fileName,
        url: file === null ? null : `${IMAGE_ROUTE}${encodeURIComponent(file)}`,
        ...size,
        workflow: image.buildWorkflow(),
      };
    }),
  );
  return { images, problems: [...scan.problems, ...resolved.problems].map(({ field, message }) => ({ field, message })) };
}

/**
 * The post a page shows. Each post is named by its path below the folder all posts share, without its
 * extension or a trailing `index`, or by the `slug` of its frontmatter when it has one (Astro's entry id
 * either way); the page's path must end with that name. A name matched whole beats a partial match, and a
 * longer match beats a shorter one: `/fr/harbour/` is `fr/harbour.md`, `/harbour/` is `harbour.md`, not
 * `en/harbour.md`. A tie is no answer, so the author chooses instead of the panel guessing. The site's
 * `base` is no part of any post's name: under `base: '/harbour'` the home page is no post's.
 */
export function postOfPage(posts: string[], pathname: string, slugOf: (post: string) => string | undefined = () => undefined, base = '/'): string | null {
  const page = withoutBase(pathname, base).split('/').filter(Boolean).map(slugSegment);
  const folders = posts.map((post) => post.split('/').slice(0, -1));
  let shared = folders[0]?.length ?? 0;
  for (const folder of folders) while (shared > 0 && folder.slice(0, shared).join('/') !== folders[0]!.slice(0, shared).join('/')) shared--;
  let best: string | null = null;
  let bestScore = 0;
  let tie = false;
  for (const post of posts) {
    const slug = slugOf(post);
    const name = (
      slug === undefined
        ? post
            .replace(/\.[^./]+$/, '')
            .split('/')
            .slice(shared)
        : slug.split('/')
    )
      .filter(Boolean)
      .map(slugSegment);
    if (slug === undefined && name.at(-1) === 'index' && name.length > 1) name.pop();
    let length = 0;
    while (length < page.length && length < name.length && page[page.length - 1 - length] === name[name.length - 1 - length]) length++;
    const score = length === 0 ? 0 : length * 2 + (length === name.length ? 1 : 0);
    if (score > bestScore) [best, bestScore, tie] = [post, score, false];
    else if (score === bestScore && score > 0) tie = true;
  }
  return tie ? null : best;
}

/** A page's path without the site's `base` (`/docs`, `/docs/`), when it starts with it. */
function withoutBase(pathname: string, base: string): string {
  const prefix = base.replace(/\/+$/, '');
  return prefix && (pathname === prefix || pathname.startsWith(`${prefix}/`)) ? pathname.slice(prefix.length) : pathname;
}

/** A path segment of a page (URL-encoded) or a post, compared as a slug. */
function slugSegment(segment: string): string {
  try {
    return slugText(decodeURIComponent(segment));
  } catch {
    return slugText(segment);
  }
}
