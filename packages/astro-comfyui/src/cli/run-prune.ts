import { rm } from 'node:fs/promises';
import path from 'node:path';
import { assertNoProblems, collectPostImages, loadTemplate } from '../collect-post-images.js';
import { adoptImages } from '../adopt-images.js';
import { listImageFiles } from '../classify-images.js';
import { AstroComfyUIError } from '../astro-comfyui-error.js';
import { explainNoPrompts, findOrphans, madeHere } from '../find-orphans.js';
import { updateManifest } from '../manifest.js';
import type { ResolvedOptions } from '../options.js';
import { readCommittedManifest } from '../read-committed-manifest.js';
import { cacheDirectory } from '../cache-directory.js';

/** `astro-comfyui prune`: removes images no post uses (manifest entries and stray files). */
export async function runPrune(
  options: ResolvedOptions,
  args: { dryRun: boolean },
  out: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<number> {
  const { posts, images, problems } = await collectPostImages(options, await loadTemplate(options));
  // With a broken post we cannot tell which images it uses; refuse rather than delete its image.
  assertNoProblems(problems);
  const committed = await readCommittedManifest(options, { warn: out }, !args.dryRun);
  // Images whose entries a merge dropped are adopted first, so they are never taken for strays.
  // Listed once: adoption writes only the manifest, so the folder is the same for both.
  const listed = await listImageFiles(options.outDir);
  const { manifest } = await adoptImages(images, options, committed, { write: !args.dryRun, logger: { warn: out }, files: listed });
  const orphans = await findOrphans(images, manifest, options, listed);
  const unused = orphans.entries.length + orphans.strayFiles.length;
  if (orphans.unread.length > 0) {
    out(
      `Keeping ${orphans.unread.length} image${orphans.unread.length > 1 ? 's' : ''} of posts that are still there but outside the "content" globs (${options.content.join(', ')}); if they are posts, make "content" match them, or delete an image by hand if its post no longer needs it:`,
    );
    for (const { file, post } of orphans.unread) out(`  ${path.relative(options.root, path.join(options.outDir, file))} (${post})`);
  }
  if (unused === 0) {
    out(`Nothing to prune: every generated image is used by a post${orphans.unread.length > 0 ? ' or kept above' : ''}.`);
    return 0;
  }
  if (images.length === 0) {
    // Removing every image on the strength of finding no prompt at all would turn a moved folder or a
    // mistyped glob into a deleted images folder.
    throw new AstroComfyUIError(
      'PRUNE_REFUSED',
      explainNoPrompts(posts, unused, options),
      `Nothing was removed. To remove every generated image on purpose, delete ${path.relative(options.root, options.outDir) || '.'} yourself.`,
    );
  }
  // An entry may name a file astro-comfyui did not make for it (a hand-edited or hostile manifest, even
  // the author's own picture): the entry goes, the file stays.
  const made = new Set<string>();
  const notMade = new Set<string>();
  for (const { key, file } of orphans.entries) {
    if (listed.has(file)) ((await madeHere(path.join(options.outDir, file), key)) ? made : notMade).add(file);
  }
  for (const file of made) notMade.delete(file);
  const files = [...new Set([...made, ...orphans.strayFiles])].sort();
  const shown = (list: Iterable<string>) => {
    for (const file of [...list].sort()) out(`  ${path.relative(options.root, path.join(options.outDir, file))}`);
  };
  if (files.length > 0) {
    out(`${args.dryRun ? 'Would remove' : 'Removing'} ${files.length} unused image${files.length > 1 ? 's' : ''}:`);
    shown(files);
  }
  if (notMade.size > 0) {
    out(
      `${args.dryRun ? 'Would keep' : 'Keeping'} ${notMade.size} file${notMade.size > 1 ? 's' : ''} that unused manifest entries name but astro-comfyui did not make for them:`,
    );
    shown(notMade);
  }
  const keys = new Set(orphans.entries.map((o) => o.key));
  if (files.length === 0)
    out(`No file to delete; ${args.dryRun ? 'would remove' : 'removing'} ${keys.size} unused manifest entr${keys.size > 1 ? 'ies' : 'y'}.`);
  if (args.dryRun) return 0;
  const stillUsed = new Set(images.map((image) => image.key));
  const pruned = await updateManifest(options.manifestFile, cacheDirectory(options), (manifest) => {
    for (const key of keys) if (!stillUsed.has(key)) delete manifest.images[key];
  });
  const kept = new Set(Object.values(pruned.images).map((e) => e.file));
  for (const file of files) if (!kept.has(file)) await rm(path.join(options.outDir, file), { force: true });
  return 0;
}
