import path from 'node:path';
import type { ResolvedOptions } from './options.js';

/** Per-project working files (locks, scan cache, toolbar candidates): out of git, shared by every build. */
export function cacheDirectory(options: Pick<ResolvedOptions, 'root'>): string {
  return path.join(options.root, 'node_modules', '.cache', 'astro-comfyui');
}
