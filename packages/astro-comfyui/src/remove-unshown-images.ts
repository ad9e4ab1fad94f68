import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';

/**
 * Removes from a static build's assets folder the copies of generated images that no page shows, and
 * returns their names. The image index imports every committed image, and Vite emits each import; Astro
 * deletes an emitted original once it has made a page's derivatives from it, but one that no page used
 * (a draft's, a post the site filters out) would be published, with its prompt inside the PNG.
 *
 * `indexed` and `shown` are file names in the images folder (see shownImages).
 */
export async function removeUnshownImages(indexed: Iterable<string>, shown: ReadonlySet<string>, assetsDir: string): Promise<string[]> {
  const stems = new Set([...indexed].filter((name) => !shown.has(name)).map((name) => name.replace(/\.png$/, '')));
  if (stems.size === 0) return [];
  const removed: string[] = [];
  for (const name of await readdir(assetsDir).catch(() => [])) {
    // Vite names an emitted original `<name>.<8-character hash>.png`; astro:assets' derivatives add `_…`
    // before their extension, so they never match.
    const stem = /^(.+)\.[\w-]{8}\.png$/.exec(name)?.[1];
    if (stem === undefined || !stems.has(stem)) continue;
    await rm(path.join(assetsDir, name), { force: true });
    removed.push(name);
  }
  return removed;
}
