import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../.ci/comfyui-frontend.sh', import.meta.url));

/**
 * The folder of ComfyUI's real web UI (PyPI's comfyui-frontend-package 1.27.10, which ComfyUI 0.3.64
 * ships): `COMFYUI_FRONTEND_DIR` as .ci/run sets it, or downloaded once into the user's cache by the same
 * script. A test that needs it fails with the reason when it cannot be had.
 */
export function comfyuiFrontendDirectory(): string {
  const dir = process.env.COMFYUI_FRONTEND_DIR || execFileSync('bash', [script], { encoding: 'utf8', timeout: 120_000 }).trim();
  if (!existsSync(path.join(dir, 'index.html'))) throw new Error(`ComfyUI's web UI is not in ${dir}; run bash .ci/comfyui-frontend.sh (needs pip and PyPI).`);
  return dir;
}
