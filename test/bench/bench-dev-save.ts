import { EventEmitter } from 'node:events';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ViteDevServer } from 'vite';
import type { Logger } from '../../packages/comfyui/src/types.js';
import { startDevGeneration } from '../../packages/astro-comfyui/src/dev-generation.js';
import { ImageIndex } from '../../packages/astro-comfyui/src/image-index.js';
import { resolveOptions } from '../../packages/astro-comfyui/src/options.js';
import { prepareCachedSite } from './bench-scan.js';
import { median } from './median.js';

export interface DevSaveResult {
  posts: number;
  /** CPU time of this process in the 2.5 s after a save of one post's text only: median of the rounds. */
  textCpuMs: number;
  /** The same after a save that changes that post's alt text. */
  altCpuMs: number;
}

/**
 * The integration's own work after a save in `astro dev`, without Astro's: the dev generation runs on a
 * site whose images are all committed, with a stand-in for Vite's server whose watcher events are sent
 * here, and the CPU this process spends after each save is read with process.cpuUsage().
 */
export async function benchDevSave(posts: number, rounds = 3): Promise<DevSaveResult> {
  const root = await prepareCachedSite(posts);
  const options = resolveOptions({ mode: 'frozen', formats: { hero: { width: 64, height: 64 } } }, root, {});
  const watcher = new EventEmitter();
  const server = { watcher, hot: { send() {} }, environments: {} } as unknown as ViteDevServer;
  const quiet = () => {};
  const logger: Logger = { info: quiet, warn: console.warn, error: console.error, debug: quiet };
  const dev = startDevGeneration(server, new ImageIndex(), options, logger);
  const post = path.join(root, 'src/content/blog/post-00010.md');
  try {
    await dev.refresh();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    const cpuAfter = async (edit: (text: string) => string) => {
      await writeFile(post, edit(await readFile(post, 'utf8')));
      const before = process.cpuUsage();
      watcher.emit('change', post);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const used = process.cpuUsage(before);
      return (used.user + used.system) / 1000;
    };
    const text: number[] = [];
    const alt: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      text.push(await cpuAfter((t) => `${t}\nMore words, round ${round}.\n`));
      alt.push(await cpuAfter((t) => t.replace(/(, alt: "[^"]*")? \}\n/, `, alt: "alt of round ${round}" }\n`)));
    }
    return { posts, textCpuMs: median(text), altCpuMs: median(alt) };
  } finally {
    await dev.dispose();
    await rm(root, { recursive: true, force: true });
  }
}
