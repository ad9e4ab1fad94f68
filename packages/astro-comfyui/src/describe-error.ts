/**
 * An error's message, then its hint (what to do) on a line of its own, as Astro prints an AstroError:
 * for the places that show an error themselves, dev's log and the toolbar's panel.
 */
export function describeError(error: Error): string {
  const hint = (error as { hint?: unknown }).hint;
  return typeof hint === 'string' && hint ? `${error.message}\n${hint}` : error.message;
}
