#!/usr/bin/env node
// The command npm links at install time. It exists before `dist/` is built (npm links bins on `npm ci`,
// before any build), and loads the CLI from `dist/` when it runs.
try {
  await import('../dist/cli/main.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('/dist/cli/main.js')) throw error;
  process.stderr.write('error: astro-comfyui is not built yet.\nhint: run `npm run build` in the astro-comfyui repository first.\n');
  process.exitCode = 1;
}
