// Runs in the browser (the dev page script and the toolbar app): which page elements show a generated file.

/** True when an <img> or <source> loads `file`, by its name, directly or through astro:assets' /_image?href=… URL. */
export function showsFile(element: Element, file: string): boolean {
  const urls = `${element.getAttribute('src') ?? ''} ${element.getAttribute('srcset') ?? ''}`;
  let decoded = urls;
  try {
    decoded = decodeURIComponent(urls);
  } catch {
    // A URL that does not decode is compared as written.
  }
  return decoded.includes(`/${file}`);
}
