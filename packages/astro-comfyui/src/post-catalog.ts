import { existsSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import type { WorkflowTemplate } from '@astro-comfyui/comfyui/workflows';
import { resolveRequests } from './collect-post-images.js';
import type { ResolvedOptions } from './options.js';
import type { ResolvedImage } from './resolve-image.js';
import { type PostRead, readPost, readPosts } from './read-posts.js';
import { listPosts, postMatcher, type ScanProblem, scanPostRead } from './scan-posts.js';

/**
 * The resolved images and problems of every post, kept up to date one post at a time: in dev, saving a
 * post re-reads that post, not the whole site.
 */
export class PostCatalog {
  readonly #options: ResolvedOptions;
  readonly #template: WorkflowTemplate | undefined;
  readonly #isPost: (file: string) => boolean;
  #byPost = new Map<string, PostEntry>();
  /** How many prompts of all posts ask for each image key. */
  #wanted = new Map<string, number>();
  /** Posts whose images or problems changed since takeChanges() was last called; all of them after loadAll(). */
  #changed: Set<string> | 'all' = new Set();

  constructor(options: ResolvedOptions, template?: WorkflowTemplate) {
    this.#options = options;
    this.#template = template;
    this.#isPost = postMatcher(options.content);
  }

  /** Reads every post matched by the content globs. */
  async loadAll(): Promise<void> {
    const byPost = new Map<string, PostEntry>();
    const { root, content } = this.#options;
    for await (const batch of readPosts(root, await listPosts(root, content))) for (const read of batch) byPost.set(read.file, this.#entryOf(read));
    this.#byPost = byPost;
    this.#wanted = new Map();
    for (const entry of byPost.values()) this.#count(entry, 1);
    this.#changed = 'all';
  }

  /** Re-reads one added or changed file, or forgets it if it is gone; false when it is no post (then nothing changed). */
  update(file: string): boolean {
    const post = this.#postOf(file);
    if (!post) return false;
    const before = this.#byPost.get(post);
    const after = existsSync(path.join(this.#options.root, post)) ? this.#entryOf(readPost(this.#options.root, post)) : undefined;
    if (before) this.#count(before, -1);
    if (after) {
      this.#byPost.set(post, after);
      this.#count(after, 1);
    } else this.#byPost.delete(post);
    if (this.#changed !== 'all' && !sameEntry(before, after)) this.#changed.add(post);
    return true;
  }

  /**
   * The posts whose images (their keys and everything written in their prompts, alt included) or
   * problems changed since the last call, or `all` once every post was read; a save that edits only a
   * post's text changes nothing.
   */
  takeChanges(): ReadonlySet<string> | 'all' {
    const changed = this.#changed;
    this.#changed = new Set();
    return changed;
  }

  /** Whether some post asks for the image with this key now. */
  wants(key: string): boolean {
    return this.#wanted.has(key);
  }

  /** The images of other posts too when several ask for the image with this key (none when one does). */
  sharing(key: string): ResolvedImage[] {
    if ((this.#wanted.get(key) ?? 0) < 2) return [];
    return this.images().filter((image) => image.key === key);
  }

  /** Whether `file` (absolute or root-relative) is one of the posts. */
  covers(file: string): boolean {
    return this.postOf(file) !== undefined;
  }

  /** The post `file` (absolute or root-relative) is, as its images name it (root-relative); undefined for no post. */
  postOf(file: string): string | undefined {
    return this.#postOf(file);
  }

  images(): ResolvedImage[] {
    return [...this.#byPost.values()].flatMap((entry) => entry.images);
  }

  /** The images of these posts only. */
  imagesOf(posts: Iterable<string>): ResolvedImage[] {
    return [...posts].flatMap((post) => this.#byPost.get(post)?.images ?? []);
  }

  /** The `slug` a post's frontmatter gives it (Astro's id for it), if any. */
  slugOf(post: string): string | undefined {
    return this.#byPost.get(post)?.slug;
  }

  problems(): ScanProblem[] {
    return [...this.#byPost.values()].flatMap((entry) => entry.problems);
  }

  #count(entry: PostEntry, by: 1 | -1): void {
    for (const { key } of entry.images) {
      const count = (this.#wanted.get(key) ?? 0) + by;
      if (count > 0) this.#wanted.set(key, count);
      else this.#wanted.delete(key);
    }
  }

  #postOf(file: string): string | undefined {
    // Root-relative, as the globs are: posts outside the project ("../posts/*.md") are posts when a glob
    // names them, and no "**" reaches above the root.
    const post = path.relative(this.#options.root, path.resolve(this.#options.root, file)).split(path.sep).join('/');
    return this.#isPost(post) ? post : undefined;
  }

  #entryOf(read: PostRead): PostEntry {
    const scanned = scanPostRead(read, this.#options.field, this.#options.listField);
    const resolved = resolveRequests(scanned.requests, this.#options, this.#template);
    return { images: resolved.images, problems: [...scanned.problems, ...resolved.problems], slug: scanned.slug };
  }
}

interface PostEntry {
  images: ResolvedImage[];
  problems: ScanProblem[];
  slug?: string | undefined;
}

const empty: PostEntry = { images: [], problems: [] };

/** A post that has no image and no problem is the same as no post. */
function sameEntry(a: PostEntry = empty, b: PostEntry = empty): boolean {
  return (
    a.images.length === b.images.length &&
    a.images.every((image, i) => image.key === b.images[i]!.key && isDeepStrictEqual(image.request, b.images[i]!.request)) &&
    isDeepStrictEqual(a.problems, b.problems)
  );
}
