import { execa } from 'execa';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { childEnv } from '../helpers/fixture-site.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The commands of the README's Quick start block, without comments. */
async function readQuickStart(): Promise<string[]> {
  const readme = await readFile(path.join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Quick start'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  return block
    .split('\n')
    .map((line) => line.replace(/#.*/, '').trim())
    .filter(Boolean);
}

describe('README quick start', () => {
  it('has exactly two commands; the second is what CI runs', async () => {
    const commands = await readQuickStart();
    expect(commands).toHaveLength(2);
    // CI runs `bash .ci/run` on a fresh clone, so a green CI is this command succeeding.
    expect(commands[1]).toBe('bash .ci/run');
    const ci = await readFile(path.join(repoRoot, '.ci/run'), 'utf8');
    expect(ci).toContain('npm ci');
    expect(ci).toMatch(/^npm test$/m);
  });

  it('the first command installs and builds the example blog on a fresh copy, with loud placeholders', async () => {
    const [demo] = await readQuickStart();
    const { stdout: files } = await execa('git', ['ls-files', '-co', '--exclude-standard'], { cwd: repoRoot });
    const fresh = await mkdtemp(path.join(tmpdir(), 'quickstart-'));
    try {
      for (const file of files.split('\n').filter(Boolean)) {
        if (file.startsWith('.tmp/')) continue;
        await cp(path.join(repoRoot, file), path.join(fresh, file), { recursive: true }).catch(() => {});
      }
      // The machine's own Node, as a new user has it: without the Node 22 that CI put first on PATH.
      const ownPath = (process.env.PATH ?? '')
        .split(':')
        .filter((dir) => dir !== path.dirname(process.execPath))
        .join(':');
      const result = await execa('bash', ['-c', demo!], {
        cwd: fresh,
        env: childEnv({ PATH: ownPath, COMFYUI_URL: 'http://127.0.0.1:9' }),
        extendEnv: false,
        reject: false,
        all: true,
        timeout: 300_000,
      });
      expect(result.exitCode, String(result.all).slice(-3000)).toBe(0);
      expect(result.all).toContain('PLACEHOLDER IMAGES');
      const pages = await readdir(path.join(fresh, 'example-blog/dist/blog'));
      expect(pages.length).toBeGreaterThanOrEqual(6);
      const html = await readFile(path.join(fresh, 'example-blog/dist/blog/lighthouse/index.html'), 'utf8');
      expect(html).toMatch(/<source srcset="[^"]+\.avif/);
      expect(html).toContain('Placeholder image');
      // npm linked the CLI on `npm ci`, before anything was built, and it works now.
      const version = await execa('npx', ['--no-install', 'astro-comfyui', '--version'], {
        cwd: fresh,
        env: childEnv({ PATH: `${path.dirname(process.execPath)}:${ownPath}` }),
        extendEnv: false,
        reject: false,
        all: true,
      });
      expect(version.exitCode, String(version.all)).toBe(0);
      expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  }, 320_000);
});
