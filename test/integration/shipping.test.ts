import { cp, mkdir, mkdtemp, readdir, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type Options } from 'execa';
import semver from 'semver';
import { afterAll, describe, expect, it } from 'vitest';
import { startFakeComfyUI } from '../fake-comfyui/fake-comfyui.js';
import { useCleanups } from '../helpers/cleanups.js';
import { readFakeUrl } from '../helpers/start-fake-process.js';
import { trackCommand } from '../helpers/unfinished-commands.js';
import { fakeStartCommand, isProcessAlive } from '../helpers/fake-launcher.js';
import { findFreePort } from '../helpers/find-free-port.js';
import { childEnv, replaceInFile, startAstroDev } from '../helpers/fixture-site.js';
import { launchChromium } from '../helpers/launch-chromium.js';
import { openToolbarApp } from '../helpers/open-toolbar-app.js';
import { waitForChange } from '../helpers/wait-for-change.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const cleanups = useCleanups();
/** A child's environment with `node` first on its PATH (this process's Node unless told). */
const envWith = (node: string, extra: Record<string, string | undefined> = {}) => childEnv({ PATH: `${path.dirname(node)}:${process.env.PATH}`, ...extra });
const env = (extra: Record<string, string | undefined> = {}) => envWith(process.execPath, extra);

describe('shipping', () => {
  it('npm run fake-comfyui, as the README documents it, serves a fake ComfyUI', async () => {
    const child = execa('npm', ['run', 'fake-comfyui', '--', '--port', '0'], {
      cwd: repoRoot,
      env: env(),
      extendEnv: false,
      detached: true,
      buffer: false,
      reject: false,
    });
    // npm, sh and node: stop the whole group.
    cleanups.push(async () => {
      try {
        process.kill(-child.pid!, 'SIGTERM');
      } catch {
        // already gone
      }
      await child;
    });
    const url = await readFakeUrl(child);
    const stats = (await (await fetch(`${url}/system_stats`)).json()) as { system: { comfyui_version: string } };
    expect(stats.system.comfyui_version).toMatch(/^\d+\.\d+\.\d+$/);
  }, 60_000);

  it('npm pack makes what a registry release would, and a site outside the repository installs and builds with it', async () => {
    const { comfyui, integration } = await packTarballs();
    for (const tarball of [comfyui, integration]) {
      const files = tarball.files.map((f) => f.path);
      expect(files, tarball.filename).toEqual(
        expect.arrayContaining(['README.md', 'LICENSE', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'src/index.ts']),
      );
    }
    expect(integration.files.map((f) => f.path)).toEqual(expect.arrayContaining(['bin/astro-comfyui.js', 'dist/cli/main.js', 'dist/user-options.d.ts']));
    // The workspace is left as it was: the copied README and LICENSE are removed again.
    expect(await readdir(path.join(repoRoot, 'packages/comfyui'))).not.toContain('LICENSE');

    const site = await copyInstalledSite();
    await expectToBuild(site, process.execPath);
    const version = await execa('npx', ['--no-install', 'astro-comfyui', '--version'], { cwd: site, env: env(), extendEnv: false });
    expect(version.stdout.trim()).toBe((await readPackage('packages/astro-comfyui')).version);
  }, 300_000);

  it("a site that installed the tarballs runs the dev toolbar's studio from them: a candidate is made and pinned, and the page shows it", async () => {
    // Vite serves an installed package's modules (the toolbar app, the images module) otherwise than a
    // workspace link's: from node_modules, through its dependency optimizer.
    const site = await copyInstalledSite();
    const fake = await startFakeComfyUI();
    cleanups.push(() => fake.close());
    const dev = await startAstroDev(site, await findFreePort(), { COMFYUI_URL: fake.url }, { bin: path.join(site, 'node_modules/astro/bin/astro.mjs') });
    cleanups.push(() => dev.stop());
    const browser = await launchChromium();
    cleanups.push(() => browser.close());
    const page = await browser.newPage();
    // What breaks when a module is served wrong: an uncaught error, or a script the server cannot answer.
    const broken: string[] = [];
    page.on('pageerror', (error) => broken.push(String(error)));
    page.on('response', (answer) => {
      if (answer.status() >= 400 && answer.request().resourceType() === 'script') broken.push(`${answer.status()} ${answer.url()}`);
    });
    // The image dev made in the background is on the page.
    await dev.until(async () => (dev.output.join('').includes('[1/1]') ? true : undefined), 30_000, 'the first image');
    await page.goto(`${dev.url}/`);
    await expect.poll(() => page.locator('picture img').count(), { timeout: 20_000 }).toBe(1);

    await openToolbarApp(page);
    await page.getByTestId('post').selectOption('src/content/blog/harbour.md');
    await expect.poll(() => page.getByTestId('prompt').inputValue()).toBe('a small harbour at dawn');
    await page.getByTestId('seed').fill('21');
    await page.getByTestId('count').fill('1');
    await page.getByTestId('generate').click();
    await page.getByTestId('candidate-0').waitFor({ timeout: 30_000 });
    const post = path.join(site, 'src/content/blog/harbour.md');
    const before = await readFile(post, 'utf8');
    await page.getByTestId('use-0').click();
    const after = await waitForChange(post, before);
    expect(after.data.image).toEqual({ prompt: 'a small harbour at dawn', seed: 21 });
    const manifest = JSON.parse(await readFile(path.join(site, 'src/assets/generated/images.lock.json'), 'utf8')) as {
      images: Record<string, { file: string; seed: number }>;
    };
    const pinned = Object.values(manifest.images).find((entry) => entry.seed === 21)!;
    await expect.poll(async () => (await page.content()).includes(encodeURIComponent(pinned.file)), { timeout: 20_000 }).toBe(true);
    expect(broken).toEqual([]);
  }, 120_000);

  it('no runtime dependency of the published packages needs a newer Node than the packages declare', async () => {
    // A dependency that needs a newer Node fails at import on the older ones the packages accept, with
    // its own TypeError (undici 8 did on Node 22.12–22.18, where Astro 7.0–7.3 run).
    const tooNew: string[] = [];
    for (const name of ['packages/comfyui', 'packages/astro-comfyui']) {
      const declared = (await readPackage(name)).engines!.node!;
      for (const dependency of await runtimeDependencies(path.join(repoRoot, name))) {
        const needs = dependency.engines?.node;
        if (needs && !semver.subset(declared, needs)) tooNew.push(`${dependency.name}@${dependency.version} needs Node ${needs}; ${name} declares ${declared}`);
      }
    }
    expect(tooNew).toEqual([]);
  });

  it('a site on the oldest Node and Astro the packages declare installs the tarballs, builds and reports', async () => {
    const integrationPackage = await readPackage('packages/astro-comfyui');
    const oldestNode = semver.minVersion(integrationPackage.engines!.node!)!.version;
    const oldestAstro = semver.minVersion(integrationPackage.peerDependencies!.astro!)!.version;
    expect(semver.minVersion((await readPackage('packages/comfyui')).engines!.node!)!.version).toBe(oldestNode);

    // Node itself is on the npm registry, as .ci/node22.sh fetches it.
    const nodeBinary = `node-${process.platform}-${process.arch}`;
    const node = await installRuntime(`${nodeBinary}@${oldestNode}`, `${nodeBinary}/bin/node`);
    expect((await execa(node, ['--version'])).stdout.trim()).toBe(`v${oldestNode}`);

    const { packs, comfyui, integration } = await packTarballs();
    const site = await makeOutsideSite();
    await installInto(site, [path.join(packs, comfyui.filename), path.join(packs, integration.filename), `astro@${oldestAstro}`]);
    expect((await readPackage(path.join(site, 'node_modules/astro'))).version).toBe(oldestAstro);
    await expectToBuild(site, node);
    const status = await execa(node, [path.join(site, 'node_modules/astro-comfyui/bin/astro-comfyui.js'), 'status'], {
      cwd: site,
      env: envWith(node),
      extendEnv: false,
      reject: false,
      all: true,
    });
    expect(status.exitCode, String(status.all)).toBe(0);
    expect(status.all).toMatch(/images: 1 \(1 generated/);
  }, 300_000);

  it("a site run by Bun's runtime (bun --bun astro build) makes its image, and the CLI reports and supervises ComfyUI under it", async () => {
    // Its runtime stands in for undici with its own module.
    const bun = await installRuntime('bun@1', '.bin/bun');

    const site = await copyInstalledSite();
    await expectToBuild(site, bun, ['--bun']);
    await expectCliToWork(site, bun, ['--bun']);
  }, 300_000);

  it('a site run by Deno makes its image, and the CLI reports and supervises ComfyUI under Deno', async () => {
    // Deno runs a package.json script's `astro` as `deno run -A node_modules/astro/bin/astro.mjs`. Its
    // node:module has no compile cache, and `deno -e` puts a script name first in process.argv.
    const deno = await installRuntime('deno@2', '.bin/deno');
    const denoHome = await temporaryFolder('astro-comfyui-deno-dir-');
    const denoEnv = { DENO_DIR: denoHome, DENO_NO_UPDATE_CHECK: '1' };
    const site = await copyInstalledSite();
    await expectToBuild(site, deno, ['run', '-A'], denoEnv);
    await expectCliToWork(site, deno, ['run', '-A'], denoEnv);
  }, 300_000);
});

interface Tarball {
  filename: string;
  files: Array<{ path: string }>;
}

let packed: Promise<{ packs: string; comfyui: Tarball; integration: Tarball }> | undefined;
let packsFolder: string | undefined;
afterAll(() => packsFolder && rm(packsFolder, { recursive: true, force: true }));

/** Packs both packages once for the file, as a registry release would hold them. */
function packTarballs() {
  packed ??= (async () => {
    const packs = await mkdtemp(path.join(tmpdir(), 'astro-comfyui-packs-'));
    packsFolder = packs;
    const pack = await execa(
      'npm',
      ['pack', '--workspace', 'packages/comfyui', '--workspace', 'packages/astro-comfyui', '--pack-destination', packs, '--json'],
      { cwd: repoRoot, env: env(), extendEnv: false },
    );
    const [comfyui, integration] = JSON.parse(pack.stdout) as Tarball[];
    return { packs, comfyui: comfyui!, integration: integration! };
  })();
  return packed;
}

let installed: Promise<string> | undefined;

/**
 * A fresh copy of one outside site that npm installed the tarballs and this workspace's Astro into, once
 * for the file: the runtimes' tests then build and run the same install, without paying for it again.
 */
async function copyInstalledSite(): Promise<string> {
  installed ??= (async () => {
    const { packs, comfyui, integration } = await packTarballs();
    const { version: astroVersion } = await readPackage('node_modules/astro');
    // Beside the tarballs, which stay until the file's last test.
    const site = await makeOutsideSite(path.join(packs, 'site'));
    await installInto(site, [path.join(packs, comfyui.filename), path.join(packs, integration.filename), `astro@${astroVersion}`]);
    return site;
  })();
  const copy = await temporaryFolder('astro-comfyui-site-');
  // Symlinks as they are (node_modules/.bin's are relative), so the copy does not reach into the original.
  await cp(await installed, copy, { recursive: true, verbatimSymlinks: true });
  return copy;
}

interface PackageJson {
  name: string;
  version: string;
  engines?: { node?: string };
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** A package.json, from a folder relative to the repository (or absolute). */
async function readPackage(folder: string): Promise<PackageJson> {
  return JSON.parse(await readFile(path.resolve(repoRoot, folder, 'package.json'), 'utf8')) as PackageJson;
}

/** Every package a user's install brings with `folder`'s package (its peers excluded), as installed here. */
async function runtimeDependencies(folder: string): Promise<PackageJson[]> {
  const found = new Map<string, PackageJson>();
  const visit = async (from: string) => {
    const own = await readPackage(from);
    for (const name of Object.keys({ ...own.dependencies, ...own.optionalDependencies })) {
      const installed = await findInstalled(name, from);
      // An optional dependency for another platform is not installed.
      if (!installed || found.has(installed)) continue;
      found.set(installed, await readPackage(installed));
      await visit(installed);
    }
  };
  await visit(folder);
  return [...found.values()];
}

/** The folder Node's resolution would take `name` from, starting in `from` (a workspace link resolved). */
async function findInstalled(name: string, from: string): Promise<string | undefined> {
  for (let folder = from; ; folder = path.dirname(folder)) {
    const candidate = path.join(folder, 'node_modules', name);
    const real = await realpath(candidate).catch(() => undefined);
    if (real) return real;
    if (path.dirname(folder) === folder) return undefined;
  }
}

/** A runtime from the npm registry (`spec`, e.g. `bun@1`), installed in a folder of its own; its binary's path. */
async function installRuntime(spec: string, binary: string): Promise<string> {
  const home = await temporaryFolder(`astro-comfyui-${spec.replace(/@.*/, '')}-`);
  // Its own package.json, or npm would install into a folder above with one (or a node_modules).
  await writeFile(path.join(home, 'package.json'), JSON.stringify({ private: true }));
  await installInto(home, [spec]);
  return path.join(home, 'node_modules', binary);
}

async function temporaryFolder(prefix: string): Promise<string> {
  const folder = await mkdtemp(path.join(tmpdir(), prefix));
  cleanups.push(() => rm(folder, { recursive: true, force: true }));
  return folder;
}

/** A small site outside the repository (in `site`, a new folder unless given): one post with an image prompt, one page that shows it. */
async function makeOutsideSite(site?: string): Promise<string> {
  site ??= await temporaryFolder('astro-comfyui-site-');
  await mkdir(path.join(site, 'src/content/blog'), { recursive: true });
  await mkdir(path.join(site, 'src/pages'), { recursive: true });
  await writeFile(path.join(site, 'package.json'), JSON.stringify({ name: 'outside-site', private: true, type: 'module' }));
  await writeFile(
    path.join(site, 'astro.config.mjs'),
    "import { defineConfig } from 'astro/config';\nimport comfyui from 'astro-comfyui';\nexport default defineConfig({ integrations: [comfyui({ formats: { hero: { width: 256, height: 144 } }, pollIntervalMs: 50 })] });\n",
  );
  await writeFile(
    path.join(site, 'src/content.config.ts'),
    [
      "import { defineCollection } from 'astro:content';",
      "import { glob } from 'astro/loaders';",
      "import { z } from 'astro/zod';",
      "import { imagePromptSchema } from 'astro-comfyui/schema';",
      "export const collections = { blog: defineCollection({ loader: glob({ pattern: '*.md', base: './src/content/blog' }), schema: z.object({ title: z.string(), image: imagePromptSchema.optional() }) }) };",
    ].join('\n'),
  );
  await writeFile(path.join(site, 'src/content/blog/harbour.md'), '---\ntitle: Harbour\nimage: "a small harbour at dawn"\n---\nBody\n');
  await writeFile(
    path.join(site, 'src/pages/index.astro'),
    [
      '---',
      "import { getCollection } from 'astro:content';",
      "import { Picture } from 'astro:assets';",
      "import { getPostImage } from 'astro-comfyui/images';",
      "const posts = await getCollection('blog');",
      '---',
      "{posts.map((post) => { const image = getPostImage(post); return image && <Picture src={image.src} alt={image.alt} formats={['avif', 'webp']} />; })}",
    ].join('\n'),
  );
  return site;
}

async function installInto(folder: string, specs: string[]): Promise<void> {
  const install = await execa('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...specs], {
    cwd: folder,
    env: env(),
    extendEnv: false,
    reject: false,
    all: true,
    timeout: 240_000,
  });
  expect(install.exitCode, String(install.all)).toBe(0);
}

/** `astro build` run by `runtime` against a fake ComfyUI: the post's image is made and the page shows it. */
async function expectToBuild(site: string, runtime: string, runtimeArgs: string[] = [], extraEnv: Record<string, string> = {}): Promise<void> {
  const fake = await startFakeComfyUI();
  cleanups.push(() => fake.close());
  const build = await execa(runtime, [...runtimeArgs, path.join(site, 'node_modules/astro/bin/astro.mjs'), 'build'], {
    cwd: site,
    env: envWith(runtime, { COMFYUI_URL: fake.url, ...extraEnv }),
    extendEnv: false,
    reject: false,
    all: true,
    timeout: 120_000,
  });
  expect(build.exitCode, String(build.all)).toBe(0);
  expect(build.all).not.toMatch(/[Ss]ourcemap/);
  expect(fake.stats.promptsQueued).toBe(1);
  expect(await readFile(path.join(site, 'dist/index.html'), 'utf8')).toMatch(/<source srcset="[^"]+\.avif/);
}

/**
 * The CLI run by `runtime` in a site that `expectToBuild` built: `status` reports its image, and `start`
 * runs ComfyUI (the fake's launcher) through its watchdog in the foreground until Ctrl-C stops both.
 */
async function expectCliToWork(site: string, runtime: string, runtimeArgs: string[] = [], extraEnv: Record<string, string> = {}): Promise<void> {
  const cli = path.join(site, 'node_modules/astro-comfyui/bin/astro-comfyui.js');
  const runCli = (args: string[], extra: Record<string, string> = {}, options: Options = {}) =>
    execa(runtime, [...runtimeArgs, cli, ...args], {
      cwd: site,
      env: envWith(runtime, { ...extraEnv, ...extra }),
      extendEnv: false,
      reject: false,
      all: true,
      ...options,
    });
  const status = await runCli(['status']);
  expect(status.exitCode, String(status.all)).toBe(0);
  expect(status.all).toMatch(/images: 1 \(1 generated/);

  await replaceInFile(path.join(site, 'astro.config.mjs'), 'comfyui({', `comfyui({ start: ${JSON.stringify(fakeStartCommand())},`);
  const url = `http://127.0.0.1:${await findFreePort()}`;
  // Tracked: should the test stop early, the CLI is killed, which closes its watchdog's stdin and so stops ComfyUI.
  const start = trackCommand(runCli(['start'], { COMFYUI_URL: url }, { buffer: false }));
  const pid = await new Promise<number>((resolve, reject) => {
    let output = '';
    start.all!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /\(pid (\d+)\)/.exec(output);
      if (match) resolve(Number(match[1]));
    });
    start.then(() => reject(new Error(`start exited early:\n${output}`)), reject);
  });
  expect((await fetch(`${url}/system_stats`)).status).toBe(200);
  start.kill('SIGINT');
  expect((await start).exitCode).toBe(0);
  expect(isProcessAlive(pid)).toBe(false);
}
