import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { startFakeComfyUI } from '../fake-comfyui/fake-comfyui.js';
import { useCleanups } from '../helpers/cleanups.js';
import { readFakeUrl } from '../helpers/start-fake-process.js';
import { childEnv } from '../helpers/fixture-site.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const cleanups = useCleanups();
const env = (extra: Record<string, string | undefined> = {}) => childEnv({ PATH: `${path.dirname(process.execPath)}:${process.env.PATH}`, ...extra });

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
    const packs = await mkdtemp(path.join(tmpdir(), 'astro-comfyui-packs-'));
    const site = await mkdtemp(path.join(tmpdir(), 'astro-comfyui-site-'));
    cleanups.push(
      () => rm(packs, { recursive: true, force: true }),
      () => rm(site, { recursive: true, force: true }),
    );
    const pack = await execa(
      'npm',
      ['pack', '--workspace', 'packages/comfyui', '--workspace', 'packages/astro-comfyui', '--pack-destination', packs, '--json'],
      {
        cwd: repoRoot,
        env: env(),
        extendEnv: false,
      },
    );
    const [comfyui, integration] = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    for (const tarball of [comfyui!, integration!]) {
      const files = tarball.files.map((f) => f.path);
      expect(files, tarball.filename).toEqual(
        expect.arrayContaining(['README.md', 'LICENSE', 'package.json', 'dist/index.js', 'dist/index.d.ts', 'src/index.ts']),
      );
    }
    expect(integration!.files.map((f) => f.path)).toEqual(expect.arrayContaining(['bin/astro-comfyui.js', 'dist/cli/main.js', 'dist/user-options.d.ts']));
    // The workspace is left as it was: the copied README and LICENSE are removed again.
    expect(await readdir(path.join(repoRoot, 'packages/comfyui'))).not.toContain('LICENSE');

    const { version: astroVersion } = JSON.parse(await readFile(path.join(repoRoot, 'node_modules/astro/package.json'), 'utf8')) as { version: string };
    await writeFile(path.join(site, 'package.json'), JSON.stringify({ name: 'outside-site', private: true, type: 'module' }));
    await mkdir(path.join(site, 'src/content/blog'), { recursive: true });
    await mkdir(path.join(site, 'src/pages'), { recursive: true });
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
    const install = await execa(
      'npm',
      [
        'install',
        '--no-audit',
        '--no-fund',
        '--prefer-offline',
        path.join(packs, comfyui!.filename),
        path.join(packs, integration!.filename),
        `astro@${astroVersion}`,
      ],
      {
        cwd: site,
        env: env(),
        extendEnv: false,
        reject: false,
        all: true,
        timeout: 240_000,
      },
    );
    expect(install.exitCode, String(install.all)).toBe(0);

    const fake = await startFakeComfyUI();
    cleanups.push(() => fake.close());
    const build = await execa(process.execPath, [path.join(site, 'node_modules/astro/bin/astro.mjs'), 'build'], {
      cwd: site,
      env: env({ COMFYUI_URL: fake.url, ASTRO_TELEMETRY_DISABLED: '1' }),
      extendEnv: false,
      reject: false,
      all: true,
      timeout: 120_000,
    });
    expect(build.exitCode, String(build.all)).toBe(0);
    expect(build.all).not.toMatch(/[Ss]ourcemap/);
    expect(fake.stats.promptsQueued).toBe(1);
    expect(await readFile(path.join(site, 'dist/index.html'), 'utf8')).toMatch(/<source srcset="[^"]+\.avif/);
    const version = await execa('npx', ['--no-install', 'astro-comfyui', '--version'], { cwd: site, env: env(), extendEnv: false });
    expect(version.stdout.trim()).toBe(JSON.parse(await readFile(path.join(repoRoot, 'packages/astro-comfyui/package.json'), 'utf8')).version);
  }, 300_000);
});
