import path from 'node:path';
import type { ImageState } from './classify-images.js';
import type { DevImageMetadata } from './dev-image-metadata.js';
import type { Manifest } from './manifest.js';
import type { ResolvedImage } from './resolve-image.js';

export interface IndexedImage {
  /** The image's key: its file may carry another post's name (a shared prompt, a renamed post). */
  key: string;
  /** Absolute path of the committed PNG. */
  file: string;
  alt: string;
  prompt: string;
  index: number;
  placeholder: boolean;
}

/**
 * The virtual module is served in this many parts, each post's images in the part its path picks, and a
 * small module that joins them. A change in dev then makes Vite load one part again (1/32 of the site's
 * image imports), not the whole index: at 20,000 posts a reload of the whole took 9 s.
 */
export const IMAGE_MODULE_PARTS = 32;

/** The part a post's images are in: FNV-1a of its path, stable across runs and machines. */
export function partOf(post: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < post.length; i++) hash = Math.imul(hash ^ post.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % IMAGE_MODULE_PARTS;
}

/**
 * The file names (in the images folder) of the images whose `src` a page has read in this process: a
 * static build renders its pages here, and an image no page read is on no page (a draft, a post the site
 * filters out). Kept on globalThis because the pages' bundle has its own copy of every module.
 */
const SHOWN_IMAGES = 'astro-comfyui.shown-images';

export function shownImages(): Set<string> {
  const global = globalThis as { [key: symbol]: Set<string> | undefined };
  const key = Symbol.for(SHOWN_IMAGES);
  global[key] ??= new Set();
  return global[key];
}

/** Which committed image each post uses right now; the source of the virtual modules. */
export class ImageIndex {
  #byPost = new Map<string, IndexedImage[]>();
  /** Parts whose module changed since takeChangedParts() was last called. */
  #changed = new Set<number>();
  /** The `disclosure.caption` option: given with every generated image, never with a placeholder. */
  caption: string | undefined;

  /**
   * Rebuilds the index from the current posts and the manifest; images not generated yet are left out.
   * Only the parts of posts whose images changed are marked changed: most saves in dev edit a post's text,
   * and then no module needs loading again.
   */
  update(images: ResolvedImage[], manifest: Manifest, outDir: string, existingFiles: Set<string>): void {
    const byPost = committedByPost(images, manifest, outDir, existingFiles);
    for (const [post, list] of byPost) if (!sameImages(this.#byPost.get(post), list)) this.#changed.add(partOf(post));
    for (const post of this.#byPost.keys()) if (!byPost.has(post)) this.#changed.add(partOf(post));
    this.#byPost = byPost;
  }

  /** As update(), for these posts only: `images` are theirs, and every other post keeps what it shows. */
  updatePosts(posts: Iterable<string>, images: ResolvedImage[], manifest: Manifest, outDir: string, existingFiles: Set<string>): void {
    const byPost = committedByPost(images, manifest, outDir, existingFiles);
    for (const post of posts) {
      const list = byPost.get(post);
      if (!sameImages(this.#byPost.get(post) ?? [], list ?? [])) this.#changed.add(partOf(post));
      if (list) this.#byPost.set(post, list);
      else this.#byPost.delete(post);
    }
  }

  /**
   * Adds one image just written (`file`, its absolute path), without re-reading the manifest or the
   * folder (dev, after each image). Another post asking for the same image gets the same file.
   */
  add(image: ResolvedImage, file: string, placeholder: boolean): void {
    const others = (this.#byPost.get(image.request.post) ?? []).filter((i) => i.index !== image.request.index);
    this.#byPost.set(image.request.post, [...others, indexed(image, file, placeholder)]);
    this.#changed.add(partOf(image.request.post));
  }

  /** The parts changed since the last call (dev reloads those), in ascending order. */
  takeChangedParts(): number[] {
    const parts = [...this.#changed].sort((a, b) => a - b);
    this.#changed.clear();
    return parts;
  }

  /**
   * What the site shows for `image` now: its committed file (by its key: the file may be named after
   * another post that asked for the same image first, or after the post's name before a rename), a
   * placeholder, or nothing yet.
   */
  shownFor(image: ResolvedImage): { state: ImageState; file: string | null } {
    const shown = this.#byPost.get(image.request.post)?.find((i) => i.index === image.request.index);
    if (shown?.key !== image.key) return { state: 'missing', file: null };
    return { state: shown.placeholder ? 'placeholder' : 'ready', file: path.basename(shown.file) };
  }

  /** The module that joins the parts into one `images` object: `partId(n)` names part n's module. */
  toModule(partId: (part: number) => string): string {
    const parts = Array.from({ length: IMAGE_MODULE_PARTS }, (_, n) => n);
    const imports = parts.map((n) => `import { images as p${n} } from ${JSON.stringify(partId(n))};`);
    return `${imports.join('\n')}\nexport const images = Object.assign({}, ${parts.map((n) => `p${n}`).join(', ')});\n`;
  }

  /** The files the images of `part` show (dev reads their size before it serves the part). */
  filesOfPart(part: number): string[] {
    return this.#postsOf(part).flatMap(([, list]) => list.map((image) => image.file));
  }

  /** The file names of every image the index holds. */
  fileNames(): Set<string> {
    return new Set([...this.#byPost.values()].flatMap((list) => list.map((image) => path.basename(image.file))));
  }

  /** The parts that show `file` (an absolute path). */
  partsShowing(file: string): number[] {
    const parts = new Set<number>();
    for (const [post, list] of this.#byPost) if (list.some((image) => image.file === file)) parts.add(partOf(post));
    return [...parts];
  }

  /**
   * One part: a static import per image, so that astro:assets processes exactly these files; in dev, an
   * image whose metadata `inline` holds (by file) is written out instead of imported.
   */
  toPartModule(part: number, inline?: ReadonlyMap<string, DevImageMetadata>): string {
    const imports: string[] = [];
    const entries: string[] = [];
    let n = 0;
    for (const [post, list] of this.#postsOf(part).sort(([a], [b]) => a.localeCompare(b))) {
      const items = [...list]
        .sort((a, b) => a.index - b.index)
        .map((image) => {
          const name = `i${n++}`;
          const metadata = inline?.get(image.file);
          imports.push(
            metadata ? `const ${name} = ${JSON.stringify(metadata)};` : `import ${name} from ${JSON.stringify(image.file.split(path.sep).join('/'))};`,
          );
          const caption = image.placeholder || this.caption === undefined ? '' : `, caption: ${JSON.stringify(this.caption)}`;
          // Reading `src` records the image as shown (see shownImages); the import itself is not touched.
          return `{ get src() { shown.add(${JSON.stringify(path.basename(image.file))}); return ${name}; }, alt: ${JSON.stringify(image.alt)}, prompt: ${JSON.stringify(image.prompt)}, index: ${image.index}, placeholder: ${image.placeholder}${caption} }`;
        });
      entries.push(`  ${JSON.stringify(post)}: [${items.join(', ')}],`);
    }
    const shown = `const shown = (globalThis[Symbol.for(${JSON.stringify(SHOWN_IMAGES)})] ??= new Set());`;
    return `${imports.join('\n')}\n${shown}\nexport const images = {\n${entries.join('\n')}\n};\n`;
  }

  #postsOf(part: number): Array<[string, IndexedImage[]]> {
    return [...this.#byPost].filter(([post]) => partOf(post) === part);
  }
}

/** The committed images among `images` (those in the manifest whose file exists), by post. */
function committedByPost(images: ResolvedImage[], manifest: Manifest, outDir: string, existingFiles: Set<string>): Map<string, IndexedImage[]> {
  const byPost = new Map<string, IndexedImage[]>();
  for (const image of images) {
    const entry = manifest.images[image.key];
    if (!entry || !existingFiles.has(entry.file)) continue;
    const list = byPost.get(image.request.post) ?? [];
    list.push(indexed(image, path.join(outDir, entry.file), entry.placeholder));
    byPost.set(image.request.post, list);
  }
  return byPost;
}

function sameImages(a: IndexedImage[] | undefined, b: IndexedImage[]): boolean {
  if (a?.length !== b.length) return false;
  for (let i = 0; i < b.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.key !== y.key || x.file !== y.file || x.alt !== y.alt || x.prompt !== y.prompt || x.index !== y.index || x.placeholder !== y.placeholder)
      return false;
  }
  return true;
}

function indexed(image: ResolvedImage, file: string, placeholder: boolean): IndexedImage {
  const alt = image.request.alt ?? image.request.prompt;
  // A placeholder shows the word PLACEHOLDER over the prompt: its alt says so too, not what is not drawn yet.
  return {
    key: image.key,
    file,
    alt: placeholder ? `Placeholder, not generated yet: ${alt}` : alt,
    prompt: image.request.prompt,
    index: image.request.index,
    placeholder,
  };
}
