import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { AstroComfyUIError } from './astro-comfyui-error.js';

/**
 * The Vite that the project's Astro runs on, found from `from` (a file in the project) as Node finds
 * Astro there: astro.config and .env files are then read exactly as Astro reads them. Vite is Astro's
 * dependency, not this package's, so a strict installer (pnpm) would not let this package import it.
 */
export async function importAstroVite(root: string, from = path.join(root, 'package.json')): Promise<typeof import('vite')> {
  let vitePath: string;
  try {
    const astroDir = path.dirname(createRequire(from).resolve('astro/package.json'));
    vitePath = createRequire(path.join(astroDir, 'package.json')).resolve('vite');
  } catch (cause) {
    throw new AstroComfyUIError('INVALID_OPTIONS', `Cannot find Astro in ${root}.`, "Install the project's dependencies first (npm install).", { cause });
  }
  return (await import(pathToFileURL(vitePath).href)) as typeof import('vite');
}
