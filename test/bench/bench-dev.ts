import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { findFreePort } from '../helpers/find-free-port.js';
import { startAstroDev } from '../helpers/fixture-site.js';
import { prepareCachedSite } from './bench-scan.js';
import { median } from './median.js';

export interface DevResult {
  posts: number;
  /** The slowest load of the edited post's page in the 5 s after a save of its text only: median of the rounds. */
  textSaveMs: number;
  /** From a save that changed one post's alt text until its page shows it: median of the rounds. */
  altShownMs: number;
  /** The first page loaded once the server answers: its images module and the site's images load then. */
  firstPageMs: number;
  /** Any post page, nothing changed: median of 9. */
  pageMs: number;
  /** CPU time of the dev server in the 3 s after a save of a post's text only, no page loaded: median. */
  textSaveCpuMs: number;
}

/**
 * `astro dev` on a site of `posts` posts whose images are all committed and shown by their pages (the
 * images module imports every one): what an author waits for after a save.
 */
export async function benchDev(posts: number, rounds = 3): Promise<DevResult> {
  const root = await prepareCachedSite(posts, { renderImages: true });
  const dev = await startAstroDev(root, await findFreePort(), {});
  const load = async (route: string) => {
    const started = performance.now();
    const response = await fetch(`${dev.url}${route}`);
    const html = await response.text();
    if (response.status !== 200) throw new Error(`${route} answered ${response.status}:\n${dev.output.join('').slice(-2000)}`);
    return { ms: performance.now() - started, alt: /<img[^>]+alt="([^"]*)"/.exec(html)?.[1] };
  };
  const post = path.join(root, 'src/content/blog/post-00001.md');
  try {
    const firstPageMs = (await load('/post-00002/')).ms;
    const page: number[] = [];
    for (let i = 3; i < 12; i++) page.push((await load(`/post-${String(i).padStart(5, '0')}/`)).ms);
    // The server's own reaction to a save (Astro's and the integration's), with no page asking for anything.
    const textSaveCpu: number[] = [];
    for (let round = 1; round <= rounds; round++) {
      await writeFile(post, `${await readFile(post, 'utf8')}\nA quiet edit, round ${round}.\n`);
      const before = cpuMsOf(dev.child.pid!);
      await new Promise((resolve) => setTimeout(resolve, 3000));
      textSaveCpu.push(cpuMsOf(dev.child.pid!) - before);
    }
    const textSave: number[] = [];
    const altShown: number[] = [];
    let text = await readFile(post, 'utf8');
    for (let round = 1; round <= rounds; round++) {
      text = `${text}\nMore words, round ${round}.\n`;
      await writeFile(post, text);
      // Astro and the integration react to the save in the background; whichever page load comes after
      // their work pays for what it left to do (Vite loading modules again): the slowest load of 5 s.
      const savedAt = performance.now();
      let slowest = 0;
      while (performance.now() - savedAt < 5000) slowest = Math.max(slowest, (await load('/post-00001/')).ms);
      textSave.push(slowest);

      const alt = `alt of round ${round}`;
      const started = performance.now();
      text = text.replace(/(, alt: "[^"]*")? \}\n/, `, alt: "${alt}" }\n`);
      await writeFile(post, text);
      while ((await load('/post-00001/')).alt !== alt) {
        if (performance.now() - started > 120_000) throw new Error(`the page never showed "${alt}":\n${dev.output.join('').slice(-2000)}`);
      }
      altShown.push(performance.now() - started);
    }
    return { posts, textSaveMs: median(textSave), altShownMs: median(altShown), firstPageMs, pageMs: median(page), textSaveCpuMs: median(textSaveCpu) };
  } finally {
    await dev.stop();
    await rm(root, { recursive: true, force: true });
  }
}

let ticksPerSecond: number | undefined;
/** User + system CPU time of a process so far, from /proc (Linux). */
function cpuMsOf(pid: number): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }));
  // Fields after the command name, which is in parentheses and may contain spaces: utime and stime are 14 and 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / ticksPerSecond;
}
