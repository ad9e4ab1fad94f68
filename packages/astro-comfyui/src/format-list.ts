/** Items an error message lists before it only counts the rest: a changed style can touch thousands. */
export const LISTED_ITEMS = 50;

/**
 * A list for a message, one `- item` a line. Past `LISTED_ITEMS` it ends with how many more there are
 * and `whereAll`, where the whole list is (a CI log of thousands of lines helps nobody).
 */
export function formatList(items: string[], whereAll: string): string {
  const lines = items.slice(0, LISTED_ITEMS).map((item) => `- ${item}`);
  const more = items.length - LISTED_ITEMS;
  if (more > 0) lines.push(`- … and ${more.toLocaleString('en')} more (${whereAll})`);
  return lines.join('\n');
}

/** A prompt (or any text) cut to `max` characters for a list item, with an ellipsis when cut. */
export function shorten(text: string, max = 60): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}
