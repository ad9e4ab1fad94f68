import { isUtf8 } from 'node:buffer';
import { readFile, realpath, stat } from 'node:fs/promises';
import { isDeepStrictEqual } from 'node:util';
import { AstroComfyUIError } from './astro-comfyui-error.js';
import type { ImagePromptObject } from './frontmatter-schema.js';
import { readFrontmatter, type Frontmatter } from './read-frontmatter.js';
import { writeFileAtomic } from './write-file-atomic.js';

/** A prompt as written into a post: the frontmatter's fields, with the seed that made the image. */
export type PinnedPrompt = Omit<ImagePromptObject, 'regenerate' | 'seed'> & { seed: number };

/** Where a prompt is pinned: a top-level field (`image`), or one item of a list field (`images[1]`). */
export type PinTarget = string | { field: string; item: number };

/** The pin target of a scanned request's field name (`image`, `images[1]`), given the list field's name. */
export function pinTargetOf(fieldName: string, listField: string): PinTarget {
  const item = fieldName.startsWith(`${listField}[`) ? /^\[(\d+)\]$/.exec(fieldName.slice(listField.length)) : null;
  return item ? { field: listField, item: Number(item[1]) } : fieldName;
}

/**
 * Writes `<field>: { prompt, style, format, seed, … }` into a post's frontmatter (YAML or TOML), or
 * one item of a YAML list field. Only the lines of that field or item change (or one line is added);
 * every other byte of the file stays as it was, and a symlinked post is written through the link with
 * its file mode kept.
 */
export async function pinImageIntoPost(file: string, target: PinTarget, pinned: PinnedPrompt): Promise<void> {
  await (await preparePin(file, target, pinned)).write();
}

/**
 * Checks that the pin can be written, before anything else is changed for it (the toolbar commits the
 * image only once the post is known to accept it); `write()` then writes it, rewriting again if the post
 * changed meanwhile. Throws PIN_REFUSED, with the reason and the line to write by hand, when it cannot.
 */
export async function preparePin(file: string, target: PinTarget, pinned: PinnedPrompt): Promise<{ write(): Promise<void> }> {
  const real = await realpath(file);
  const rewrite = async () => {
    const [bytes, { mode }] = await Promise.all([readFile(real), stat(real)]);
    const text = bytes.toString('utf8');
    try {
      // The new text is renamed over the post, which a read-only mode would not stop: honour it here.
      if ((mode & 0o222) === 0) throw new Error(`it is read-only (mode ${(mode & 0o777).toString(8)}); make it writable (chmod u+w) first`);
      assertUtf8(bytes);
      return { bytes, next: rewriteFrontmatterField(text, target, pinned), mode };
    } catch (error) {
      const where = typeof target === 'string' ? `the ${target} field by hand: ${target}: ` : `item ${target.item + 1} of ${target.field} by hand: - `;
      throw new AstroComfyUIError('PIN_REFUSED', `${file} was left unchanged: ${(error as Error).message}`, `Write ${where}${formatYaml(pinned)}`, {
        cause: error,
      });
    }
  };
  const prepared = await rewrite();
  return {
    async write() {
      const current = await readFile(real);
      const { next, mode } = current.equals(prepared.bytes) ? prepared : await rewrite();
      await writeFileAtomic(real, next, { mode: mode & 0o7777 });
    },
  };
}

/**
 * Throws unless the post is UTF-8. Its text is written back whole, so a post in another encoding
 * (Latin-1 from an old blog engine, UTF-16 from Notepad) would have every non-ASCII character of its
 * title and body replaced by U+FFFD, not only the lines of the pinned field.
 */
function assertUtf8(bytes: Buffer): void {
  if (isUtf8(bytes)) return;
  let line = 1;
  for (let start = 0; start < bytes.length; line++) {
    const end = bytes.indexOf(0x0a, start);
    const stop = end === -1 ? bytes.length : end + 1;
    if (!isUtf8(bytes.subarray(start, stop))) break;
    start = stop;
  }
  throw new Error(
    `it is not UTF-8 text (line ${line} is not), and Astro reads posts as UTF-8, so its other characters would be lost; save it as UTF-8 (your editor's "encoding" setting) and try again`,
  );
}

/**
 * The post's text with the target set to `pinned`. The result is parsed back with Astro's own parser and
 * refused (an Error saying why) unless the target reads as `pinned` and every other value is unchanged.
 */
export function rewriteFrontmatterField(text: string, target: PinTarget, pinned: PinnedPrompt): string {
  const before = readFrontmatter(text);
  if (typeof target !== 'string') return rewriteListItem(text, before, target, pinned);
  const field = target;
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
  const key = yamlKey(field);
  // lines[0] is the rest of the opening fence's line; keys start on the next one.
  const at = lines.findIndex((line, i) => i > 0 && key.test(line));
  const newline = inner.includes('\r\n') ? '\r\n' : '\n';
  if (at === -1) return `${inner}${field}: ${value}${newline}`;
  const end = valueEnd(lines, at);
  const ending = lines[end - 1]!.match(/\r?\n$/)?.[0] ?? newline;
  const keyText = key.exec(lines[at]!)![0];
  return [...lines.slice(0, at), `${keyText} ${value}${ending}`, ...lines.slice(end)].join('');
}

/** One item of a YAML block list (`- ` lines) replaced by a flow mapping; the other items keep their bytes. */
function rewriteListItem(text: string, before: Frontmatter, { field, item }: { field: string; item: number }, pinned: PinnedPrompt): string {
  const list = before.data[field];
  if (!Array.isArray(list) || item < 0 || item >= list.length) throw new Error(`"${field}" has no item ${item + 1}`);
  if (before.format !== 'yaml') throw new Error(`only YAML lists can have one item rewritten, and "${field}" is in TOML frontmatter`);
  const { start, end: innerEnd } = before.inner!;
  const lines = text.slice(start, innerEnd).split(/(?<=\n)/);
  const at = lines.findIndex((line, i) => i > 0 && yamlKey(field).test(line));
  const rest = at === -1 ? '' : lines[at]!.replace(yamlKey(field), '').trim();
  if (at === -1 || (rest !== '' && !rest.startsWith('#'))) {
    throw new Error(`"${field}" is not written as a block list of "- " lines (a one-line [ … ] list or an alias), so its items cannot be told apart`);
  }
  const end = valueEnd(lines, at);
  const firstItem = lines.slice(at + 1, end).find((line) => /^[ \t]*-([ \t]|\r?\n$)/.test(line)) ?? '';
  const indent = /^[ \t]*/.exec(firstItem)![0];
  const itemStart = new RegExp(`^${indent}-([ \\t]|\\r?\\n$)`);
  const starts = lines.map((line, i) => (i > at && i < end && itemStart.test(line) ? i : -1)).filter((i) => i !== -1);
  const from = starts[item];
  if (from === undefined) throw new Error(`"${field}" has ${starts.length} "- " lines for ${list.length} items`);
  let to = starts[item + 1] ?? end;
  // Blank and comment lines before the next item stay where they are.
  while (to > from + 1 && /^[ \t]*(#.*)?\r?\n$/.test(lines[to - 1]!)) to--;
  const ending = lines[to - 1]!.match(/\r?\n$/)?.[0] ?? '\n';
  const inner = [...lines.slice(0, from), `${indent}- ${formatYaml(pinned)}${ending}`, ...lines.slice(to)].join('');
  const next = `${text.slice(0, start)}${inner}${text.slice(innerEnd)}`;
  assertOnlyChanged(before, next, field, (data) => {
    const after = data[field];
    if (!Array.isArray(after) || after.length !== list.length) return `"${field}" would not keep its ${list.length} items`;
    if (!sameData(after[item], expectedData(pinned))) return `item ${item + 1} of "${field}" would not read back as the pinned prompt`;
    const other = after.findIndex((value, i) => i !== item && !sameData(value, list[i]));
    return other === -1 ? undefined : `rewriting item ${item + 1} of "${field}" would also change item ${other + 1}`;
  });
  return next;
}

/** A top-level YAML key line for `field`, bare or quoted. */
function yamlKey(field: string): RegExp {
  return new RegExp(`^(?:${escapeRegExp(field)}|"${escapeRegExp(field)}"|'${escapeRegExp(field)}')[ \\t]*:(?=[ \\t\\r\\n]|$)`);
}

/** The line after the value of the key on line `at`: it runs over indented, blank or top-level "- " lines. */
function valueEnd(lines: string[], at: number): number {
  let end = at + 1;
  while (end < lines.length && /^([ \t]+\S|[ \t]*\r?\n$|-([ \t]|\r?\n$))/.test(lines[end]!)) end++;
  while (end > at + 1 && /^[ \t]*\r?\n$/.test(lines[end - 1]!)) end--;
  return end;
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
  assertOnlyChanged(before, next, field, (data) =>
    sameData(data[field], expectedData(pinned)) ? undefined : `"${field}" would not read back as the pinned prompt`,
  );
}

/** The frontmatter data a pinned prompt reads back as. */
function expectedData(pinned: PinnedPrompt): Record<string, unknown> {
  return Object.fromEntries(Object.entries(pinned).filter(([, v]) => v !== undefined && v !== ''));
}

/**
 * Parses `next` back and throws unless `check` finds `field` as intended (it returns why not) and every
 * other key reads as before.
 */
function assertOnlyChanged(before: Frontmatter, next: string, field: string, check: (data: Record<string, unknown>) => string | undefined): void {
  let after: Frontmatter;
  try {
    after = readFrontmatter(next);
  } catch (error) {
    throw new Error(
      `rewriting "${field}" would make the frontmatter invalid (${(error as Error).message}); it may use anchors, aliases or multi-line values there`,
    );
  }
  const problem = check(after.data);
  if (problem) throw new Error(problem);
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
