import { writeFileSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import sharp from 'sharp';
import { collectPostImages } from '../../packages/astro-comfyui/src/collect-post-images.js';
import { readManifest } from '../../packages/astro-comfyui/src/manifest.js';
import { resolveOptions } from '../../packages/astro-comfyui/src/options.js';
import { withPngEntry } from '../../packages/astro-comfyui/src/png-entry.js';
import { childEnv } from '../helpers/fixture-site.js';
import { prepareCachedSite } from './bench-scan.js';
import { median } from './median.js';

const child = fileURLToPath(new URL('./build-child.mjs', import.meta.url));

export interface ProvenanceResult {
  posts: number;
  /** Median wall time of a build that makes every derivative (no astro:assets cache), disclosure on and off. */
  coldOnMs: number;
  coldOffMs: number;
  /** Median wall time of a build whose derivatives are in astro:assets' cache (a cached build), disclosure on and off. */
  warmOnMs: number;
  warmOffMs: number;
}

/**
 * A site whose `posts` pages each render their committed image (a real 256×144 PNG carrying its entry) as
 * a WebP through astro:assets; built with disclosure on (provenance XMP kept in each WebP, a corner mark
 * on each image; the warm-up build stamps them) and off.
 */
async function prepareSite(posts: number): Promise<string> {
  const root = await prepareCachedSite(posts, { renderImages: true });
  const options = resolveOptions({ mode: 'frozen', formats: { hero: { width: 64, height: 64 } } }, root, {});
  const { images } = await collectPostImages(options);
  const manifest = await readManifest(options.manifestFile);
  const pixels = await sharp({ create: { width: 256, height: 144, channels: 3, background: '#4a7' } })
    .png()
    .toBuffer();
  for (const image of images) {
    const entry = manifest.images[image.key]!;
    writeFileSync(path.join(options.outDir, entry.file), withPngEntry(pixels, image.key, entry));
  }
  await writeFile(
    path.join(root, 'astro.config.mjs'),
    `import { defineConfig } from 'astro/config';
import comfyui from 'astro-comfyui';
export default defineConfig({ integrations: [comfyui({ mode: 'frozen', formats: { hero: { width: 64, height: 64 } }, disclosure: process.env.BENCH_DISCLOSURE === '1' ? { mark: { text: 'AI-generated' } } : { xmp: false } })] });
`,
  );
  return root;
}

async function timeBuild(root: string, disclosure: boolean, cold: boolean): Promise<number> {
  if (cold) await rm(path.join(root, 'node_modules/.astro'), { recursive: true, force: true });
  const result = await execa(process.execPath, [child, root], {
    cwd: root,
    env: childEnv({ CI: '1', BENCH_DISCLOSURE: disclosure ? '1' : '0' }),
    extendEnv: false,
    reject: false,
    all: true,
  });
  if (result.exitCode !== 0) throw new Error(String(result.all).slice(-2000));
  return (JSON.parse(String(result.stdout).trim().split('\n').at(-1)!) as { wallMs: number }).wallMs;
}

/** Builds of `posts` pages with images, disclosure on and off, cold and warm asset cache, alternating. */
export async function benchProvenance(posts: number, runs = 5): Promise<ProvenanceResult> {
  const on = await prepareSite(posts);
  const off = await prepareSite(posts);
  try {
    const times = { coldOn: [] as number[], coldOff: [] as number[], warmOn: [] as number[], warmOff: [] as number[] };
    await timeBuild(on, true, true);
    await timeBuild(off, false, true);
    for (let i = 0; i < runs; i++) {
      times.coldOn.push(await timeBuild(on, true, true));
      times.coldOff.push(await timeBuild(off, false, true));
      times.warmOn.push(await timeBuild(on, true, false));
      times.warmOff.push(await timeBuild(off, false, false));
    }
    return {
      posts,
      coldOnMs: median(times.coldOn),
      coldOffMs: median(times.coldOff),
      warmOnMs: median(times.warmOn),
      warmOffMs: median(times.warmOff),
    };
  } finally {
    await rm(on, { recursive: true, force: true });
    await rm(off, { recursive: true, force: true });
  }
}
