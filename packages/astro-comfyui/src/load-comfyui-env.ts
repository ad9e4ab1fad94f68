import { existsSync } from 'node:fs';
import path from 'node:path';
import { importAstroVite } from './import-astro-vite.js';

/** The variables astro-comfyui takes from .env files; `CI` is the machine's, never a file's. */
const PREFIX = 'COMFYUI_';

/** The .env files Astro reads for `mode` (Vite's list), each of which may set `COMFYUI_URL`. */
export function envFilesOf(envDir: string, mode: string): string[] {
  return ['.env', '.env.local', `.env.${mode}`, `.env.${mode}.local`].map((name) => path.join(envDir, name));
}

/**
 * The environment the options are resolved with: the process's, plus the `COMFYUI_` variables of the
 * project's .env files (`.env`, `.env.local`, `.env.<mode>`, `.env.<mode>.local` in `envDir`), read by
 * Astro's own Vite as Astro reads them for the site's code. An author keeps a GPU machine's URL (and its
 * password) there, out of git; Astro fills `process.env` from those files only late in a build, and never
 * in dev, so they are read here. A variable set in the process wins over the files, as in Astro.
 */
export async function loadComfyUIEnv(root: string, envDir: string | false, mode: string, env: NodeJS.ProcessEnv = process.env): Promise<NodeJS.ProcessEnv> {
  if (envDir === false) return env;
  const dir = path.resolve(root, envDir);
  // Most sites have no .env file: Vite is then not even looked for.
  if (!envFilesOf(dir, mode).some((file) => existsSync(file))) return env;
  const vite = await importAstroVite(root);
  const fromFiles = vite.loadEnv(mode, dir, PREFIX);
  return { ...env, ...fromFiles, ...Object.fromEntries(Object.entries(env).filter(([key]) => key.startsWith(PREFIX))) };
}
