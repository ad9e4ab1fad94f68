import { pngSize, startsAsPng } from './png-text.js';
import { readHead } from './read-head.js';

/** astro:assets' ImageMetadata of a local PNG, as `astro dev` makes it. */
export interface DevImageMetadata {
  src: string;
  width: number;
  height: number;
  format: 'png';
}

/**
 * What `import image from "<file>"` gives a page in `astro dev`, read from the PNG's first 24 bytes (its
 * IHDR chunk); undefined when the file cannot be read or is not a PNG, so that Astro's own import handles
 * (and reports) it. Dev inlines this instead of importing each image: every page load walks its whole
 * module graph, and at 20,000 images that walk cost ~145 ms per page load. A test checks that it equals what
 * Astro's own import gives.
 */
export async function readDevImageMetadata(file: string): Promise<DevImageMetadata | undefined> {
  const head = await readHead(file, 24).catch(() => undefined);
  if (!head || head.length < 24 || !startsAsPng(head) || head.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  const { width, height } = pngSize(head);
  if (width === 0 || height === 0) return undefined;
  // Astro's form: the file served by Vite's /@fs route, its size in the query for the /_image endpoint.
  const posix = file.replaceAll('\\', '/');
  const src = `/@fs${posix.startsWith('/') ? '' : '/'}${posix}?origWidth=${width}&origHeight=${height}&origFormat=png`;
  return { src, width, height, format: 'png' };
}
