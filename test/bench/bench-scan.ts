import { writeFileSync } from 'node:fs';
import { execa } from 'execa';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { collectPostImages } from '../../packages/astro-comfyui/src/collect-post-images.js';
import { updateManifest } from '../../packages/astro-comfyui/src/manifest.js';
import { resolveOptions } from '../../packages/astro-comfyui/src/options.js';
import { cacheDirectory } from '../../packages/astro-comfyui/src/cache-directory.js';
import { manifestEntryFor } from '../../packages/astro-comfyui/src/write-image.js';
import { TINY_PNG } from '../helpers/tiny-png.js';
import { generateSite } from './generate-site.js';
import { median } from './median.js';

export interface ScanResult {
  posts: number;
  /** Median of the runs, then the fastest and the slowest. */
  ms: number;
  msRange: [number, number];
  /** Peak RSS of the median run's process. */
  maxRssMb: number;
  /** Median of the floor (scan-floor-child.mjs: the file system work alone), run alternately with the scan. */
  floorMs: number;
  /** Median CPU time of all the scan's threads, user + system: the least wall time it can take is this over the cores. */
  cpuMs: number;
  /** The same for the floor. */
  floorCpuMs: number;
  /** Median CPU time of the scan's main thread (undefined before Node 22.19): with the work divided as it is, more cores do not make the scan shorter than this. */
  mainCpuMs: number | undefined;
}

/** Writes the site and a manifest in which every image is already generated; returns the site root. */
export async function prepareCachedSite(posts: number, site: { renderImages?: boolean } = {}): Promise<string> {
  const root = await generateSite(posts, 'bench-site', site);
  const options = resolveOptions({ mode: 'frozen', formats: { hero: { width: 64, height: 64 } } }, root, {});
  const { images } = await collectPostImages(options);
  await mkdir(options.outDir, { recursive: true });
  // A real (if tiny) PNG per image, as a committed site would have.
  for (const image of images) writeFileSync(path.join(options.outDir, image.fileName), TINY_PNG);
  await updateManifest(options.manifestFile, cacheDirectory(options), (manifest) => {
    for (const image of images) {
      manifest.images[image.key] = manifestEntryFor(image, { comfyuiVersion: 'bench', created: new Date(0).toISOString(), durationMs: 0, placeholder: false });
    }
  });
  return root;
}

/**
 * Time and peak memory of scan + key + manifest check for `posts` posts whose images are all cached:
 * `runs` fresh processes (one run is at the mercy of whatever else the machine does), the median; each
 * followed by a process that does only the file system work, so that the two can be compared.
 */
export async function benchScan(posts: number, runs = 5): Promise<ScanResult> {
  const root = await prepareCachedSite(posts);
  try {
    const child = fileURLToPath(new URL('./scan-child.mjs', import.meta.url));
    const floorChild = fileURLToPath(new URL('./scan-floor-child.mjs', import.meta.url));
    const results: Array<{ ms: number; cpuMs: number; mainCpuMs: number | null; maxRssMb: number }> = [];
    const floors: Array<{ ms: number; cpuMs: number }> = [];
    for (let run = 0; run < runs; run++) {
      const { stdout } = await execa(process.execPath, [child, root]);
      const result = JSON.parse(stdout) as { ms: number; cpuMs: number; mainCpuMs: number | null; maxRssMb: number; ready: number; images: number };
      if (result.ready !== posts) throw new Error(`expected ${posts} cached images, found ${result.ready}`);
      results.push(result);
      const floor = JSON.parse((await execa(process.execPath, [floorChild, root])).stdout) as { ms: number; cpuMs: number; posts: number; entries: number };
      if (floor.posts !== posts || floor.entries !== posts) throw new Error(`the floor read ${floor.posts} posts and ${floor.entries} entries, not ${posts}`);
      floors.push(floor);
    }
    const mainCpus = results.flatMap((result) => (result.mainCpuMs === null ? [] : [result.mainCpuMs]));
    // The median run by wall time, whose peak RSS goes with it: a median of pairs, not of numbers.
    results.sort((a, b) => a.ms - b.ms);
    const middle = results[Math.floor(results.length / 2)]!;
    return {
      posts,
      ms: middle.ms,
      msRange: [results[0]!.ms, results.at(-1)!.ms],
      maxRssMb: middle.maxRssMb,
      floorMs: median(floors.map((floor) => floor.ms)),
      cpuMs: median(results.map((result) => result.cpuMs)),
      floorCpuMs: median(floors.map((floor) => floor.cpuMs)),
      mainCpuMs: mainCpus.length > 0 ? median(mainCpus) : undefined,
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
