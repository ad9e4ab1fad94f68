import { hash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'astro/zod';
import { acquireLock } from './acquire-lock.js';
import { AstroComfyUIError } from './astro-comfyui-error.js';
import { canonicalJson } from './canonical-json.js';
import { isPlainFileName } from './plain-file-name.js';
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
  /** The id of the disclosure mark burnt into the file (see stamp-mark.ts); absent when it has none. */
  mark?: string;
}

/**
 * The layout written: version 2 lists each model setup once under "models" (images name it by id) and
 * puts each image on one line. Version 1 (every image pretty-printed with its model inline) is still read,
 * and rewritten as version 2 on the next change. In memory both are the same: every entry has its model.
 */
export const MANIFEST_VERSION = 2;

export interface Manifest {
  version: typeof MANIFEST_VERSION;
  images: Record<string, ManifestEntry>;
}

const entrySchema = z
  .object({
    file: z
      .string()
      .refine(isPlainFileName, 'must be a plain file name inside the images folder (no "/", "\\" or "..")')
      .refine((f) => f.endsWith('.png'), 'must name a .png file'),
    posts: z.array(z.string().max(4096)).max(10_000),
    prompt: z.string(),
    negative: z.string(),
    seed: z.number().int().min(0),
    width: z.number().int().positive(),
    height: z.number().int().positive(),
    workflow: z.string(),
    model: z.record(z.string(), z.unknown()),
    comfyuiVersion: z.string().nullable(),
    created: z.string(),
    durationMs: z.number().min(0),
    placeholder: z.boolean(),
    mark: z
      .string()
      .regex(/^[0-9a-f]{16}$/)
      .optional(),
  })
  .passthrough();

/**
 * Checks every entry of a parsed manifest: it is hand-editable and merged by git, so it is input like
 * any other. An entry's file must be a plain name that carries its own key, so no entry can point
 * outside the images folder or at another image.
 */
function validateManifest(parsed: unknown, file: string): Manifest {
  const raw = parsed as { version?: unknown; models?: unknown; images?: unknown };
  if (!isRecord(raw) || (raw.version !== 1 && raw.version !== 2) || !isRecord(raw.images)) {
    throw new AstroComfyUIError(
      'MANIFEST_CORRUPT',
      `The image manifest ${file} has an unknown format.`,
      'Restore it from git, or upgrade astro-comfyui if it was written by a newer version.',
    );
  }
  let models: Record<string, unknown> | undefined;
  if (raw.version === 2) {
    if (!isRecord(raw.models)) {
      throw new AstroComfyUIError(
        'MANIFEST_CORRUPT',
        `The image manifest ${file} has no "models" table.`,
        'Restore the file from git (git checkout -- <file>); its images are re-adopted from their files on the next build.',
      );
    }
    models = raw.models;
  }
  for (const [key, entry] of Object.entries(raw.images)) {
    // Version 2 names the model setup: every entry of one setup gets the same object back.
    if (models && isRecord(entry) && typeof entry.model === 'string') {
      const model = Object.hasOwn(models, entry.model) ? models[entry.model] : undefined;
      if (!isRecord(model)) {
        throw new AstroComfyUIError(
          'MANIFEST_CORRUPT',
          `The image manifest ${file} has an invalid entry "${key.slice(0, 80)}": "model" names "${entry.model.slice(0, 80)}", which its "models" table does not define.`,
          'Restore the file from git (git checkout -- <file>) or delete that entry; the image is then generated or re-adopted on the next build.',
        );
      }
      entry.model = model;
    }
    // The plain check passes nearly always; the schema runs only to say what is wrong with an entry.
    if (isValidEntry(key, entry)) continue;
    const problems = findEntryProblems(key, entry);
    if (problems.length > 0) {
      throw new AstroComfyUIError(
        'MANIFEST_CORRUPT',
        `The image manifest ${file} has an invalid entry "${key.slice(0, 80)}": ${problems.join('; ')}.`,
        'Restore the file from git (git checkout -- <file>) or delete that entry; the image is then generated or re-adopted on the next build.',
      );
    }
  }
  return { version: MANIFEST_VERSION, images: raw.images as Record<string, ManifestEntry> };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isString = (v: unknown): v is string => typeof v === 'string';
const isWhole = (v: unknown, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min;

/**
 * The same rules as `entrySchema` plus the key checks, as plain code: a manifest of 50,000 entries is
 * checked on every build, and this is many times faster than the schema. findEntryProblems agrees.
 */
function isValidEntry(key: string, e: unknown): boolean {
  if (key.length !== 64 || !/^[0-9a-f]{64}$/.test(key) || !isRecord(e)) return false;
  return (
    isPlainFileName(e.file) &&
    e.file.endsWith(`-${key.slice(0, 12)}.png`) &&
    Array.isArray(e.posts) &&
    e.posts.length <= 10_000 &&
    e.posts.every((post) => isString(post) && post.length <= 4096) &&
    isString(e.prompt) &&
    isString(e.negative) &&
    isWhole(e.seed, 0) &&
    isWhole(e.width, 1) &&
    isWhole(e.height, 1) &&
    isString(e.workflow) &&
    isRecord(e.model) &&
    (e.comfyuiVersion === null || isString(e.comfyuiVersion)) &&
    isString(e.created) &&
    typeof e.durationMs === 'number' &&
    Number.isFinite(e.durationMs) &&
    e.durationMs >= 0 &&
    typeof e.placeholder === 'boolean'
  );
}

/** What is wrong with one entry (empty when nothing): its shape, and a file name that carries its key. */
export function findEntryProblems(key: string, entry: unknown): string[] {
  const problems: string[] = [];
  if (!/^[0-9a-f]{64}$/.test(key)) problems.push('the key is not a sha256 hash');
  const result = entrySchema.safeParse(entry);
  if (!result.success) problems.push(...result.error.issues.map((i) => `"${i.path.join('.') || 'entry'}" ${i.message}`));
  else if (!result.data.file.endsWith(`-${key.slice(0, 12)}.png`)) problems.push(`"file" must end with "-${key.slice(0, 12)}.png", the start of its key`);
  return problems;
}

/** True when git left merge conflict markers in the text. */
export function hasConflictMarkers(text: string): boolean {
  return /^<{7}(?: |$)/m.test(text) && /^>{7}(?: |$)/m.test(text);
}

/** Parses and validates a manifest's text; `file` is for messages. */
export function parseManifestText(text: string, file: string): Manifest {
  let parsed: unknown;
  try {
    // A byte order mark, as some Windows editors add to a hand-edited file, is not part of the JSON.
    parsed = JSON.parse(text.startsWith('\uFEFF') ? text.slice(1) : text);
  } catch (cause) {
    throw new AstroComfyUIError(
      'MANIFEST_CORRUPT',
      `The image manifest ${file} is not valid JSON (${(cause as Error).message}).`,
      'Restore it from git (git checkout -- <file>); its images are re-adopted from their files on the next build.',
      { cause },
    );
  }
  return validateManifest(parsed, file);
}

/** The manifest is a lockfile for images: missing means empty; unreadable is an error, never silently reset. */
export async function readManifest(file: string): Promise<Manifest> {
  const text = await readManifestText(file);
  // No file, or no folder for it yet: no image was committed.
  if (text === undefined) return { version: MANIFEST_VERSION, images: {} };
  try {
    return parseManifestText(text, file);
  } catch (error) {
    // Conflict markers always make the file invalid JSON: look for them only then, not in every read
    // of a large manifest.
    if (!hasConflictMarkers(text)) throw error;
    throw new AstroComfyUIError(
      'MANIFEST_CONFLICT',
      `The image manifest ${file} has unresolved git merge conflicts.`,
      "Run `astro build`, `astro dev` or `npx astro-comfyui generate` outside CI: it merges both sides by itself (entries are keyed by hash). Then commit the file. Taking one side with git checkout --ours/--theirs also works: the other side's images are re-adopted from their files.",
    );
  }
}

/** ~400 bytes an image: room for 600,000 images. A larger file is no manifest astro-comfyui wrote. */
const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

/**
 * The manifest's text, or undefined when there is none. Its size is checked before it is read: a
 * committed file may be anything, and one too large for a string would fail with Node's own error.
 */
export async function readManifestText(file: string): Promise<string | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size > MAX_MANIFEST_BYTES) {
      throw new AstroComfyUIError(
        'MANIFEST_CORRUPT',
        `The image manifest ${file} is ${Math.round(size / 1024 / 1024)} MiB, more than any astro-comfyui writes (${MAX_MANIFEST_BYTES / 1024 / 1024} MiB at most, about 600,000 images).`,
        'Restore it from git (git checkout -- <file>); its images are re-adopted from their files on the next build.',
      );
    }
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** Writes the manifest atomically with sorted keys, so it diffs well and is never seen half-written. */
export async function writeManifestFile(file: string, manifest: Manifest): Promise<Manifest> {
  const sorted: Manifest = { version: MANIFEST_VERSION, images: Object.fromEntries(Object.entries(manifest.images).sort(byKey)) };
  await writeFileAtomic(file, manifestText(sorted));
  return sorted;
}

/**
 * The version 2 text: model setups once, then one line per image, in the order given. One line per
 * image keeps a diff (and a merge conflict) to the images that changed, and the file a fraction of
 * version 1's size, which is most of what a build of a large site spends reading it.
 */
export function manifestText(manifest: Manifest): string {
  const idOf = new Map<Record<string, unknown>, string>();
  const idOfJson = new Map<string, string>();
  const models = new Map<string, string>();
  const lines: string[] = [];
  for (const [key, entry] of Object.entries(manifest.images)) {
    let id = idOf.get(entry.model);
    if (id === undefined) {
      const json = canonicalJson(entry.model);
      id = idOfJson.get(json);
      if (id === undefined) {
        id = modelId(entry.model, json);
        // Two setups whose short ids collide keep apart by the whole hash.
        if (models.has(id)) id = sha256Hex(json);
        models.set(id, json);
        idOfJson.set(json, id);
      }
      idOf.set(entry.model, id);
    }
    lines.push(`    ${JSON.stringify(key)}: ${JSON.stringify({ ...entry, model: id })}`);
  }
  const table = [...models].sort(byKey).map(([id, json]) => `    ${JSON.stringify(id)}: ${json}`);
  const block = (rows: string[]) => (rows.length === 0 ? '{}' : `{\n${rows.join(',\n')}\n  }`);
  return `{\n  "version": ${MANIFEST_VERSION},\n  "models": ${block(table)},\n  "images": ${block(lines)}\n}\n`;
}

/** A model setup's id: its preset name, when it has one, and the start of the hash of its canonical JSON. */
function modelId(model: Record<string, unknown>, json: string): string {
  const name = typeof model.model === 'string' && /^[a-z0-9][a-z0-9-]{0,39}$/.test(model.model) ? `${model.model}-` : '';
  return `${name}${sha256Hex(json).slice(0, 12)}`;
}

const sha256Hex = (text: string) => hash('sha256', text, 'hex');

/** Keys are hex hashes and ids: plain code-unit order is stable and far cheaper than localeCompare. */
const byKey = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Read-modify-write under a lock, so concurrent builds merge their entries instead of overwriting each
 * other; written atomically with sorted keys so the file diffs well.
 */
export async function updateManifest(
  file: string,
  lockDir: string,
  mutate: (manifest: Manifest) => void,
  onWait?: (message: string) => void,
): Promise<Manifest> {
  const release = await acquireLock(path.join(lockDir, 'manifest.lock'), { what: 'The image manifest', ...(onWait ? { onWait } : {}) });
  try {
    const manifest = await readManifest(file);
    mutate(manifest);
    return await writeManifestFile(file, manifest);
  } finally {
    await release();
  }
}
