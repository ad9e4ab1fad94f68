import path from 'node:path';
import type { ImageState } from './classify-images.js';
import type { Manifest } from './manifest.js';
import type { ResolvedImage } from './resolve-image.js';

export interface IndexedImage {
  /** Absolute path of the committed PNG. */
  file: string;
  alt: string;
  prompt: string;
  index: number;
  placeholder: boolean;
}

/** Which committed image each post uses right now; the source of the virtual module. */
export class ImageIndex {
  #byPost = new Map<string, IndexedImage[]>();
  /** The `disclosure.caption` option: given with every generated image, never with a placeholder. */
  caption: string | undefined;

  /**
   * Rebuilds the index from the current posts and the manifest; images not generated yet are left out.
   * Returns whether any post's images changed: most saves in dev edit a post's text, and only a change
   * here needs the virtual module (one import per image of the site) made and loaded again.
   */
  update(images: ResolvedImage[], manifest: Manifest, outDir: string, existingFiles: Set<string>): boolean {
    const byPost = new Map<string, IndexedImage[]>();
    for (const image of images) {
      const entry = manifest.images[image.key];
      if (!entry || !existingFiles.has(entry.file)) continue;
      const list = byPost.get(image.request.post) ?? [];
      list.push(indexed(image, path.join(outDir, entry.file), entry.placeholder));
      byPost.set(image.request.post, list);
    }
    const changed = !sameIndex(this.#byPost, byPost);
    this.#byPost = byPost;
    return changed;
  }

  /** Adds one image just written, without re-reading the manifest or the folder (dev, after each image). */
  add(image: ResolvedImage, outDir: string, placeholder: boolean): void {
    const others = (this.#byPost.get(image.request.post) ?? []).filter((i) => i.index !== image.request.index);
    this.#byPost.set(image.request.post, [...others, indexed(image, path.join(outDir, image.fileName), placeholder)]);
  }

  /** What the site has for `image` now: its committed file, a placeholder, or nothing yet. */
  stateOf(image: ResolvedImage): ImageState {
    const shown = this.#byPost.get(image.request.post)?.find((i) => i.index === image.request.index);
    if (!shown || path.basename(shown.file) !== image.fileName) return 'missing';
    return shown.placeholder ? 'placeholder' : 'ready';
  }

  /** The virtual module: a static import per image, so astro:assets processes exactly these files. */
  toModule(): string {
    const imports: string[] = [];
    const entries: string[] = [];
    let n = 0;
    for (const [post, list] of [...this.#byPost].sort(([a], [b]) => a.localeCompare(b))) {
      const items = list
        .sort((a, b) => a.index - b.index)
        .map((image) => {
          const name = `i${n++}`;
          imports.push(`import ${name} from ${JSON.stringify(image.file.split(path.sep).join('/'))};`);
          const caption = image.placeholder || this.caption === undefined ? '' : `, caption: ${JSON.stringify(this.caption)}`;
          return `{ src: ${name}, alt: ${JSON.stringify(image.alt)}, prompt: ${JSON.stringify(image.prompt)}, index: ${image.index}, placeholder: ${image.placeholder}${caption} }`;
        });
      entries.push(`  ${JSON.stringify(post)}: [${items.join(', ')}],`);
    }
    return `${imports.join('\n')}\nexport const images = {\n${entries.join('\n')}\n};\n`;
  }
}

function sameIndex(a: Map<string, IndexedImage[]>, b: Map<string, IndexedImage[]>): boolean {
  if (a.size !== b.size) return false;
  for (const [post, list] of b) {
    const old = a.get(post);
    if (old?.length !== list.length) return false;
    for (let i = 0; i < list.length; i++) {
      const x = old[i]!;
      const y = list[i]!;
      if (x.file !== y.file || x.alt !== y.alt || x.prompt !== y.prompt || x.index !== y.index || x.placeholder !== y.placeholder) return false;
    }
  }
  return true;
}

function indexed(image: ResolvedImage, file: string, placeholder: boolean): IndexedImage {
  return { file, alt: image.request.alt ?? image.request.prompt, prompt: image.request.prompt, index: image.request.index, placeholder };
}
