import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadComfyUIEnv } from '../src/load-comfyui-env.js';

const made: string[] = [];
// Vite's loadEnv lets this process's own variables win over the files: a COMFYUI_URL set where the tests run is put aside.
const shellUrl = process.env.COMFYUI_URL;
beforeEach(() => {
  delete process.env.COMFYUI_URL;
});
afterEach(async () => {
  if (shellUrl !== undefined) process.env.COMFYUI_URL = shellUrl;
  for (const dir of made.splice(0)) await rm(dir, { recursive: true, force: true });
});

/** A site folder; inside the repository, Astro (and its Vite) resolve from it as from an installed site. */
async function site(withAstro: boolean, files: Record<string, string>): Promise<string> {
  const base = withAstro ? fileURLToPath(new URL('../../../.tmp/', import.meta.url)) : tmpdir();
  await mkdir(base, { recursive: true });
  const root = await mkdtemp(path.join(base, 'env-'));
  made.push(root);
  for (const [name, text] of Object.entries(files)) await writeFile(path.join(root, name), text);
  return root;
}

describe('loadComfyUIEnv', () => {
  it("takes COMFYUI_ variables from the site's .env files in Astro's order, the shell's value first, and nothing else", async () => {
    const root = await site(true, {
      '.env': 'COMFYUI_URL=http://from-env:8188\nSECRET=kept-out\n',
      '.env.local': 'COMFYUI_URL=http://from-local:8188\n',
      '.env.production': 'COMFYUI_URL=http://from-production:8188\n',
    });
    const production = await loadComfyUIEnv(root, root, 'production', { CI: '1' });
    expect(production).toMatchObject({ CI: '1', COMFYUI_URL: 'http://from-production:8188' });
    expect(production).not.toHaveProperty('SECRET');
    expect((await loadComfyUIEnv(root, root, 'development', {})).COMFYUI_URL).toBe('http://from-local:8188');
    expect((await loadComfyUIEnv(root, root, 'production', { COMFYUI_URL: 'http://shell:8188' })).COMFYUI_URL).toBe('http://shell:8188');
    // envDir: false turns .env files off, as in Vite.
    expect(await loadComfyUIEnv(root, false, 'production', { CI: '1' })).toEqual({ CI: '1' });
  });

  it('needs no Astro for a site without .env files, and says it cannot read them without one', async () => {
    const bare = await site(false, {});
    expect(await loadComfyUIEnv(bare, bare, 'production', { CI: '1' })).toEqual({ CI: '1' });
    const withFile = await site(false, { '.env': 'COMFYUI_URL=http://gpu:8188\n' });
    await expect(loadComfyUIEnv(withFile, withFile, 'production', {})).rejects.toThrow(`Cannot find Astro in ${withFile}.`);
  });
});
