import { realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '@astro-comfyui/comfyui';
import { findGitIgnored, type GitIgnored } from './find-git-ignored.js';
import { gitPath } from './git-path.js';
import { isInside } from './is-inside.js';
import { isCI, type ResolvedOptions } from './options.js';
import type { ResolvedImage } from './resolve-image.js';

/** Folders already checked in this process: dev makes images in many small runs. */
const checkedIgnored = new Set<string>();

/**
 * The images are meant to be committed: a .gitignore rule that leaves them out (`generated/`, `*.png`)
 * would only show in CI, as missing images. Said once, where an author makes them (a CI machine with a
 * GPU commits nothing). `made` is an image this run generated, asked about with the manifest.
 */
export async function warnIfGitIgnores(made: ResolvedImage | undefined, options: ResolvedOptions, logger: Logger): Promise<void> {
  if (options.mode === 'frozen' || isCI(process.env) || checkedIgnored.has(options.outDir)) return;
  checkedIgnored.add(options.outDir);
  const files = [options.manifestFile, ...(made ? [path.join(options.outDir, made.fileName)] : [])].map((file) => gitPath(options.root, file));
  const ignored = await findGitIgnored(files, options.root);
  if (ignored.length === 0) return;
  // git names the rules' files by their real paths: so are the project's folders here.
  const root = await realpath(options.root).catch(() => options.root);
  const outDir = path.join(root, path.relative(options.root, options.outDir));
  const why = 'meant to be committed, and without them a build elsewhere (CI) fails or shows placeholders.';

  // A "!" line cannot take back a file whose folder git leaves out (.tmp/, src/assets/): only the rule can change.
  const { repository } = ignored[0]!;
  const folders: string[] = [];
  for (let dir = path.dirname(outDir); dir !== repository && isInside(dir, repository); dir = path.dirname(dir)) {
    folders.unshift(`${gitPath(root, dir)}/`);
  }
  const [holder] = folders.length > 0 ? await findGitIgnored(folders, root) : [];
  if (holder) {
    // A folder above the project is named whole: "../" would say little.
    const folder = holder.file === './' || holder.file.startsWith('../') ? `${path.resolve(root, holder.file)}/` : holder.file;
    logger.warn(
      `Git ignores ${ignored.map((i) => i.file).join(' and ')}: they are in ${folder}, a folder git leaves out (${describeRule(holder, root)}). The images and images.lock.json are ${why} A "!" line cannot take back a file in a folder that git leaves out: change that rule, or set outDir to a folder that git keeps.`,
    );
    return;
  }
  // A .gitignore's patterns are relative to its folder; those of .git/info/exclude and the global file, to the top.
  const rule = ignored[0]!;
  const folder = gitPath(path.basename(rule.source) === '.gitignore' ? path.dirname(rule.source) : repository, outDir);
  logger.warn(
    `Git ignores ${ignored.map((i) => `${i.file} (${describeRule(i, root)})`).join(' and ')}: the images and images.lock.json are ${why} Remove that rule, or add these two lines below it: !${folder}/ and !${folder}/**`,
  );
}

/** `.gitignore:3: generated/`, its file named from the project root (`../../.gitignore` in a monorepo). */
function describeRule(rule: GitIgnored, root: string): string {
  const file = isInside(rule.source, rule.repository) ? gitPath(root, rule.source) : rule.source;
  return `${file}:${rule.line}: ${rule.pattern}`;
}
