import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AstroComfyUIError } from '../astro-comfyui-error.js';
import { importAstroVite } from '../import-astro-vite.js';
import { USER_OPTIONS } from '../integration.js';
import { loadComfyUIEnv } from '../load-comfyui-env.js';
import { resolveOptions, type ResolvedOptions, type UserOptions } from '../options.js';

const CONFIG_NAMES = ['astro.config.mjs', 'astro.config.js', 'astro.config.ts', 'astro.config.mts', 'astro.config.cjs', 'astro.config.cts'];

/**
 * Reads the options given to `comfyui()` in the project's astro.config, so the CLI and the build always
 * agree. The config is loaded with the Vite that Astro uses (it handles TypeScript configs).
 */
export async function loadProjectOptions(root: string, env: NodeJS.ProcessEnv = process.env): Promise<ResolvedOptions> {
  const configFile = CONFIG_NAMES.map((name) => path.join(root, name)).find((file) => existsSync(file));
  if (!configFile) {
    throw new AstroComfyUIError(
      'INVALID_OPTIONS',
      `No astro.config file in ${root}.`,
      'Run the command in the root of an Astro project, or pass --root <dir>.',
    );
  }
  const vite = await importAstroVite(root, configFile);
  const loaded = await vite.loadConfigFromFile({ command: 'build', mode: 'production' }, configFile, root, 'silent');
  const config = (loaded?.config ?? {}) as {
    root?: string | URL;
    publicDir?: string | URL;
    srcDir?: string | URL;
    integrations?: unknown[];
    vite?: { envDir?: string | false };
  };
  const integrations = (config.integrations ?? []).flat(Infinity) as Array<Record<PropertyKey, unknown> & { name?: string }>;
  const integration = integrations.find((i) => i?.name === 'astro-comfyui');
  if (!integration) {
    throw new AstroComfyUIError(
      'INVALID_OPTIONS',
      `${path.basename(configFile)} does not use the astro-comfyui integration.`,
      'Add comfyui() to integrations in astro.config (see the README).',
    );
  }
  const projectRoot = config.root ? (config.root instanceof URL ? fileURLToPath(config.root) : path.resolve(root, String(config.root))) : root;
  // Astro resolves publicDir and srcDir against the project root, as it does root against the config's folder.
  const folder = (value: string | URL | undefined, fallback: string) =>
    value instanceof URL ? fileURLToPath(value) : path.resolve(projectRoot, String(value ?? fallback));
  const [publicDir, srcDir] = [folder(config.publicDir, 'public'), folder(config.srcDir, 'src')];
  // The commands act as a build does, so they read the .env files of Astro's production mode.
  const withEnvFiles = await loadComfyUIEnv(projectRoot, config.vite?.envDir ?? projectRoot, 'production', env);
  return resolveOptions(integration[USER_OPTIONS] as UserOptions, projectRoot, withEnvFiles, publicDir, srcDir);
}
