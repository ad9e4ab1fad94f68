import { extractFrontmatter, parseFrontmatter } from 'astro/markdown';

export type FrontmatterFormat = 'yaml' | 'toml';

export interface Frontmatter {
  data: Record<string, unknown>;
  /** `null` when the post has no frontmatter block. */
  format: FrontmatterFormat | null;
  /** Offsets of the block's inner text (between the fences) in the post's text; `null` without a block. */
  inner: { start: number; end: number } | null;
}

/**
 * Reads a post's frontmatter exactly as Astro's content layer does, with Astro's own parser: YAML
 * between `---` or TOML between `+++`, after an optional BOM or leading blank lines. Both parsers only
 * build data (js-yaml's default schema, smol-toml): nothing in a post is ever executed, unlike
 * gray-matter's default engines, which `eval` a `---js` block.
 */
export function readFrontmatter(text: string): Frontmatter {
  const raw = extractFrontmatter(text);
  if (raw === undefined) return { data: {}, format: null, inner: null };
  // Astro picks the parser from the opening fence; the block is the first fence + raw + fence in the text.
  const fence = /^\uFEFF?\s*(\+\+\+|---)/.exec(text)?.[1] ?? '---';
  const format = fence === '+++' ? 'toml' : 'yaml';
  let data: Record<string, unknown>;
  try {
    data = parseFrontmatter(text, { frontmatter: 'preserve' }).frontmatter;
  } catch (cause) {
    const reason = (cause as { reason?: string }).reason ?? (cause as Error).message;
    throw new FrontmatterSyntaxError(format, reason.split('\n')[0]!, cause);
  }
  const start = text.indexOf(`${fence}${raw}`) + fence.length;
  return { data, format, inner: { start, end: start + raw.length } };
}

/** The frontmatter block is not valid YAML or TOML; `reason` is the parser's first line. */
export class FrontmatterSyntaxError extends Error {
  constructor(
    readonly format: FrontmatterFormat,
    readonly reason: string,
    cause: unknown,
  ) {
    super(`The frontmatter is not valid ${format.toUpperCase()} (${reason}).`, { cause });
  }
}
