import { access } from 'node:fs/promises';
import path from 'node:path';
import { acquireLock } from './acquire-lock.js';
import { AstroComfyUIError } from './astro-comfyui-error.js';
import { canonicalJson } from './canonical-json.js';
import {
  findEntryProblems,
  hasConflictMarkers,
  MANIFEST_VERSION,
  parseManifestText,
  readManifest,
  readManifestText,
  writeManifestFile,
  type Manifest,
  type ManifestEntry,
} from './manifest.js';
import { readPngEntry } from './png-entry.js';
import { PNG_HEAD_BYTES, readHead } from './read-head.js';

/**
 * An image both sides of a merge made under the same name (a setting changed on both branches, the same
 * post on two machines): git cannot merge two PNGs, so it leaves one side's file in place and the path
 * conflicted. The merged manifest describes the file in place. `placeholder`: that file is a placeholder;
 * `otherSide`: git's name for the side whose file was not kept (`theirs` after a merge, when `ours` is in
 * place), and `otherIsReal` when that file is a real image.
 */
export interface ImageMadeOnBothSides {
  file: string;
  placeholder: boolean;
  otherSide: 'ours' | 'theirs';
  otherIsReal: boolean;
}

/** What merging a conflicted manifest found; undefined when the manifest had no conflict. */
export interface MergedConflict {
  madeOnBothSides: ImageMadeOnBothSides[];
}

/**
 * Reads the manifest, merging it first when git left it conflicted and `merge` allows (`onMerged` is
 * then told); otherwise a conflicted manifest fails with readManifest's explanation of how to fix it.
 * The merge runs only when reading found the conflict, so a normal build reads the manifest once.
 */
export async function readManifestMergingConflict(
  file: string,
  lockDir: string,
  { merge, onMerged }: { merge: boolean; onMerged: (merged: MergedConflict) => void },
): Promise<Manifest> {
  try {
    return await readManifest(file);
  } catch (error) {
    if (!merge || !(error instanceof AstroComfyUIError) || error.code !== 'MANIFEST_CONFLICT') throw error;
  }
  const merged = await mergeManifestConflict(file, lockDir);
  if (merged) onMerged(merged);
  return readManifest(file);
}

/**
 * Resolves git conflict markers in the manifest the way npm resolves a conflicted package-lock.json:
 * both sides are read (each is a valid manifest), their entries (keyed by hash) are merged, and the
 * merged file is written. Resolves what it found when it merged something, undefined otherwise. Never used in
 * frozen mode (CI), where readManifest explains how to fix the file instead.
 */
export async function mergeManifestConflict(file: string, lockDir: string): Promise<MergedConflict | undefined> {
  const release = await acquireLock(path.join(lockDir, 'manifest.lock'), { what: 'The image manifest' });
  try {
    const text = (await readManifestText(file)) ?? '';
    if (!hasConflictMarkers(text)) return undefined;
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
    const madeOnBothSides: ImageMadeOnBothSides[] = [];
    for (const [key, entry] of Object.entries(theirs!.images)) {
      const mine = images[key];
      if (!mine) {
        images[key] = entry;
        continue;
      }
      const kept = mine.file === entry.file && !sameEntry(mine, entry) ? await keptSide(key, mine, entry, folder) : undefined;
      const picked = kept ? kept.entry : await pickEntry(mine, entry, folder);
      images[key] = { ...picked, posts: [...new Set([...mine.posts, ...entry.posts])].sort() };
      if (kept) madeOnBothSides.push({ file: entry.file, placeholder: kept.entry.placeholder, otherSide: kept.otherSide, otherIsReal: kept.otherIsReal });
    }
    await writeManifestFile(file, { version: MANIFEST_VERSION, images });
    return { madeOnBothSides };
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

/** Two entries of one key that describe the same file (the posts that use it may differ). */
function sameEntry(a: ManifestEntry, b: ManifestEntry): boolean {
  return canonicalJson({ ...a, posts: [] }) === canonicalJson({ ...b, posts: [] });
}

/**
 * Both sides wrote the image under the same name, so its file now holds one side's bytes (git leaves
 * ours of a binary add/add conflict in place, or the author took a side). The entry that file carries says
 * which: that side's entry is kept, so the manifest never calls a placeholder in place a real image, or
 * the other way round. Undefined when the file is gone or carries neither side's entry.
 */
async function keptSide(key: string, ours: ManifestEntry, theirs: ManifestEntry, folder: string) {
  const head = await readHead(path.join(folder, ours.file), PNG_HEAD_BYTES);
  const carried = head && readPngEntry(head);
  if (!carried || carried.key !== key) return undefined;
  const entry = { ...carried.entry, file: ours.file, posts: [] } as unknown as ManifestEntry;
  if (findEntryProblems(key, entry).length > 0) return undefined;
  const [kept, other, otherSide] = sameEntry(entry, ours) ? [ours, theirs, 'theirs' as const] : sameEntry(entry, theirs) ? [theirs, ours, 'ours' as const] : [];
  if (!kept || !other || !otherSide) return undefined;
  return { entry: kept, otherSide, otherIsReal: !other.placeholder };
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
  return first === -1 || sa[first]! > sb[first]! ? a : b;
}
