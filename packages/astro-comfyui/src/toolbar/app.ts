// Runs in the browser: the toolbar app. It imports the event names and its own browser files, nothing else.
import { defineToolbarApp } from 'astro/toolbar';
import { buildAdvancedTab, wireAdvancedTab } from './app-advanced-tab.js';
import { createRequests, el, type PanelState, STYLE, showError, WINDOW_HEIGHT } from './app-dom.js';
import { highlightPlaceholders } from './app-highlights.js';
import { buildSimpleTab, recentPin, showSimpleState, wireSimpleTab } from './app-simple-tab.js';
import { EVENTS } from './toolbar-events.js';

export default defineToolbarApp({
  init(canvas, app, server) {
    const requests = createRequests(server);
    const simple = buildSimpleTab();
    const advanced = buildAdvancedTab();
    // Tabs as screen readers know them (role, selected, the panel each controls), moved between with the arrow keys.
    const sections = { simple: simple.section, advanced: advanced.section };
    const tabs = { simple: makeTab('simple', 'Simple', sections.simple), advanced: makeTab('advanced', 'Advanced', sections.advanced) };
    const badge = el('astro-dev-toolbar-badge', { 'badge-style': 'gray', size: 'small', 'data-testid': 'badge' }, '…');
    const win = document.createElement('astro-dev-toolbar-window');
    // Astro's window is 640 x 480 at most: a studio with previews and ComfyUI's own UI needs more room.
    // It scrolls as a whole only where its body cannot (a low or zoomed-in window: STYLE).
    Object.assign(win.style, { width: 'min(1080px, 100%)', maxHeight: WINDOW_HEIGHT, overflowY: 'auto' });
    win.append(
      el('style', {}, STYLE),
      el(
        'header',
        {},
        el('h1', {}, 'ComfyUI images'),
        badge,
        el('div', { class: 'tabs', role: 'tablist', 'aria-label': 'ComfyUI images' }, tabs.simple, tabs.advanced),
      ),
      el('hr'),
      // The window has a fixed height: the tab contents scroll inside it.
      el('div', { class: 'body' }, simple.section, advanced.section),
    );
    canvas.append(win);

    let state: PanelState | undefined;
    let open = false;
    let clearHighlights = () => {};
    const { showFrame, openInComfyUI, refreshStatus } = wireAdvancedTab(advanced, server, requests, () => state);
    const selectTab = (tab: TabName) => {
      for (const name of TAB_NAMES) {
        sections[name].hidden = tab !== name;
        tabs[name].setAttribute('aria-selected', String(tab === name));
        // Tab moves into the panel, not to the other tab: the arrow keys go there.
        tabs[name].tabIndex = tab === name ? 0 : -1;
      }
      if (tab === 'advanced') {
        showFrame();
        refreshStatus();
      }
    };
    for (const name of TAB_NAMES) {
      tabs[name].addEventListener('click', () => selectTab(name));
      tabs[name].addEventListener('keydown', (event) => {
        if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(event.key)) return;
        event.preventDefault();
        // Two tabs: every one of these keys goes to the other one, or stays (Home on the first, End on the last).
        const next: TabName = event.key === 'Home' ? 'simple' : event.key === 'End' ? 'advanced' : name === 'simple' ? 'advanced' : 'simple';
        selectTab(next);
        tabs[next].focus();
      });
    }
    selectTab('simple');
    const openGraph = (graph: Record<string, unknown>, name: string) => {
      selectTab('advanced');
      void openInComfyUI(graph, name);
    };

    /** Problems and placeholders show on the app's icon, and on the page while the panel is open. */
    const showAttention = () => {
      if (!state) return;
      const pagePost = state.post;
      const problems = state.problems.length;
      const placeholders = state.images.filter((i) => i.state !== 'ready').length;
      app.toggleNotification(problems > 0 ? { state: true, level: 'error' } : placeholders > 0 ? { state: true, level: 'warning' } : { state: false });
      badge.setAttribute('badge-style', problems > 0 ? 'red' : placeholders > 0 ? 'yellow' : 'green');
      badge.textContent = !pagePost
        ? 'no post'
        : problems > 0
          ? `${problems} problem${problems > 1 ? 's' : ''}`
          : placeholders > 0
            ? `${placeholders} image${placeholders > 1 ? 's' : ''} to make`
            : 'images ready';
      clearHighlights();
      clearHighlights = open ? highlightPlaceholders(state, canvas) : () => {};
    };
    app.onToggled(({ state: isOpen }) => {
      open = isOpen;
      showAttention();
    });

    requests.on<PanelState & { requestId: string }>(EVENTS.state, (data) => {
      // Posts chosen one after the other: the last one chosen is shown, whichever answer comes last.
      if (!requests.isNewestState(data.requestId)) return;
      state = data;
      showSimpleState(simple, data, openGraph);
      showAttention();
    });
    wireSimpleTab(simple, server, requests, () => state, openGraph);
    // An error shows in the tab that is open.
    requests.on<{ requestId: string; message: string }>(EVENTS.error, (e) => showError(advanced.section.hidden ? simple.message : advanced.message, e.message));

    server.send(EVENTS.init, { requestId: requests.newStateId(), pathname: location.pathname });
    if (recentPin()) app.toggleState({ state: true });
  },
});

const TAB_NAMES = ['simple', 'advanced'] as const;
type TabName = (typeof TAB_NAMES)[number];

/**
 * A tab of the panel, a native button (so the keyboard and screen readers use it as any tab), and its
 * section made the tab panel it controls.
 */
function makeTab(name: TabName, text: string, section: HTMLElement): HTMLButtonElement {
  section.id = `astro-comfyui-panel-${name}`;
  section.setAttribute('role', 'tabpanel');
  section.setAttribute('aria-labelledby', `astro-comfyui-tab-${name}`);
  return el('button', { type: 'button', role: 'tab', id: `astro-comfyui-tab-${name}`, 'aria-controls': section.id, 'data-testid': `tab-${name}` }, text);
}
