import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import type { Plugin, ViteDevServer } from 'vite';
import { type DevImageMetadata, readDevImageMetadata } from './dev-image-metadata.js';
import { IMAGE_MODULE_PARTS, type ImageIndex, shownImages } from './image-index.js';
import { isInside } from './is-inside.js';
import type { ResolvedOptions } from './options.js';
import { keyPrefixOf } from './resolve-image.js';
import { postPatterns } from './scan-posts.js';

export const VIRTUAL_IMAGES_ID = 'virtual:astro-comfyui/images';
const RESOLVED_ID = `\0${VIRTUAL_IMAGES_ID}`;
/** Part n of the index (image-index.ts says why it comes in parts). */
const partId = (n: number) => `${VIRTUAL_IMAGES_ID}/${n}`;
const PART_ID = /^\0?virtual:astro-comfyui\/images\/(\d{1,3})$/;
const RUNTIME_ID = 'astro-comfyui/images';
/** An import of a PNG file, with or without a query: a generated image's file is one (keyPrefixOf). */
const PNG_IMPORT = /\.png(\?.*)?$/s;
/** A module id without its query (`page.astro?astro&type=script…` → `page.astro`). */
const withoutQuery = (id: string) => id.replace(/\?.*$/s, '');
const runtimeFile = fileURLToPath(new URL('./runtime/images.js', import.meta.url));

/**
 * Serves `virtual:astro-comfyui/images` from the current image index, and `astro-comfyui/images` (the
 * page helper that imports it). The helper's export has only a `types` condition, so Node cannot resolve
 * it and Vite does not externalise it; this plugin hands Vite the file instead. That keeps the rest of
 * the package external (no `ssr.noExternal`, which made every build slower).
 *
 * With `dev`, the parts write each image's metadata out instead of importing the image (see
 * dev-image-metadata.ts), when Vite serves the images folder anyway: an imported file is served wherever
 * it is, so one outside `server.fs.allow` stays imported.
 */
export function vitePluginImages(
  getIndex: () => ImageIndex,
  { root, outDir, content }: Pick<ResolvedOptions, 'root' | 'outDir' | 'content'>,
  { dev = false } = {},
): Plugin {
  const folder = path.resolve(outDir);
  const contentExport = contentModuleCode(root, content);
  let inline = false;
  // The parts load together on a page's first load: their ~20,000 header reads at 20,000 posts, bounded.
  const limit = pLimit(16);
  const partModule = async (part: number) => {
    const index = getIndex();
    if (!inline) return index.toPartModule(part);
    const metadata = new Map<string, DevImageMetadata>();
    await Promise.all(
      index.filesOfPart(part).map((file) =>
        limit(async () => {
          const found = await readDevImageMetadata(file);
          if (found) metadata.set(file, found);
        }),
      ),
    );
    // Read from the index as it is now: it may have changed during the reads.
    return getIndex().toPartModule(part, metadata);
  };
  return {
    name: 'astro-comfyui:images',
    enforce: 'pre',
    configResolved(config) {
      const { fs } = config.server;
      inline = dev && config.command === 'serve' && (!fs.strict || fs.allow.some((dir) => isInside(folder, path.resolve(dir))));
    },
    // A generated image written in dev reaches the pages that show it through IMAGE_READY_EVENT
    // (dev-client.ts), swapped in place: Vite's own reload of every page that imports it is not wanted.
    // Only generated images: the folder may hold the author's own files, which update as usual.
    hotUpdate(update) {
      const file = path.resolve(update.file);
      if (path.dirname(file) !== folder || keyPrefixOf(path.basename(file)) === undefined) return undefined;
      for (const mod of update.modules) this.environment.moduleGraph.invalidateModule(mod);
      // A file changed in place (by hand, or re-stamped) may have another size: its parts read it again.
      if (inline && update.type === 'update') {
        for (const part of getIndex().partsShowing(file)) {
          const mod = this.environment.moduleGraph.getModuleById(`\0${partId(part)}`);
          if (mod) this.environment.moduleGraph.invalidateModule(mod);
        }
      }
      return [];
    },
    // Hook filters let the bundler skip calling into JavaScript for every other module of the site.
    resolveId: {
      filter: { id: [/^(virtual:astro-comfyui\/images(\/\d{1,3})?|astro-comfyui\/images)$/, PNG_IMPORT] },
      handler(id, importer) {
        if (PNG_IMPORT.test(id)) {
          // A page that imports a generated file itself uses it without the index: a static build must
          // not leave it out as unshown (integration.ts, astro:build:done). Vite resolves it as usual.
          const file = path.basename(withoutQuery(id));
          if (keyPrefixOf(file) !== undefined && !importer?.startsWith(`\0${VIRTUAL_IMAGES_ID}`)) shownImages().add(file);
          return undefined;
        }
        // The index holds every post's prompts and images, drafts' too: bundled for the browser, all of
        // it would be published, and every image with it.
        if (this.environment.config.consumer === 'client') {
          this.error(
            `${importer === undefined ? 'A module' : withoutQuery(importer)} imports ${id} in code that runs in the browser, which would publish every post's prompts and images, drafts' too. Call getPostImage() in an .astro page or component (it runs on the server) and pass the image to the component as props, e.g. <Image src={image.src} alt={image.alt} />.`,
          );
        }
        if (id === VIRTUAL_IMAGES_ID || PART_ID.test(id)) return `\0${id}`;
        if (id === RUNTIME_ID) return runtimeFile;
        return undefined;
      },
    },
    load: {
      filter: { id: /^\0virtual:astro-comfyui\/images(\/\d{1,3})?$/ },
      async handler(id) {
        if (id === RESOLVED_ID) return `${getIndex().toModule(partId)}${contentExport}`;
        const part = PART_ID.exec(id);
        return part && Number(part[1]) < IMAGE_MODULE_PARTS ? await partModule(Number(part[1])) : undefined;
      },
    },
  };
}

/**
 * `content`: the globs of the posts that are read, and the scan's patterns for them, so that the page
 * helper can tell an author whose posts are elsewhere why their images never appear; and the project
 * root, with `/` separators and a trailing one, since a Markdown page's layout knows its page only by
 * its absolute path (`Astro.props.file`).
 */
function contentModuleCode(root: string, globs: string[]): string {
  const { include, exclude } = postPatterns(globs);
  const code = (patterns: RegExp[]) => `[${patterns.map((p) => `new RegExp(${JSON.stringify(p.source)}, ${JSON.stringify(p.flags)})`).join(', ')}]`;
  const posixRoot = `${path.resolve(root).split(path.sep).join('/').replace(/\/$/, '')}/`;
  return `export const content = { root: ${JSON.stringify(posixRoot)}, globs: ${JSON.stringify(globs)}, include: ${code(include)}, exclude: ${code(exclude)} };\n`;
}

/**
 * After the index changed in dev, every environment (client, ssr, …) must load the changed parts again,
 * and the module that joins them; nothing when no part changed.
 */
export function invalidateImagesModule(server: ViteDevServer, parts: readonly number[]): void {
  if (parts.length === 0) return;
  const ids = [RESOLVED_ID, ...parts.map((n) => `\0${partId(n)}`)];
  for (const environment of Object.values(server.environments ?? {})) {
    for (const id of ids) {
      const mod = environment.moduleGraph.getModuleById(id);
      if (mod) environment.moduleGraph.invalidateModule(mod);
    }
  }
}
