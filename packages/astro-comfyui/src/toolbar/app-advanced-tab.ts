// Runs in the browser: the Advanced tab, ComfyUI's status and its own web UI.
import { button, el, isDisabled, type PanelState, type Requests, type Server, setDisabled, showInfo } from './app-dom.js';
import type { EndpointState } from './toolbar-actions.js';
import { COMFYUI_ROUTE, EVENTS } from './toolbar-events.js';

const E = EVENTS;
/** How long "Open in ComfyUI" waits for ComfyUI's UI to boot in the frame. */
const BOOT_DEADLINE_MS = 30_000;

/** What ComfyUI's UI exposes on its window once booted (frontend 1.x). */
interface ComfyWindow extends Window {
  app?: {
    loadApiJson(graph: Record<string, unknown>, name: string): Promise<void> | void;
    graph?: unknown;
    /** Its workspace store: the workflow shown, once ComfyUI has restored one (or made a blank one). */
    extensionManager?: { workflow?: { activeWorkflow?: unknown } };
  };
}

/**
 * How long after ComfyUI's UI is set up a graph waits for it to restore its own workflow. With workflow
 * persistence off (a setting) nothing is restored and no workflow becomes active.
 */
const RESTORE_GRACE_MS = 5_000;

export function buildAdvancedTab() {
  const ui = {
    status: el('dl', { class: 'status', 'data-testid': 'status' }),
    start: button('start', 'Start ComfyUI', 'green'),
    stop: button('stop', 'Stop ComfyUI', 'red'),
    refresh: button('refresh', 'Refresh', 'gray'),
    openTab: el('a', { 'data-testid': 'open-tab', target: '_blank', rel: 'noopener', class: 'hint' }, 'Open ComfyUI in a new tab'),
    why: el('div', { class: 'hint', 'data-testid': 'start-why' }),
    help: el('div', { class: 'message', 'data-testid': 'comfyui-help', hidden: '' }),
    frame: el('iframe', { 'data-testid': 'comfyui-frame', title: 'ComfyUI' }),
    message: el('div', { class: 'message', role: 'status', 'data-testid': 'advanced-message' }),
  };
  const section = el(
    'section',
    { 'data-testid': 'advanced', hidden: '' },
    ui.status,
    el('div', { class: 'row' }, ui.start, ui.stop, ui.refresh, ui.openTab),
    ui.why,
    ui.message,
    ui.help,
    ui.frame,
  );
  return { section, ...ui };
}

export type AdvancedTab = ReturnType<typeof buildAdvancedTab>;

/** ComfyUI's status, start, stop and refresh, and loading a graph into its UI. */
export function wireAdvancedTab(ui: AdvancedTab, server: Server, { newId, on }: Requests, state: () => PanelState | undefined) {
  let running = false;
  /** The endpoint whose UI the frame shows (teams may have several GPU machines). */
  let shown = 0;
  let endpoints: EndpointState[] = [];
  const relayUrl = () => `${COMFYUI_ROUTE}${shown}/`;
  const showFrame = () => {
    const data = state();
    if (!data || ui.section.hidden) return;
    if (!data.comfyuiUI) {
      // Not relayed: ComfyUI's page, and its custom nodes' scripts, stay on ComfyUI's own origin.
      const address = endpoints[shown]?.url;
      if (address) ui.openTab.href = `${address}/`;
      ui.openTab.textContent = 'Open ComfyUI at its own address';
      ui.frame.hidden = true;
      ui.help.hidden = false;
      return;
    }
    ui.openTab.href = relayUrl();
    ui.frame.hidden = !running;
    ui.help.hidden = running;
    // The UI is heavy: load it when someone looks at it and ComfyUI answers.
    if (running && ui.frame.getAttribute('src') !== relayUrl()) ui.frame.src = relayUrl();
  };
  const showStatus = () => {
    ui.status.replaceChildren(
      ...endpoints.flatMap((e, i) => {
        const choose = button(`show-ui-${i}`, i === shown ? 'Shown below' : 'Show its UI', 'outline', `(${e.url})`);
        setDisabled(choose, i === shown ? 'Its web UI is the one below.' : null);
        choose.addEventListener('click', () => {
          if (isDisabled(choose)) return;
          shown = i;
          running = e.state === 'running';
          showStatus();
          showFrame();
        });
        return [
          el('dt', {}, e.url),
          el(
            'dd',
            { 'data-testid': 'endpoint-state', 'data-state': e.state },
            `${e.state}${e.version ? ` — ComfyUI ${e.version}` : ''}${e.devices.map((d) => ` — ${d.name}, ${(d.vramFree / 2 ** 30).toFixed(1)} of ${(d.vramTotal / 2 ** 30).toFixed(1)} GiB free`).join('')}${e.state === 'running' ? ` — queue ${e.queue}` : ''} `,
            ...(endpoints.length > 1 && e.state === 'running' ? [choose] : []),
            ...(e.missing.length > 0
              ? [
                  el(
                    'div',
                    { class: 'problems error', 'data-testid': 'endpoint-missing' },
                    el('strong', {}, "It cannot make this site's images:"),
                    el('ul', {}, ...e.missing.map((line) => el('li', {}, line))),
                    el('span', { class: 'hint' }, 'ComfyUI sees files added to its model folders without a restart: add them, then Refresh.'),
                    ...(e.suggestion ? [el('div', { class: 'hint', 'data-testid': 'endpoint-suggestion' }, e.suggestion)] : []),
                  ),
                ]
              : []),
            ...(e.checking ? [el('div', { class: 'hint', 'data-testid': 'endpoint-checking' }, "Checking whether it has what this site's images need…")] : []),
            ...(e.unchecked
              ? [
                  el(
                    'div',
                    { class: 'problems warning', 'data-testid': 'endpoint-unchecked' },
                    el('strong', {}, "Not checked whether it has what this site's images need:"),
                    el('div', {}, e.unchecked),
                    el('span', { class: 'hint' }, 'Refresh to try again.'),
                  ),
                ]
              : []),
          ),
        ];
      }),
    );
  };

  // Each request for the status (open, Refresh, Start, Stop) may be answered several times (an endpoint's
  // check comes later), and a slow answer after a newer one: the status seen last on the server is shown,
  // or a Refresh checked before Stop would show a stopped ComfyUI as running (and a Refresh while
  // ComfyUI starts must not hide Start's answer that it runs).
  let seenLast = Number.NEGATIVE_INFINITY;
  /** The Start and Stop requests whose outcome the message (a live region) has yet to say. */
  const actions = new Map<string, 'start' | 'stop'>();
  const askStatus = (event: string, action?: 'start' | 'stop') => {
    const requestId = newId();
    if (action) actions.set(requestId, action);
    server.send(event, { requestId });
  };
  on<{ requestId: string; endpoints: EndpointState[]; observedAt: number }>(E.statusResult, (result) => {
    if (result.observedAt < seenLast) return;
    seenLast = result.observedAt;
    endpoints = result.endpoints;
    // The ComfyUI that dev starts and stops is the first endpoint's. Start is answered "starting" first.
    const action = actions.get(result.requestId);
    const managedUp = endpoints[0]?.state === 'running';
    if ((action === 'start' && managedUp) || (action === 'stop' && !managedUp)) {
      actions.delete(result.requestId);
      showInfo(
        ui.message,
        managedUp
          ? `ComfyUI is running at ${endpoints[0]!.url}.`
          : `ComfyUI at ${endpoints[0]!.url} is stopped; images still to be made wait until Start ComfyUI.`,
      );
    }
    if (shown >= endpoints.length) shown = 0;
    showStatus();
    const data = state();
    const readOnly = data?.readOnly ?? null;
    running = endpoints[shown]?.state === 'running';
    const startable = endpoints.some((e) => e.canStart && e.state !== 'running');
    setDisabled(
      ui.start,
      readOnly ??
        (startable
          ? null
          : endpoints.some((e) => e.state === 'starting')
            ? 'ComfyUI is starting.'
            : data?.canStart
              ? 'ComfyUI is already running.'
              : (data?.startNotUsed ?? 'Starting ComfyUI from here needs the start option: comfyui({ start: { cwd: "/path/to/ComfyUI" } }) in astro.config.')),
      ui.why,
    );
    setDisabled(
      ui.stop,
      readOnly ?? (endpoints.some((e) => e.managed && e.state === 'running') ? null : 'Only a ComfyUI that astro dev started can be stopped here.'),
    );
    const address = endpoints[shown]?.url ?? 'its address';
    ui.help.textContent = running
      ? data?.comfyuiUI === false
        ? `ComfyUI's web UI is not shown here: astro.config sets toolbar: { comfyuiUI: false }, so its page and its custom nodes' scripts do not run as a page of this dev server. Open it at ${address}.`
        : ''
      : data?.canStart
        ? `ComfyUI at ${address} is not running. Press Start ComfyUI, or start it yourself (python main.py in your ComfyUI folder), then Refresh.`
        : data?.startNotUsed
          ? `ComfyUI at ${address} is not running. Start it on that machine (python main.py --listen 0.0.0.0 in its ComfyUI folder), then Refresh.`
          : endpoints[shown]?.elsewhere
            ? `ComfyUI at ${address} is not running. ${endpoints[shown]!.elsewhere}`
            : `ComfyUI at ${address} is not running. Start it (python main.py --port 8188 in your ComfyUI folder), or set the start option so that astro dev starts it, then Refresh.`;
    showFrame();
  });
  // A Start or Stop that failed is said by the error (app.ts), not here.
  on<{ requestId: string }>(E.error, ({ requestId }) => actions.delete(requestId));
  ui.start.addEventListener('click', () => {
    if (isDisabled(ui.start)) return;
    showInfo(ui.message, 'Starting ComfyUI…');
    askStatus(E.start, 'start');
  });
  ui.stop.addEventListener('click', () => {
    if (isDisabled(ui.stop)) return;
    showInfo(ui.message, 'Stopping ComfyUI…');
    askStatus(E.stop, 'stop');
  });
  ui.refresh.addEventListener('click', () => askStatus(E.status));

  /**
   * Shows ComfyUI's UI and loads the graph into it once it has booted; without the relay, downloads the
   * graph (API format), which ComfyUI's page opens when it is dropped on it.
   */
  const openInComfyUI = async (graph: Record<string, unknown>, name: string) => {
    if (state()?.comfyuiUI === false) {
      const link = el('a', { href: URL.createObjectURL(new Blob([JSON.stringify(graph, null, 2)], { type: 'application/json' })), download: `${name}.json` });
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 60_000);
      return showInfo(ui.message, `Downloaded the graph of ${name} as ${name}.json: drop it onto ComfyUI's page to open it there.`);
    }
    showInfo(ui.message, 'Opening the graph in ComfyUI…');
    if (!ui.frame.getAttribute('src')) ui.frame.src = relayUrl();
    ui.frame.hidden = false;
    const deadline = Date.now() + BOOT_DEADLINE_MS;
    let setUpAt: number | undefined;
    while (Date.now() < deadline) {
      // ComfyUI's UI sets window.app once set up, and then restores the workflow it showed last (a blank
      // one and its template gallery for a new user): a graph loaded before that would be replaced.
      const app = (ui.frame.contentWindow as ComfyWindow | null)?.app;
      if (app?.graph) {
        setUpAt ??= Date.now();
        if (app.extensionManager?.workflow?.activeWorkflow || Date.now() - setUpAt > RESTORE_GRACE_MS) {
          await app.loadApiJson(structuredClone(graph), name);
          return showInfo(ui.message, `Loaded the graph of ${name} into ComfyUI. Queue it there to refine it.`);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    showInfo(ui.message, `ComfyUI's UI did not open within ${BOOT_DEADLINE_MS / 1000} s; check that ComfyUI is running.`);
  };
  return { showFrame, openInComfyUI, refreshStatus: () => askStatus(E.status) };
}
