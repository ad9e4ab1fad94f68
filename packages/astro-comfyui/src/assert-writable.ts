import { constants } from 'node:fs';
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { AstroComfyUIError } from './astro-comfyui-error.js';
import { cacheDirectory } from './cache-directory.js';
import type { ResolvedOptions } from './options.js';

/** Checks that the images folder, the manifest and the cache folder can be written, naming the one that cannot. */
export async function assertWritable(options: ResolvedOptions): Promise<void> {
  const targets: Array<[string, string]> = [
    [options.outDir, 'the generated images folder'],
    [cacheDirectory(options), 'the astro-comfyui cache folder'],
  ];
  for (const [dir, what] of targets) {
    const probe = path.join(dir, `.astro-comfyui-write-check-${process.pid}`);
    try {
      await mkdir(dir, { recursive: true });
      await writeFile(probe, '');
      await rm(probe);
    } catch (error) {
      throw new AstroComfyUIError(
        'NOT_WRITABLE',
        `Cannot write to ${what} ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); nothing was generated.`,
        `Make ${path.relative(options.root, dir) || dir} writable (check its permissions and the disk), or set outDir in the astro-comfyui options.`,
        { cause: error },
      );
    }
  }
  await access(options.manifestFile, constants.W_OK).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return;
    throw new AstroComfyUIError(
      'NOT_WRITABLE',
      `Cannot write the image manifest ${options.manifestFile} (${error.code}); nothing was generated.`,
      'Make the file writable (check its permissions).',
      { cause: error },
    );
  });
}
