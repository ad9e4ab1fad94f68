import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const script = fileURLToPath(new URL('../../.ci/comfyui-frontend.sh', import.meta.url));

/** The web UI that ComfyUI 0.3.64, the recorded one, ships. */
export const RECORDED_FRONTEND = '1.27.10';
/** The newest web UI on PyPI when it was last checked (2026-12-07): what an up-to-date ComfyUI shows. */
export const NEWEST_FRONTEND = '1.58.1';

/**
 * The folder of ComfyUI's real web UI, PyPI's comfyui-frontend-package at `version`: for the recorded
 * version `COMFYUI_FRONTEND_DIR` as .ci/run sets it, otherwise downloaded once into the user's cache by
 * the same script. A test that needs it fails with the reason when it cannot be had.
 */
export function comfyuiFrontendDirectory(version = RECORDED_FRONTEND): string {
  const given = version === RECORDED_FRONTEND ? process.env.COMFYUI_FRONTEND_DIR : undefined;
  const dir = given || execFileSync('bash', [script, version], { encoding: 'utf8', timeout: 120_000 }).trim();
  if (!existsSync(path.join(dir, 'index.html')))
    throw new Error(`ComfyUI's web UI is not in ${dir}; run bash .ci/comfyui-frontend.sh ${version} (needs pip and PyPI).`);
  return dir;
}
