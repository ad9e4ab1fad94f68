import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { acquireLock } from './acquire-lock.js';
import { AstroComfyUIError } from './astro-comfyui-error.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** One committed image: what made it, so a build without a GPU can trust it. */
export interface ManifestEntry {
  file: string;
  /** Posts (root-relative) that used this image when it was recorded. */
  posts: string[];
  prompt: string;
  negative: string;
  seed: number;
  width: number;
  height: number;
  workflow: string;
  model: Record<string, unknown>;
  comfyuiVersion: string | null;
  created: string;
  durationMs: number;
  /** A stand-in made without ComfyUI; replaced as soon as a real generation is possible. */
  placeholder: boolean;
}

export interface Manifest {
  version: 1;
  images: Record<string, ManifestEntry>;
}

/** The manifest is a lockfile for images: missing means empty; unreadable is an error, never silently reset. */
export async function readManifest(file: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, images: {} };
    throw error;
  }
  let parsed: Manifest;
  try {
    parsed = JSON.parse(text) as Manifest;
  } catch (cause) {
    throw new AstroComfyUIError('MANIFEST_CORRUPT', `The image manifest ${file} is not valid JSON (${(cause as Error).message}).`, 'Restore it from git (git checkout -- <file>); after a merge conflict keep both sides\' entries.', { cause });
  }
  if (parsed?.version !== 1 || typeof parsed.images !== 'object' || parsed.images === null) {
    throw new AstroComfyUIError('MANIFEST_CORRUPT', `The image manifest ${file} has an unknown format.`, 'Restore it from git, or upgrade astro-comfyui if it was written by a newer version.');
  }
  return parsed;
}

/**
 * Read-modify-write under a lock, so concurrent builds merge their entries instead of overwriting each
 * other; written atomically with sorted keys so the file diffs well.
 */
export async function updateManifest(file: string, lockDir: string, mutate: (manifest: Manifest) => void): Promise<Manifest> {
  const release = await acquireLock(path.join(lockDir, 'manifest.lock'));
  try {
    const manifest = await readManifest(file);
    mutate(manifest);
    const sorted: Manifest = { version: 1, images: Object.fromEntries(Object.entries(manifest.images).sort(([a], [b]) => a.localeCompare(b))) };
    await writeFileAtomic(file, `${JSON.stringify(sorted, null, 2)}\n`);
    return sorted;
  } finally {
    await release();
  }
}
