import path from 'node:path';
import picomatch from 'picomatch';
import { glob } from 'tinyglobby';
import { IMAGE_PROMPT_KEYS, IMAGE_REFERENCE_MESSAGE, imagePromptObjectSchema, type ImagePromptObject } from './frontmatter-schema.js';
import { PROMPT_LIMITS } from './prompt-limits.js';
import { describeValue, describeZodIssue, type ZodIssueLike } from './describe-zod-issue.js';
import { FrontmatterSyntaxError, readFrontmatter } from './read-frontmatter.js';
import { type PostRead, readPost, readPosts } from './read-posts.js';

/** One image prompt found in a post, with where it came from. */
export interface ImageRequest extends ImagePromptObject {
  /** Post path relative to the project root, with `/` separators (Astro's `entry.filePath`). */
  post: string;
  /** The frontmatter field, e.g. `image` or `images[1]`, for error messages. */
  field: string;
  /** Position among the post's images (0 for `image`, list index for `images`). */
  index: number;
}

export interface ScanProblem {
  post: string;
  field: string;
  message: string;
}

export interface ScanResult {
  posts: number;
  requests: ImageRequest[];
  problems: ScanProblem[];
}

/**
 * Reads every post matched by the content globs and collects its image prompts, a batch of posts at a
 * time (readPosts), so that the caller can work on one batch while the next is read. A bad post adds to
 * `problems` and never stops the others from being read.
 */
export async function* scanPosts(root: string, globs: string[], field: string, listField: string): AsyncGenerator<ScanResult> {
  for await (const batch of readPosts(root, await listPosts(root, globs))) {
    const found: ScanResult = { posts: batch.length, requests: [], problems: [] };
    for (const read of batch) scanPostInto(found, read, field, listField);
    yield found;
  }
}

/** Posts are never read from here (listPosts ignores it too). */
const IGNORED = '**/node_modules/**';

/**
 * The content globs as patterns of root-relative paths with `/` separators: a file is a post when one
 * `include` pattern matches it and no `exclude` pattern does (`!glob`s and node_modules). The files
 * listPosts (tinyglobby) lists, as Astro's glob() loader takes them: none in a dot-folder or a dot-file.
 */
export function postPatterns(globs: string[]): { include: RegExp[]; exclude: RegExp[] } {
  const pattern = (glob: string) => picomatch.makeRe(glob, { dot: false });
  return {
    include: globs.filter((glob) => !glob.startsWith('!')).map(pattern),
    exclude: [IGNORED, ...globs.filter((glob) => glob.startsWith('!')).map((glob) => glob.slice(1))].map(pattern),
  };
}

/** Whether a root-relative path with `/` separators is a post: listPosts' test, for one file. */
export function postMatcher(globs: string[]): (file: string) => boolean {
  const { include, exclude } = postPatterns(globs);
  return (file) => include.some((p) => p.test(file)) && !exclude.some((p) => p.test(file));
}

/** Post files matched by the content globs, root-relative with `/` separators, sorted. */
export async function listPosts(root: string, globs: string[]): Promise<string[]> {
  const files = await glob(globs, { cwd: root, onlyFiles: true, ignore: [IGNORED] });
  return (path.sep === '/' ? files : files.map(toPosix)).sort();
}

/** One post's image prompts and problems, and the `slug` its frontmatter gives it, if any. */
export function scanPost(root: string, file: string, field: string, listField: string): Omit<ScanResult, 'posts'> & { slug?: string } {
  return scanPostRead(readPost(root, file), field, listField);
}

/** scanPost of a post already read (readPosts). */
export function scanPostRead(read: PostRead, field: string, listField: string): Omit<ScanResult, 'posts'> & { slug?: string } {
  const found: Omit<ScanResult, 'posts'> = { requests: [], problems: [] };
  const slug = scanPostInto(found, read, field, listField);
  return slug === undefined ? found : { ...found, slug };
}

/**
 * scanPost adding to `found`: a scan of the whole site keeps one pair of lists, not one per post. Returns
 * the frontmatter's `slug`, which Astro's glob() loader takes as the entry's id (so the page's URL) instead
 * of the file's name.
 */
function scanPostInto(found: Omit<ScanResult, 'posts'>, read: PostRead, field: string, listField: string): string | undefined {
  const post = path.sep === '/' ? read.file : toPosix(read.file);
  const { requests, problems } = found;
  if ('code' in read) {
    problems.push({
      post,
      field: 'file',
      message: `cannot be read (${read.code}). ${UNREADABLE_FIX.get(read.code) ?? 'Check that it is a file you can read.'}`,
    });
    return;
  }
  let data: Record<string, unknown>;
  try {
    data = readFrontmatter(read.text).data;
  } catch (error) {
    if (!(error instanceof FrontmatterSyntaxError)) throw error;
    problems.push({
      post,
      field: 'frontmatter',
      message: `is not valid ${error.format.toUpperCase()} (${error.reason}). Check quotes and indentation; quote prompts that contain ":" or "#".`,
    });
    return;
  }
  const add = (value: unknown, name: string, index: number) => {
    if (typeof value === 'string' && value.trim() === '') {
      problems.push({ post, field: name, message: 'is an empty prompt; describe the image or remove the field.' });
      return;
    }
    // The shorthand is the object form with only a prompt: one schema, so one set of limits.
    const shorthand = typeof value === 'string';
    if (shorthand) value = { prompt: value };
    if (Array.isArray(value) && name === field) {
      problems.push({
        post,
        field: name,
        message: `is a list; several images go in "${listField}" (${listField}: [...]), one image here as a text or { prompt: "…" }.`,
      });
      return;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push({
        post,
        field: name,
        message: `must be a prompt text or an object with a "prompt", e.g. { prompt: "a lighthouse at dusk", style: watercolor }; got ${describeValue(value)}.`,
      });
      return;
    }
    const parsed = imagePromptObjectSchema.safeParse(value);
    if (!parsed.success) {
      // One field can fail two checks (a seed of 1e20 is above the maximum and not a safe integer), which read the same.
      const said = new Set<string>();
      for (const issue of parsed.error.issues) {
        const at = shorthand ? [] : issue.path.map(String);
        const problem = {
          post,
          field: [name, ...at].join('.'),
          message: describeIssue(issue as ZodIssueLike, value as Record<string, unknown>, field, listField),
        };
        if (said.has(`${problem.field} ${problem.message}`)) continue;
        said.add(`${problem.field} ${problem.message}`);
        problems.push(problem);
      }
      return;
    }
    requests.push({ ...parsed.data, post, field: name, index });
  };
  if (data[field] !== undefined && data[field] !== null) add(data[field], field, 0);
  const list: unknown = data[listField];
  if (list !== undefined && list !== null) {
    if (!Array.isArray(list)) {
      problems.push({
        post,
        field: listField,
        message: `must be a list of prompts, e.g.\n  ${listField}:\n    - "a lighthouse at dusk"\n    - { prompt: "a harbour", format: square }`,
      });
    } else if (list.length === 0) {
      problems.push({ post, field: listField, message: 'is an empty list; remove it or add a prompt.' });
    } else if (list.length > PROMPT_LIMITS.list) {
      problems.push({
        post,
        field: listField,
        message: `has ${list.length} prompts; a post can have at most ${PROMPT_LIMITS.list}, each an image to generate. Remove the ones the post does not show.`,
      });
    } else {
      const offset = data[field] ? 1 : 0;
      for (const [i, item] of list.entries()) add(item, `${listField}[${i}]`, offset + i);
    }
  }
  // As Astro does: any truthy value, as text (bounded: it is only compared with a page's path).
  return data.slug ? String(data.slug).slice(0, 1000) : undefined;
}

const toPosix = (file: string) => file.split(path.sep).join('/');

/** What to do about a post that cannot be read, by the error's code. */
const UNREADABLE_FIX = new Map([
  ['EACCES', "Check the file's permissions."],
  ['EPERM', "Check the file's permissions."],
  ['ENOENT', 'It was moved or deleted while the posts were read; run again.'],
  ['EISDIR', 'It is a folder named like a post; rename the folder.'],
]);

/** The problem of one field of the object form, as a sentence with the fix. */
function describeIssue(issue: ZodIssueLike, value: Record<string, unknown>, field: string, listField: string): string {
  const key = String(issue.path[0] ?? '');
  // A file's path, or an object with keys of its own and no prompt: the blog already uses the field for
  // pictures of its own, and the fix is in the options, not in the post.
  const ownPictures = `If your posts use "${field}" or "${listField}" for pictures of their own, choose another name for prompts in astro.config, e.g. comfyui({ field: "cover" }) reads "cover" and "covers".`;
  if (issue.code === 'unrecognized_keys') {
    const known = `${describeZodIssue(issue, value)}. Known keys: ${IMAGE_PROMPT_KEYS.join(', ')}.`;
    return value.prompt === undefined ? `${known} ${ownPictures}` : known;
  }
  if (issue.message === IMAGE_REFERENCE_MESSAGE)
    return `${IMAGE_REFERENCE_MESSAGE} (${describeValue(value.prompt)}). ${ownPictures} To draw it, describe it in words.`;
  if (key === 'prompt' && value.prompt === undefined) return 'is missing; every image needs a prompt, e.g. { prompt: "a lighthouse at dusk" }.';
  if (key === 'prompt' && typeof value.prompt === 'string' && value.prompt.trim() === '') return 'is empty; describe the image or remove the field.';
  if (key === 'seed')
    return `must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}, got ${describeValue(value.seed)}; or remove it to derive one from the prompt.`;
  const text = describeZodIssue(issue, value[key]);
  return `${text}${issue.code === 'invalid_type' && issue.expected === 'string' ? ' (put text in quotes)' : ''}.`;
}
