import type { ManifestEntry } from './manifest.js';
import { getPngText, setPngText } from './png-text.js';

/** The PNG text chunk that carries an image's key and manifest entry: the file describes itself. */
export const PNG_ENTRY_KEYWORD = 'astro-comfyui';

/** The PNG with its key and manifest entry inside it (replacing any it carried). */
export function withPngEntry(png: Buffer, key: string, entry: ManifestEntry): Buffer {
  return setPngText(png, PNG_ENTRY_KEYWORD, JSON.stringify({ key, ...entry }));
}

/**
 * What a PNG says it is: its key and the rest of its entry, not yet validated (the file is input like
 * any other). Undefined when it carries none; null when its text is not a JSON object.
 */
export function readPngEntry(png: Buffer): { key: unknown; entry: Record<string, unknown> } | null | undefined {
  const text = getPngText(png, PNG_ENTRY_KEYWORD);
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const { key, ...entry } = parsed as Record<string, unknown>;
  return { key, entry };
}
