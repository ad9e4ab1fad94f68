// Runs in the browser, in `astro dev` only (injected into every page). When astro-comfyui has generated an
// image, a page that shows it gets it in place: the page is fetched again and only the figures that
// show the image are swapped. A page that does not show it is left alone; a page whose layout around it
// changed (the image is new there) reloads, as before.
/// <reference types="vite/client" />
import { IMAGE_READY_EVENT } from './dev-events.js';
import { showsFile } from './shows-file.js';

/** Images that arrive together (a build of many) are shown with one fetch of the page. */
const BATCH_MS = 150;
const arrived = new Set<string>();
let scheduled = false;

if (import.meta.hot) {
  import.meta.hot.on(IMAGE_READY_EVENT, (data: { file: string }) => {
    arrived.add(data.file);
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      const files = [...arrived];
      arrived.clear();
      scheduled = false;
      showImages(files).catch(() => location.reload());
    }, BATCH_MS);
  });
}

async function showImages(files: string[]): Promise<void> {
  const current = blocksShowing(document, files);
  const response = await fetch(location.href, { headers: { accept: 'text/html' }, cache: 'no-store' });
  if (!response.ok) return location.reload();
  const next = new DOMParser().parseFromString(await response.text(), 'text/html');
  const incoming = blocksShowing(next, files);
  if (incoming.length === 0 && current.length === 0) return;
  // Each block must be at the same place in both versions of the page; otherwise the layout changed.
  if (incoming.length !== current.length || incoming.some((block, i) => placeOf(block) !== placeOf(current[i]!))) return location.reload();
  const version = String(Date.now());
  current.forEach((block, i) => {
    const fresh = document.importNode(incoming[i]!, true);
    // Same file name as the placeholder it replaces: a new query makes the browser fetch it again.
    for (const element of [fresh, ...fresh.querySelectorAll('img, source')]) bustCache(element, files, version);
    block.replaceWith(fresh);
  });
}

/** The figures (or pictures, or images) of a document that show one of `files`, in document order. */
function blocksShowing(root: Document, files: string[]): Element[] {
  const blocks = [...root.body.querySelectorAll('img, source')]
    .filter((element) => files.some((file) => showsFile(element, file)))
    .map((element) => element.closest('figure') ?? element.closest('picture') ?? element);
  return [...new Set(blocks)];
}

/** Where an element is in its document: the child index of each ancestor up to the body. */
function placeOf(element: Element): string {
  const place: number[] = [];
  for (let node: Element | null = element; node && node.tagName !== 'BODY'; node = node.parentElement) {
    place.unshift(node.parentElement ? [...node.parentElement.children].indexOf(node) : 0);
  }
  return `${element.tagName}:${place.join('.')}`;
}

function bustCache(element: Element, files: string[], version: string): void {
  if (!element.matches('img, source') || !files.some((file) => showsFile(element, file))) return;
  const add = (url: string) => `${url}${url.includes('?') ? '&' : '?'}v=${version}`;
  const src = element.getAttribute('src');
  if (src) element.setAttribute('src', add(src));
  const srcset = element.getAttribute('srcset');
  if (srcset) {
    element.setAttribute(
      'srcset',
      srcset
        .split(',')
        .map((candidate) => {
          const [url, ...descriptor] = candidate.trim().split(/\s+/);
          return [add(url!), ...descriptor].join(' ');
        })
        .join(', '),
    );
  }
}
