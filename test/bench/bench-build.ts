import { execa } from 'execa';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { childEnv } from '../helpers/fixture-site.js';
import { prepareCachedSite } from './bench-scan.js';
import { median } from './median.js';

const child = fileURLToPath(new URL('./build-child.mjs', import.meta.url));

export interface BuildResult {
  posts: number;
  withMs: number;
  withoutMs: number;
  /** Ratio of the medians. */
  ratio: number;
  /** Ratio of the fastest runs (least disturbed by other work on the machine). */
  minRatio: number;
  /** Ratio of median CPU time (user + system) of the build process. */
  cpuRatio: number;
}

async function timeBuild(root: string, withIntegration: boolean): Promise<{ wallMs: number; cpuMs: number }> {
  const result = await execa(process.execPath, [child, root], {
    cwd: root,
    env: childEnv({ CI: '1', ...(withIntegration ? {} : { ASTRO_COMFYUI_BENCH_OFF: '1' }) }),
    extendEnv: false,
    reject: false,
    all: true,
  });
  if (result.exitCode !== 0) throw new Error(String(result.all).slice(-2000));
  return JSON.parse(String(result.stdout).trim().split('\n').at(-1)!) as { wallMs: number; cpuMs: number };
}

/** `astro build` of a site with `posts` cached posts, with and without astro-comfyui, median of `runs`. */
export async function benchBuild(posts: number, runs = 3): Promise<BuildResult> {
  // Two identical copies, so each variant keeps its own warm caches (.astro, node_modules/.vite);
  // only ASTRO_COMFYUI_BENCH_OFF differs between them.
  const root = await prepareCachedSite(posts);
  const offRoot = await prepareCachedSite(posts);
  try {
    const withTimes: number[] = [];
    const withoutTimes: number[] = [];
    const withCpu: number[] = [];
    const withoutCpu: number[] = [];
    // One warm-up each (Vite's dependency scan, file cache), then alternate so drift hits both alike.
    await timeBuild(root, true);
    await timeBuild(offRoot, false);
    for (let i = 0; i < runs; i++) {
      const on = await timeBuild(root, true);
      const off = await timeBuild(offRoot, false);
      withTimes.push(on.wallMs);
      withCpu.push(on.cpuMs);
      withoutTimes.push(off.wallMs);
      withoutCpu.push(off.cpuMs);
    }
    const withMs = median(withTimes);
    const withoutMs = median(withoutTimes);
    return {
      posts,
      withMs,
      withoutMs,
      ratio: withMs / withoutMs,
      minRatio: Math.min(...withTimes) / Math.min(...withoutTimes),
      cpuRatio: median(withCpu) / median(withoutCpu),
    };
  } finally {
    await rm(root, { recursive: true, force: true });
    await rm(offRoot, { recursive: true, force: true });
  }
}
