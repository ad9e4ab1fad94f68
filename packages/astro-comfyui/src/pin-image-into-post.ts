import { readFile, realpath, stat } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { AstroComfyUIError } from './astro-comfyui-error.js';
import type { ImagePromptObject } from './frontmatter-schema.js';
import { readFrontmatter, type Frontmatter } from './read-frontmatter.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** A prompt as written into a post: the frontmatter's fields, with the seed that made the image. */
export type PinnedPrompt = Omit<ImagePromptObject, 'regenerate' | 'seed'> & { seed: number };

/**
 * Writes `<field>: { prompt, style, format, seed, … }` into a post's frontmatter (YAML or TOML). Only
 * the lines of that one top-level field change (or one line is added); every other byte of the file
 * stays as it was, and a symlinked post is written through the link with its file mode kept.
 */
export async function pinImageIntoPost(file: string, field: string, pinned: PinnedPrompt): Promise<void> {
  const target = await realpath(file);
  const [text, { mode }] = await Promise.all([readFile(target, 'utf8'), stat(target)]);
  let next: string;
  try {
    next = rewriteFrontmatterField(text, field, pinned);
  } catch (error) {
    throw new AstroComfyUIError(
      'PIN_REFUSED',
      `${file} was left unchanged: ${(error as Error).message}`,
      `Write the ${field} field by hand: ${field}: ${formatYaml(pinned)}`,
      { cause: error },
    );
  }
  await writeFileAtomic(target, next, { mode: mode & 0o7777 });
}

/**
 * The post's text with `field` set to `pinned`. The result is parsed back with Astro's own parser and
 * refused (an Error saying why) unless the field reads as `pinned` and every other key is unchanged.
 */
export function rewriteFrontmatterField(text: string, field: string, pinned: PinnedPrompt): string {
  const before = readFrontmatter(text);
  let next: string;
  if (before.format === null) {
    if (/^\uFEFF?\s*(---|\+\+\+)/.test(text)) throw new Error('its frontmatter has no closing fence line, so Astro reads none; close it first');
    const newline = text.includes('\r\n') ? '\r\n' : '\n';
    const bom = text.startsWith('\uFEFF') ? '\uFEFF' : '';
    next = `${bom}---${newline}${field}: ${formatYaml(pinned)}${newline}---${newline}${text.slice(bom.length)}`;
  } else {
    const { start, end } = before.inner!;
    const inner = text.slice(start, end);
    const replaced = before.format === 'yaml' ? replaceYamlField(inner, field, formatYaml(pinned)) : replaceTomlField(inner, field, formatToml(pinned));
    next = `${text.slice(0, start)}${replaced}${text.slice(end)}`;
  }
  assertOnlyFieldChanged(before, next, field, pinned);
  return next;
}

function replaceYamlField(inner: string, field: string, value: string): string {
  const lines = inner.split(/(?<=\n)/);
  const key = new RegExp(`^(?:${escapeRegExp(field)}|"${escapeRegExp(field)}"|'${escapeRegExp(field)}')[ \\t]*:(?=[ \\t\\r\\n]|$)`);
  // lines[0] is the rest of the opening fence's line; keys start on the next one.
  const at = lines.findIndex((line, i) => i > 0 && key.test(line));
  const newline = inner.includes('\r\n') ? '\r\n' : '\n';
  if (at === -1) return `${inner}${field}: ${value}${newline}`;
  // The value runs over the following indented, blank or top-level "- " lines (a block sequence).
  let end = at + 1;
  while (end < lines.length && /^([ \t]+\S|[ \t]*\r?\n$|-([ \t]|\r?\n$))/.test(lines[end]!)) end++;
  while (end > at + 1 && /^[ \t]*\r?\n$/.test(lines[end - 1]!)) end--;
  const ending = lines[end - 1]!.match(/\r?\n$/)?.[0] ?? newline;
  const keyText = key.exec(lines[at]!)![0];
  return [...lines.slice(0, at), `${keyText} ${value}${ending}`, ...lines.slice(end)].join('');
}

function replaceTomlField(inner: string, field: string, value: string): string {
  const lines = inner.split(/(?<=\n)/);
  const newline = inner.includes('\r\n') ? '\r\n' : '\n';
  const name = `(?:${escapeRegExp(field)}|"${escapeRegExp(field)}"|'${escapeRegExp(field)}')`;
  const tableStart = lines.findIndex((line, i) => i > 0 && /^[ \t]*\[/.test(line));
  if (lines.some((line) => new RegExp(`^[ \\t]*\\[\\[?[ \\t]*${name}[ \\t]*[.\\]]`).test(line))) {
    throw new Error(`"${field}" is a TOML table ([${field}]); only a one-line "${field} = { … }" can be rewritten`);
  }
  const topLevel = tableStart === -1 ? lines.length : tableStart;
  const key = new RegExp(`^[ \\t]*${name}[ \\t]*=`);
  const at = lines.findIndex((line, i) => i > 0 && i < topLevel && key.test(line));
  const line = `${field} = ${value}`;
  if (at !== -1) {
    const ending = lines[at]!.match(/\r?\n$/)?.[0] ?? '';
    return [...lines.slice(0, at), `${line}${ending}`, ...lines.slice(at + 1)].join('');
  }
  // Top-level keys must come before the first [table]; otherwise the key would land inside it.
  const head = lines.slice(0, topLevel).join('');
  const needsNewline = !head.endsWith('\n');
  return `${head}${needsNewline ? newline : ''}${line}${newline}${lines.slice(topLevel).join('')}`;
}

function assertOnlyFieldChanged(before: Frontmatter, next: string, field: string, pinned: PinnedPrompt): void {
  let after: Frontmatter;
  try {
    after = readFrontmatter(next);
  } catch (error) {
    throw new Error(
      `rewriting "${field}" would make the frontmatter invalid (${(error as Error).message}); it may use anchors, aliases or multi-line values there`,
    );
  }
  const expected = Object.fromEntries(Object.entries(pinned).filter(([, v]) => v !== undefined && v !== ''));
  if (!sameData(after.data[field], expected)) {
    throw new Error(`"${field}" would not read back as the pinned prompt`);
  }
  const keys = new Set([...Object.keys(before.data), ...Object.keys(after.data)]);
  keys.delete(field);
  for (const key of keys) {
    if (!sameData(before.data[key], after.data[key])) {
      throw new Error(`rewriting "${field}" would also change "${key}" (an anchor, alias or multi-line value shares its lines)`);
    }
  }
}

/** Equal as data: TOML tables have no prototype and YAML dates are Date objects, so compare their JSON. */
function sameData(a: unknown, b: unknown): boolean {
  return isDeepStrictEqual(JSON.parse(JSON.stringify(a ?? null)), JSON.parse(JSON.stringify(b ?? null)));
}

/** Fields in a stable order, empty ones left out. */
function pinnedFields(p: PinnedPrompt): Array<[string, string | number]> {
  const order: Array<keyof PinnedPrompt> = ['prompt', 'negative', 'preset', 'style', 'format', 'seed', 'alt'];
  return order.filter((k) => p[k] !== undefined && p[k] !== '').map((k) => [k, p[k]!]);
}

/** A YAML flow mapping; JSON strings are valid YAML double-quoted scalars, so any prompt text is safe. */
function formatYaml(p: PinnedPrompt): string {
  return `{ ${pinnedFields(p)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join(', ')} }`;
}

/** A TOML inline table; a JSON string is a TOML basic string once DEL (which TOML forbids raw) is escaped. */
function formatToml(p: PinnedPrompt): string {
  return `{ ${pinnedFields(p)
    .map(([k, v]) => `${k} = ${JSON.stringify(v).replace(/\x7f/g, '\\u007F')}`)
    .join(', ')} }`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
