// Runs in the browser: DOM helpers for the toolbar app, built on Astro's own dev-toolbar elements.
import type { defineToolbarApp } from 'astro/toolbar';
import type { readPanelState } from './read-panel-state.js';

export type PanelState = Awaited<ReturnType<typeof readPanelState>>;
export type PanelImage = PanelState['images'][number];
export type Server = Parameters<NonNullable<Parameters<typeof defineToolbarApp>[0]['init']>>[2];
export type On = <T extends { requestId: string }>(event: string, handler: (data: T) => void) => void;
export interface Requests {
  newId: () => string;
  on: On;
  /**
   * An id for a request of the post's state, whose answers replace each other: an answer to an earlier
   * one that arrives after it is dropped by `isNewestState`.
   */
  newStateId: () => string;
  isNewestState: (requestId: string) => boolean;
}

/** Astro's toolbar select: a native <select> inside its shadow root. */
export type ToolbarSelect = HTMLElement & { element: HTMLSelectElement };
export type ButtonStyle = 'ghost' | 'outline' | 'purple' | 'gray' | 'red' | 'green' | 'yellow' | 'blue';

/** An element with attributes and children: an HTML one, or one of Astro's toolbar elements (astro-dev-toolbar-card…). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, string>, ...children: Array<Node | string>): HTMLElementTagNameMap[K];
export function el(tag: `astro-dev-toolbar-${string}`, attrs?: Record<string, string>, ...children: Array<Node | string>): HTMLElement;
export function el(tag: string, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElement {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

/**
 * An Astro toolbar button. Its native <button> is inside the element's shadow root and takes its name
 * from the text: `more` adds words that only a screen reader says ("Use this" of which candidate).
 */
export function button(testId: string, text: string, style: ButtonStyle = 'gray', more?: string): HTMLElement {
  const extra = more ? [el('span', { class: 'visually-hidden' }, ` ${more}`)] : [];
  return el('astro-dev-toolbar-button', { 'data-testid': testId, 'button-style': style, size: 'small' }, text, ...extra);
}

/**
 * An Astro toolbar select whose native <select> carries the test id and the name screen readers say: a
 * <label> around the element cannot name a select inside its shadow root.
 */
export function select(testId: string, name: string): ToolbarSelect {
  const wrapper = document.createElement('astro-dev-toolbar-select') as ToolbarSelect;
  wrapper.element.dataset.testid = testId;
  wrapper.element.setAttribute('aria-label', name);
  // The native select lives in the element's shadow root: size it to its column from here.
  Object.assign(wrapper.element.style, { width: '100%', textAlignLast: 'left', textOverflow: 'ellipsis' });
  return wrapper;
}

export function fillSelect(target: ToolbarSelect, values: Array<string | [string, string]>, empty: string | null, selected?: string): void {
  const entries = values.map((v) => (typeof v === 'string' ? [v, v] : v));
  target.element.replaceChildren(
    ...(empty === null ? [] : [el('option', { value: '' }, empty)]),
    ...entries.map(([value, label]) => el('option', { value: value! }, label!)),
  );
  target.element.value = selected ?? (empty === null ? (entries[0]?.[0] ?? '') : '');
}

/** Disables a toolbar button and says why (tooltip and the hint next to it); null enables it. */
export function setDisabled(target: HTMLElement, why: string | null, hint?: HTMLElement): void {
  target.setAttribute('aria-disabled', String(why !== null));
  if (why === null) target.removeAttribute('title');
  else target.title = why;
  if (hint) hint.textContent = why ?? '';
}

export function isDisabled(target: HTMLElement): boolean {
  return target.getAttribute('aria-disabled') === 'true';
}

export function showError(target: HTMLElement, text: string): void {
  target.textContent = text;
  target.classList.add('error');
}

export function showInfo(target: HTMLElement, text: string): void {
  target.textContent = text;
  target.classList.remove('error');
}

/** Request ids of this tab: answers come back on its own connection; the id ties each to its request. */
export function createRequests(server: Server): Requests {
  const ids = new Set<string>();
  const newId = () => {
    // randomUUID needs a secure context; a dev server opened by its LAN address is not one.
    const id =
      typeof crypto.randomUUID === 'function'
        ? crypto.randomUUID()
        : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('');
    ids.add(id);
    return id;
  };
  const on: On = (event, handler) => server.on(event, (data: { requestId: string }) => ids.has(data.requestId) && handler(data as never));
  let newestState: string | undefined;
  const newStateId = () => (newestState = newId());
  return { newId, on, newStateId, isNewestState: (requestId) => requestId === newestState };
}

/**
 * The panel's height: Astro sets its window 72 px above the bottom of the page, so on a low (or zoomed-in)
 * page it is kept short enough that its top stays in view.
 */
export const WINDOW_HEIGHT = 'min(84vh, calc(100vh - 88px), 780px)';

export const STYLE = `
  :host { --gap: 8px; }
  header { display: flex; align-items: center; gap: 12px; margin-bottom: 10px; }
  header h1 { font-size: 18px; font-weight: 600; margin: 0; color: #fff; }
  header .tabs { margin-left: auto; display: flex; gap: 6px; }
  hr { border: 0; border-top: 1px solid rgba(27, 30, 36, 1); margin: 0 0 10px; }
  label { display: grid; gap: 3px; font-size: 12px; color: #bfc1c9; }
  input, textarea { box-sizing: border-box; width: 100%; min-width: 0; font: inherit; font-size: 13px; background: #0d0e12; color: #fff; border: 1px solid #343841; border-radius: 4px; padding: 5px 7px; }
  textarea { min-height: 52px; resize: vertical; }
  astro-dev-toolbar-select { display: block; }
  .grid { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: var(--gap); align-items: end; }
  .fields { display: grid; gap: var(--gap); }
  .row { display: flex; gap: var(--gap); align-items: end; flex-wrap: wrap; margin-top: var(--gap); }
  .hint { font-size: 12px; color: #9ca0ab; }
  .hint:empty { display: none; }
  .studio { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1.2fr); gap: 16px; }
  .current img, .candidate img { display: block; width: 100%; height: auto; object-fit: contain; border-radius: 4px; background: #16171c; }
  .current figcaption, .candidate figcaption { font-size: 12px; color: #bfc1c9; margin: 4px 0; display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
  .current img { width: auto; max-width: 100%; max-height: 200px; }
  figure { margin: 0; }
  .candidates { display: grid; grid-template-columns: repeat(auto-fill, minmax(150px, 1fr)); gap: var(--gap); margin-top: var(--gap); align-items: start; }
  .candidate .actions { display: flex; gap: 6px; flex-wrap: wrap; }
  .problems { margin-bottom: 10px; }
  .problems ul { margin: 4px 0 0; padding-left: 18px; font-size: 13px; }
  .problems.error { color: #f87171; font-size: 13px; } .problems.warning { color: #fbbf24; font-size: 13px; }
  .problems.error .hint, .problems.warning .hint { display: block; margin-top: 4px; }
  .message { margin-top: 8px; font-size: 13px; white-space: pre-wrap; color: #d5d7de; }
  .message.error { color: #f87171; }
  .status dt { color: #9ca0ab; font-size: 12px; } .status dd { margin: 0 0 6px; }
  iframe { width: 100%; height: min(60vh, 520px); border: 1px solid #343841; border-radius: 4px; background: #202020; margin-top: 8px; }
  .body { overflow-y: auto; max-height: calc(${WINDOW_HEIGHT} - 110px); padding-right: 4px; }
  [aria-disabled="true"] { opacity: 0.5; cursor: not-allowed; }
  [role="tab"] { font: inherit; font-size: 12px; padding: 4px 8px; border-radius: 4px; cursor: pointer; color: #fff; background: rgba(52, 56, 65, 1); border: 1px solid rgba(71, 78, 94, 1); }
  [role="tab"][aria-selected="true"] { background: rgba(113, 24, 226, 1); border-color: rgba(224, 204, 250, 0.33); }
  [role="tab"]:focus-visible { outline: 2px solid #fff; outline-offset: 1px; }
  /* High-contrast modes replace the colours that mark the selected tab: mark it by more than colour. */
  @media (forced-colors: active) { [role="tab"][aria-selected="true"] { text-decoration: underline 2px; border-width: 2px; } }
  .visually-hidden { position: absolute; width: 1px; height: 1px; margin: -1px; padding: 0; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; border: 0; }
  [hidden] { display: none !important; }
  .grid.pair { grid-template-columns: 2fr 1fr; }
  /* A narrow window, or a page zoomed in (200 % of 1280 px is 640 px): one column, nothing cut off. */
  @media (max-width: 760px) { .studio { grid-template-columns: minmax(0, 1fr); } }
  @media (max-width: 480px) {
    .grid, .grid.pair { grid-template-columns: minmax(0, 1fr); }
    header { flex-wrap: wrap; }
    header .tabs { margin-left: 0; }
  }
  /* Too low for a fixed header above a scrolling body: the whole window scrolls instead. */
  @media (max-height: 480px) { .body { max-height: none; overflow-y: visible; } }
`;
