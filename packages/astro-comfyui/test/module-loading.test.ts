import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const dist = fileURLToPath(new URL('../dist/', import.meta.url));

// Every Astro command loads the integration (astro check, astro sync, a CI build that never calls ComfyUI):
// the HTTP client and the process supervisor are loaded only when ComfyUI is to be reached.
it('loads neither undici nor execa when astro.config imports the integration', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'loading-'));
  try {
    await writeFile(
      path.join(dir, 'hook.mjs'),
      `export async function resolve(specifier, context, next) {
  const resolved = await next(specifier, context);
  if (/node_modules\\/(undici|execa)\\//.test(resolved.url)) process.stderr.write(\`loaded \${resolved.url} from \${context.parentURL}\\n\`);
  return resolved;
}`,
    );
    await writeFile(path.join(dir, 'register.mjs'), "import { register } from 'node:module';\nregister('./hook.mjs', import.meta.url);\n");
    const script = `const { default: comfyui } = await import(${JSON.stringify(path.join(dist, 'index.js'))}); comfyui({}); process.stderr.write('imported\\n');`;
    const result = spawnSync(process.execPath, ['--import', path.join(dir, 'register.mjs'), '--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(result.stderr).toBe('imported\n');
    expect(result.status).toBe(0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
