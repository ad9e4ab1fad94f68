#!/usr/bin/env node
// The command npm links at install time. It exists before `dist/` is built (npm links bins on `npm ci`,
// before any build), and loads the CLI from `dist/` when it runs.
import module from 'node:module';

const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  // On an older Node the CLI stops inside a dependency (undici) with a stack trace that does not say why.
  process.stderr.write(
    `error: astro-comfyui needs Node.js 22.12 or newer, as Astro 7 does; this is Node.js ${process.versions.node}.\nhint: install Node.js 22 or newer (e.g. \`nvm install 22\`) and run it again.\n`,
  );
  process.exitCode = 1;
} else {
  // As Astro's own command does: a run after the first loads its modules from V8's cache of compiled
  // code instead of compiling them again. Not in CI, where a cache is written and never read again.
  // (A cache that cannot be written is reported in the returned status, never thrown.) Deno's node:module
  // has no compile cache: the CLI then runs without one.
  if (!process.env.CI) module.enableCompileCache?.();
  try {
    await import('../dist/cli/main.js');
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('/dist/cli/main.js')) throw error;
    process.stderr.write('error: astro-comfyui is not built yet.\nhint: run `npm run build` in the astro-comfyui repository first.\n');
    process.exitCode = 1;
  }
}
