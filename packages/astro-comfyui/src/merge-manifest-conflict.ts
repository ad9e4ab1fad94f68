import { access } from 'node:fs/promises';
import path from 'node:path';
import { acquireLock } from './acquire-lock.js';
import { AstroComfyUIError } from './astro-comfyui-error.js';
import {
  hasConflictMarkers,
  MANIFEST_VERSION,
  parseManifestText,
  readManifest,
  readManifestText,
  writeManifestFile,
  type Manifest,
  type ManifestEntry,
} from './manifest.js';

/**
 * Reads the manifest, merging it first when git left it conflicted and `merge` allows (`onMerged` is
 * then told); otherwise a conflicted manifest fails with readManifest's explanation of how to fix it.
 * The merge runs only when reading found the conflict, so a normal build reads the manifest once.
 */
export async function readManifestMergingConflict(
  file: string,
  lockDir: string,
  { merge, onMerged }: { merge: boolean; onMerged: () => void },
): Promise<Manifest> {
  try {
    return await readManifest(file);
  } catch (error) {
    if (!merge || !(error instanceof AstroComfyUIError) || error.code !== 'MANIFEST_CONFLICT') throw error;
  }
  if (await mergeManifestConflict(file, lockDir)) onMerged();
  return readManifest(file);
}

/**
 * Resolves git conflict markers in the manifest the way npm resolves a conflicted package-lock.json:
 * both sides are read (each is a valid manifest), their entries (keyed by hash) are merged, and the
 * merged file is written. Resolves true when it merged something. Never used in frozen mode (CI),
 * where readManifest explains how to fix the file instead.
 */
export async function mergeManifestConflict(file: string, lockDir: string): Promise<boolean> {
  const release = await acquireLock(path.join(lockDir, 'manifest.lock'), { what: 'The image manifest' });
  try {
    const text = (await readManifestText(file)) ?? '';
    if (!hasConflictMarkers(text)) return false;
    const [ours, theirs] = splitConflict(text).map((side, i) => {
      try {
        try {
          return parseManifestText(side, file);
        } catch {
          return parseManifestText(repairJoins(side), file);
        }
      } catch (error) {
        throw new AstroComfyUIError(
          'MANIFEST_CORRUPT',
          `${file} has git conflict markers, and ${i === 0 ? 'our' : 'their'} side is not a valid manifest either (${(error as Error).message}).`,
          'Resolve the conflict by hand (keep every entry of both sides), or take one side with git checkout --ours/--theirs: images of the other side are re-adopted from their files.',
          { cause: error },
        );
      }
    });
    const images: Record<string, ManifestEntry> = { ...ours!.images };
    const folder = path.dirname(file);
    for (const [key, entry] of Object.entries(theirs!.images)) {
      const mine = images[key];
      images[key] = mine ? await pickEntry(mine, entry, folder) : entry;
    }
    await writeManifestFile(file, { version: MANIFEST_VERSION, images });
    return true;
  } finally {
    await release();
  }
}

/** Our side and their side of a conflicted file (diff3's base section is dropped). */
function splitConflict(text: string): [string, string] {
  const ours: string[] = [];
  const theirs: string[] = [];
  let section: 'both' | 'ours' | 'base' | 'theirs' = 'both';
  for (const line of text.split(/(?<=\n)/)) {
    if (line.startsWith('<<<<<<<')) section = 'ours';
    else if (line.startsWith('|||||||') && section === 'ours') section = 'base';
    else if (line.startsWith('=======') && section !== 'both') section = 'theirs';
    else if (line.startsWith('>>>>>>>') && section === 'theirs') section = 'both';
    else {
      if (section === 'both' || section === 'ours') ours.push(line);
      if (section === 'both' || section === 'theirs') theirs.push(line);
    }
  }
  return [ours.join(''), theirs.join('')];
}

/**
 * Git's merge of the hunks around a conflict can leave a comma missing between two entries or one
 * too many before a closing brace; both are the only damage a merge of sorted JSON, one image per line, does.
 * Each join it repairs spans a line break, which no JSON string holds: a prompt reading "{ok, }" is text.
 */
function repairJoins(text: string): string {
  return text.replace(/,(\s*\n\s*[}\]])/g, '$1').replace(/}(\s*\n\s*")/g, '},$1');
}

/** The same image on both sides: a real image beats a placeholder, an existing file a missing one, newer beats older. */
async function pickEntry(a: ManifestEntry, b: ManifestEntry, folder: string): Promise<ManifestEntry> {
  const exists = (e: ManifestEntry) =>
    access(path.join(folder, e.file)).then(
      () => true,
      () => false,
    );
  const score = async (e: ManifestEntry) => [e.placeholder ? 0 : 1, (await exists(e)) ? 1 : 0, Date.parse(e.created) || 0];
  const [sa, sb] = [await score(a), await score(b)];
  const first = sa.findIndex((value, i) => value !== sb[i]);
  const winner = first === -1 || sa[first]! > sb[first]! ? a : b;
  return { ...winner, posts: [...new Set([...a.posts, ...b.posts])].sort() };
}
