// Runs in the browser: marks the page's images that are placeholders, as Astro's audit app marks issues.
import { showsFile } from '../shows-file.js';
import { el, type PanelState } from './app-dom.js';

/**
 * Highlights every <img> of the page made from one of the post's placeholder images (its URL names the
 * file, also through astro:assets' /_image endpoint). Returns a function that removes the highlights.
 */
export function highlightPlaceholders(state: PanelState, root: ShadowRoot): () => void {
  const placeholders = state.images.filter((i) => i.state === 'placeholder');
  const highlights: HTMLElement[] = [];
  if (placeholders.length > 0) {
    for (const img of document.querySelectorAll('img')) {
      const image = placeholders.find((p) => showsFile(img, p.file));
      if (!image) continue;
      const rect = img.getBoundingClientRect();
      if (rect.width === 0 || rect.height === 0) continue;
      const highlight = document.createElement('astro-dev-toolbar-highlight');
      highlight.setAttribute('highlight-style', 'yellow');
      highlight.setAttribute('data-testid', 'placeholder-highlight');
      highlight.title = `${image.target} is a placeholder: ComfyUI was not running when it was needed. Generate it in this panel.`;
      Object.assign(highlight.style, {
        position: 'absolute',
        top: `${Math.max(rect.top + window.scrollY - 10, 0)}px`,
        left: `${Math.max(rect.left + window.scrollX - 10, 0)}px`,
        width: `${rect.width + 15}px`,
        height: `${rect.height + 15}px`,
      });
      highlight.append(el('span', { hidden: '' }, highlight.title));
      root.append(highlight);
      highlights.push(highlight);
    }
  }
  return () => {
    for (const highlight of highlights) highlight.remove();
  };
}
