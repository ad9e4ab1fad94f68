import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from './write-file-atomic.js';

export interface PinnedPrompt {
  prompt: string;
  negative?: string;
  style?: string;
  format?: string;
  preset?: string;
  seed: number;
  alt?: string;
}

/**
 * Writes `<field>: { prompt, style, format, seed, … }` into a post's frontmatter. Only the lines of that
 * one top-level field change (or one line is added); every other byte of the file stays as it was.
 */
export async function pinImageIntoPost(file: string, field: string, pinned: PinnedPrompt): Promise<void> {
  const text = await readFile(file, 'utf8');
  await writeFileAtomic(file, replaceFrontmatterField(text, field, formatPrompt(pinned)));
}

/** The new file text with `field`'s value replaced (or the field added at the end of the frontmatter). */
export function replaceFrontmatterField(text: string, field: string, value: string): string {
  const newline = text.includes('\r\n') ? '\r\n' : '\n';
  const bom = text.startsWith('\uFEFF') ? '\uFEFF' : '';
  const body = text.slice(bom.length);
  const open = /^---[ \t]*\r?\n/.exec(body);
  const line = `${field}: ${value}`;
  if (!open) return `${bom}---${newline}${line}${newline}---${newline}${body}`;
  const rest = body.slice(open[0].length);
  const close = /^---[ \t]*(\r?\n|$)/m.exec(rest);
  if (!close) throw new Error('the frontmatter has no closing "---" line');
  const frontmatter = rest.slice(0, close.index);
  const lines = frontmatter.split(/(?<=\n)/);
  const start = lines.findIndex((l) => new RegExp(`^${escapeRegExp(field)}[ \\t]*:`).test(l));
  let next: string;
  if (start === -1) {
    const needsNewline = frontmatter.length > 0 && !frontmatter.endsWith('\n');
    next = `${frontmatter}${needsNewline ? newline : ''}${line}${newline}`;
  } else {
    // The field's value runs over the following indented (or blank) lines.
    let end = start + 1;
    while (end < lines.length && /^([ \t]+\S|[ \t]*\r?\n$)/.test(lines[end]!)) end++;
    while (end > start + 1 && /^[ \t]*\r?\n$/.test(lines[end - 1]!)) end--;
    const ending = lines[end - 1]!.match(/\r?\n$/)?.[0] ?? newline;
    next = [...lines.slice(0, start), `${line}${ending}`, ...lines.slice(end)].join('');
  }
  return `${bom}${open[0]}${next}${rest.slice(close.index)}`;
}

/** A YAML flow mapping; JSON strings are valid YAML double-quoted scalars, so any prompt text is safe. */
function formatPrompt(p: PinnedPrompt): string {
  const parts = [`prompt: ${JSON.stringify(p.prompt)}`];
  if (p.negative) parts.push(`negative: ${JSON.stringify(p.negative)}`);
  if (p.preset) parts.push(`preset: ${JSON.stringify(p.preset)}`);
  if (p.style) parts.push(`style: ${JSON.stringify(p.style)}`);
  if (p.format) parts.push(`format: ${JSON.stringify(p.format)}`);
  parts.push(`seed: ${p.seed}`);
  if (p.alt) parts.push(`alt: ${JSON.stringify(p.alt)}`);
  return `{ ${parts.join(', ')} }`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
