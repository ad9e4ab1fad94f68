import { execa, type Options } from 'execa';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startFakeComfyUI, type FakeComfyUIOptions } from '../fake-comfyui/fake-comfyui.js';
import { trackCommand } from './unfinished-commands.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const astroBin = path.join(repoRoot, 'node_modules/astro/bin/astro.mjs');

/**
 * Copies a fixture site into `.tmp/` inside the repository (so `astro` and `astro-comfyui` resolve from
 * the workspace's node_modules) and returns its root and a cleanup function.
 */
export async function copyFixture(name: string): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const base = path.join(repoRoot, '.tmp');
  await mkdir(base, { recursive: true });
  const root = await mkdtemp(path.join(base, `${name}-`));
  await cp(path.join(repoRoot, 'test/fixtures', name), root, { recursive: true });
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** `text` (of `where`) with `from` replaced by `to`; throws when `from` is not there, so that a test never edits nothing. */
export function replaceOnce(text: string, from: string | RegExp, to: string, where: string): string {
  if (typeof from === 'string' ? !text.includes(from) : text.search(from) === -1)
    throw new Error(`${where} does not contain ${typeof from === 'string' ? JSON.stringify(from) : from}`);
  return text.replace(from, to);
}

/** Replaces `from` with `to` in a file; throws when `from` is not there, so that a test never edits nothing. */
export async function replaceInFile(file: string, from: string | RegExp, to: string): Promise<void> {
  await writeFile(file, replaceOnce(await readFile(file, 'utf8'), from, to, file));
}

/** The image service of the blog fixture's astro.config.mjs, for tests that replace it. */
export const fixtureImageService = 'image: { service: sharpImageService({ avif: { effort: 2 } }) },';

/** Adds @astrojs/mdx to a copied blog fixture, as a site with MDX posts has it, and a components folder. */
export async function useMdx(root: string): Promise<void> {
  const config = path.join(root, 'astro.config.mjs');
  await replaceInFile(config, "import comfyui from 'astro-comfyui';", "import mdx from '@astrojs/mdx';\nimport comfyui from 'astro-comfyui';");
  await replaceInFile(config, 'integrations: [', 'integrations: [\n    mdx(),');
  await mkdir(path.join(root, 'src/components'), { recursive: true });
}

/**
 * The environment of a child Astro process: this one's, minus what vitest sets (with NODE_ENV=test and
 * VITEST set, `astro dev` serves no routes).
 */
export function childEnv(extra: Record<string, string | undefined>): Record<string, string> {
  const env: Record<string, string | undefined> = { ...process.env, ASTRO_TELEMETRY_DISABLED: '1', CI: undefined, ...extra };
  for (const key of Object.keys(env)) {
    if (key.startsWith('VITEST') || key === 'NODE_ENV' || key === 'TEST' || env[key] === undefined) delete env[key];
  }
  return env as Record<string, string>;
}

/** Runs the Astro CLI as a real subprocess; the test sees its exit code and output. */
export function runAstro(root: string, args: string[], env: Record<string, string | undefined> = {}, options: Options = {}) {
  return trackCommand(
    execa(process.execPath, [astroBin, ...args, '--root', root], {
      cwd: root,
      env: childEnv(env),
      extendEnv: false,
      reject: false,
      all: true,
      timeout: 180_000,
      ...options,
    }),
  );
}

/**
 * Starts `astro dev` on a free port as a subprocess and resolves once it answers. `bin` is the workspace's
 * Astro unless a site outside the repository runs its own install.
 */
export async function startAstroDev(
  root: string,
  port: number,
  env: Record<string, string | undefined> = {},
  { host = '127.0.0.1', bin = astroBin }: { host?: string; bin?: string } = {},
) {
  const child = execa(process.execPath, [bin, 'dev', '--root', root, '--port', String(port), '--host', host], {
    cwd: root,
    env: childEnv(env),
    extendEnv: false,
    buffer: false,
    reject: false,
    all: true,
  });
  const output: string[] = [];
  child.all?.on('data', (chunk: Buffer) => output.push(chunk.toString()));
  const deadline = Date.now() + 60_000;
  let exited = false;
  void child.then(() => (exited = true));
  // Astro moves to another port when the asked one is taken: trust the address it prints.
  let url: string | undefined;
  for (;;) {
    if (exited) throw new Error(`astro dev exited during start:\n${output.join('')}`);
    url ??= /Local\s+(http:\/\/[^\s/]+)/.exec(output.join(''))?.[1]?.replace('//localhost:', '//127.0.0.1:');
    if (url) {
      try {
        if ((await fetch(url, { signal: AbortSignal.timeout(2000) })).status < 500) break;
      } catch {
        // not answering yet
      }
    }
    if (Date.now() > deadline) throw new Error(`astro dev did not answer within 60 s:\n${output.join('')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return {
    url,
    child,
    output,
    /** waitUntil, with what the server printed in the error when the deadline passes. */
    until<T>(check: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
      return waitUntil(check, timeoutMs, what).catch((error: Error) => {
        throw new Error(`${error.message}\n${output.join('')}`);
      });
    },
    /** Asks the server to stop and resolves with its result; fails if it does not exit within 15 s. */
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const result = await child;
      clearTimeout(timer);
      if (result.signal === 'SIGKILL') throw new Error('astro dev did not exit within 15 s of SIGTERM');
      return result;
    },
  };
}

/** Resolves once a running subprocess (started with `all: true`) has printed text matching `pattern`. */
export function waitForOutput(child: { all?: NodeJS.ReadableStream | null }, pattern: RegExp, what: string, timeoutMs = 60_000): Promise<string> {
  let output = '';
  child.all?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return waitUntil(async () => (pattern.test(output) ? output : undefined), timeoutMs, what).catch((error: Error) => {
    throw new Error(`${error.message}\n${output}`);
  });
}

/** Polls until `check` returns a value (not undefined) or the deadline passes. */
export async function waitUntil<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
}

/** The command npm links (`npx astro-comfyui`): a shim that loads the built CLI. */
export const cliBin = path.join(repoRoot, 'packages/astro-comfyui/bin/astro-comfyui.js');

/** Runs `astro-comfyui <args>` in a site as a real subprocess. */
export function runCli(root: string, args: string[], env: Record<string, string | undefined> = {}, options: Options = {}) {
  return trackCommand(
    execa(process.execPath, [cliBin, ...args], {
      cwd: root,
      env: childEnv(env),
      extendEnv: false,
      reject: false,
      all: true,
      timeout: 120_000,
      ...options,
    }),
  );
}

/** A fake ComfyUI and a fresh copy of the blog fixture, both cleaned up after the test. */
export async function setupBlogWithFake(cleanups: Array<() => Promise<unknown>>, options: FakeComfyUIOptions = {}) {
  const fake = await startFakeComfyUI(options);
  cleanups.push(() => fake.close());
  const site = await copyFixture('blog');
  cleanups.push(site.cleanup);
  return { fake, root: site.root, env: { COMFYUI_URL: fake.url } };
}
