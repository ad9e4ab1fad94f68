import { defineToolbarApp } from 'astro/toolbar';
import { EVENTS } from './toolbar-events.js';

// Runs in the browser: it imports the event names and nothing else from the package.
const E = EVENTS;
const REOPEN = 'astro-comfyui:reopen';

interface State {
  /** Why this browser may look but not generate, pin, start or stop; null when it may. */
  readOnly: string | null;
  posts: string[];
  post: string | null;
  image: { prompt: string; negative?: string; style?: string; format?: string; preset?: string; seed?: number; alt?: string } | null;
  styles: string[];
  formats: string[];
  presets: string[];
  defaultFormat: string;
  comfyuiUrl: string;
}

interface EndpointStatus {
  url: string;
  state: string;
  managed: boolean;
  canStart: boolean;
  version: string | null;
  devices: Array<{ name: string; vramTotal: number; vramFree: number }>;
  queue: number;
}

const STYLE = `
  :host { --gap: 8px; }
  .tabs { display: flex; gap: var(--gap); margin-bottom: 12px; }
  .tabs button[aria-selected="true"] { outline: 2px solid #8b5cf6; }
  label { display: grid; gap: 2px; font-size: 12px; color: #ccc; }
  input, select, textarea { font: inherit; font-size: 13px; background: #1b1d26; color: #fff; border: 1px solid #343841; border-radius: 4px; padding: 4px 6px; }
  textarea { min-height: 56px; resize: vertical; }
  .grid { display: grid; grid-template-columns: repeat(2, minmax(0, 1fr)); gap: var(--gap); }
  .row { display: flex; gap: var(--gap); align-items: end; margin-top: var(--gap); }
  .candidates { display: grid; grid-template-columns: repeat(auto-fill, minmax(120px, 1fr)); gap: var(--gap); margin-top: 12px; }
  .candidates figure { margin: 0; display: grid; gap: 4px; }
  .candidates img { width: 100%; border-radius: 4px; background: #222; }
  .message { margin-top: 8px; font-size: 13px; white-space: pre-wrap; }
  .message.error { color: #f87171; }
  .status dt { color: #aaa; font-size: 12px; } .status dd { margin: 0 0 6px; }
  iframe { width: 100%; height: 420px; border: 1px solid #343841; border-radius: 4px; background: #fff; margin-top: 8px; }
  .body { overflow-y: auto; max-height: min(62vh, 560px); padding-right: 4px; }
  [hidden] { display: none !important; }
`;

/**
 * The result of a pin made on this page in the last seconds. Saving the post can reload the page more than once
 * (Astro's content reload and ours), so the note survives a few reloads and then expires.
 */
function recentPin(): string | undefined {
  try {
    const saved = JSON.parse(sessionStorage.getItem(REOPEN) ?? 'null') as { text: string; at: number; path: string } | null;
    return saved && saved.path === location.pathname && Date.now() - saved.at < 15_000 ? saved.text : undefined;
  } catch {
    return undefined;
  }
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function options(select: HTMLSelectElement, values: string[], empty: string, selected?: string) {
  select.replaceChildren(el('option', { value: '' }, empty), ...values.map((v) => el('option', { value: v }, v)));
  select.value = selected ?? '';
}

type Server = Parameters<NonNullable<Parameters<typeof defineToolbarApp>[0]['init']>>[2];
type On = <T extends { requestId: string }>(event: string, handler: (data: T) => void) => void;

/** Request ids of this tab: answers come back on its own connection; the id ties each to its request. */
function createRequests(server: Server): { newId: () => string; on: On } {
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
  return { newId, on };
}

function showError(target: HTMLElement, text: string): void {
  target.textContent = text;
  target.classList.add('error');
}

function showInfo(target: HTMLElement, text: string): void {
  target.textContent = text;
  target.classList.remove('error');
}

/** The Simple tab: the post's prompt and settings, candidates with live progress, and "Use this". */
function buildSimpleTab() {
  const ui = {
    post: el('select', { 'data-testid': 'post' }),
    prompt: el('textarea', { 'data-testid': 'prompt', placeholder: 'a lighthouse at dusk' }),
    negative: el('input', { 'data-testid': 'negative', placeholder: 'what to avoid' }),
    style: el('select', { 'data-testid': 'style' }),
    format: el('select', { 'data-testid': 'format' }),
    preset: el('select', { 'data-testid': 'preset' }),
    seed: el('input', { 'data-testid': 'seed', type: 'number', min: '0', value: '1' }),
    randomSeed: el('button', { 'data-testid': 'random-seed', type: 'button', title: 'Random seed' }, 'Random'),
    count: el('input', { 'data-testid': 'count', type: 'number', min: '1', max: '4', value: '2' }),
    generate: el('button', { 'data-testid': 'generate' }, 'Generate'),
    progress: el('div', { class: 'message', 'data-testid': 'progress' }),
    message: el('div', { class: 'message', 'data-testid': 'message' }),
    candidates: el('div', { class: 'candidates', 'data-testid': 'candidates' }),
  };
  const section = el(
    'section',
    { 'data-testid': 'simple' },
    el('label', {}, 'Post', ui.post),
    el('label', {}, 'Prompt', ui.prompt),
    el('label', {}, 'Negative', ui.negative),
    el(
      'div',
      { class: 'grid' },
      el('label', {}, 'Style', ui.style),
      el('label', {}, 'Format', ui.format),
      el('label', {}, 'Preset', ui.preset),
      el('label', {}, 'Candidates', ui.count),
    ),
    el('div', { class: 'row' }, el('label', {}, 'Seed', ui.seed), ui.randomSeed, ui.generate),
    ui.progress,
    ui.message,
    ui.candidates,
  );
  return { section, ...ui };
}

/** The Advanced tab: ComfyUI's status, start and stop, and ComfyUI's own web UI. */
function buildAdvancedTab() {
  const ui = {
    status: el('dl', { class: 'status', 'data-testid': 'status' }),
    start: el('button', { 'data-testid': 'start' }, 'Start ComfyUI'),
    stop: el('button', { 'data-testid': 'stop' }, 'Stop ComfyUI'),
    refresh: el('button', { 'data-testid': 'refresh' }, 'Refresh'),
    openTab: el('a', { 'data-testid': 'open-tab', target: '_blank', rel: 'noopener' }, 'Open ComfyUI in a new tab'),
    frame: el('iframe', { 'data-testid': 'comfyui-frame', title: 'ComfyUI' }),
    message: el('div', { class: 'message', 'data-testid': 'advanced-message' }),
  };
  const section = el(
    'section',
    { 'data-testid': 'advanced', hidden: '' },
    ui.status,
    el('div', { class: 'row' }, ui.start, ui.stop, ui.refresh, ui.openTab),
    ui.message,
    ui.frame,
  );
  return { section, ...ui };
}

type SimpleTab = ReturnType<typeof buildSimpleTab>;
type AdvancedTab = ReturnType<typeof buildAdvancedTab>;

/** Fills the Simple tab from the server's state: the post, its prompt, the choices, and why it may be read-only. */
function showState(simple: SimpleTab, advanced: AdvancedTab, data: State): void {
  options(simple.post, data.posts, '(choose a post)', data.post ?? undefined);
  options(simple.style, data.styles, '(no style)', data.image?.style);
  options(simple.format, data.formats, `(default: ${data.defaultFormat})`, data.image?.format);
  options(simple.preset, data.presets, '(no preset)', data.image?.preset);
  if (data.image) {
    simple.prompt.value = data.image.prompt;
    simple.negative.value = data.image.negative ?? '';
    simple.seed.value = String(data.image.seed ?? simple.seed.value);
  }
  advanced.openTab.href = data.comfyuiUrl;
  for (const button of [simple.generate, advanced.start, advanced.stop]) {
    button.disabled = data.readOnly !== null;
    if (data.readOnly) button.title = data.readOnly;
  }
  if (data.readOnly) showInfo(simple.message, data.readOnly);
  const pinned = recentPin();
  if (pinned) showInfo(simple.message, pinned);
}

/** Generate, live progress, candidates and "Use this" in the Simple tab. */
function wireSimpleTab(ui: SimpleTab, server: Server, { newId, on }: ReturnType<typeof createRequests>, state: () => State | undefined): void {
  ui.randomSeed.addEventListener('click', () => {
    ui.seed.value = String(Math.floor(Math.random() * 2 ** 32));
  });
  const request = () => ({
    post: ui.post.value,
    prompt: ui.prompt.value,
    negative: ui.negative.value || undefined,
    style: ui.style.value || undefined,
    format: ui.format.value || undefined,
    preset: ui.preset.value || undefined,
    seed: Number(ui.seed.value),
    // The panel has no alt field yet: keep the post's own alt, never carry it to another post.
    alt: state()?.post === ui.post.value ? state()?.image?.alt : undefined,
  });
  let pending = 0;
  ui.generate.addEventListener('click', () => {
    if (!ui.post.value) return showError(ui.message, 'Choose the post the image is for.');
    pending = Math.max(1, Math.min(4, Number(ui.count.value) || 1));
    ui.candidates.replaceChildren();
    showInfo(ui.message, '');
    showInfo(ui.progress, 'Queued…');
    ui.generate.disabled = true;
    server.send(E.generate, { requestId: newId(), ...request(), count: pending });
  });

  const steps = new Map<number, string>();
  on<{ requestId: string; index: number; type: string; value?: number; max?: number; position?: number }>(E.progress, (p) => {
    if (p.type === 'step') steps.set(p.index, `step ${p.value}/${p.max}`);
    else if (p.type === 'queued' && (p.position ?? 0) > 0) steps.set(p.index, `queued (position ${p.position})`);
    else if (p.type === 'started') steps.set(p.index, 'started');
    showInfo(
      ui.progress,
      [...steps]
        .sort(([a], [b]) => a - b)
        .map(([i, s]) => `Candidate ${i + 1}: ${s}`)
        .join('\n'),
    );
  });

  on<{ requestId: string; index: number; key: string; seed: number; url: string; width: number; height: number }>(E.candidate, (c) => {
    const use = el('button', { 'data-testid': `use-${c.index}` }, 'Use this');
    const figure = el(
      'figure',
      { 'data-testid': `candidate-${c.index}`, 'data-seed': String(c.seed) },
      el('img', { src: `${c.url}?t=${Date.now()}`, alt: `Candidate ${c.index + 1} (seed ${c.seed})`, width: String(c.width), height: String(c.height) }),
      el('figcaption', {}, `seed ${c.seed}`),
      use,
    );
    use.addEventListener('click', () => {
      for (const button of ui.candidates.querySelectorAll('button')) button.disabled = true;
      showInfo(ui.message, 'Pinning…');
      server.send(E.pin, { requestId: newId(), ...request(), seed: c.seed, key: c.key });
    });
    const figures = [...ui.candidates.children, figure].sort((a, b) => a.getAttribute('data-testid')!.localeCompare(b.getAttribute('data-testid')!));
    ui.candidates.replaceChildren(...figures);
  });

  on<{ requestId: string }>(E.done, () => {
    ui.generate.disabled = Boolean(state()?.readOnly);
    showInfo(ui.progress, `Done: ${pending} candidate${pending > 1 ? 's' : ''}. Pick one to use it in the post.`);
    steps.clear();
  });

  on<{ requestId: string; post: string; file: string }>(E.pinned, (p) => {
    const text = `Pinned ${p.file} into ${p.post}.`;
    showInfo(ui.message, text);
    // Saving the post makes Astro reload the page; reopen this panel afterwards with the result.
    sessionStorage.setItem(REOPEN, JSON.stringify({ text, at: Date.now(), path: location.pathname }));
    setTimeout(() => location.reload(), 300);
  });

  on<{ requestId: string; message: string }>(E.error, () => {
    ui.generate.disabled = Boolean(state()?.readOnly);
    showInfo(ui.progress, '');
    steps.clear();
  });
}

/** ComfyUI's status, start, stop and refresh in the Advanced tab. */
function wireAdvancedTab(ui: AdvancedTab, server: Server, { newId, on }: ReturnType<typeof createRequests>, state: () => State | undefined): void {
  on<{ requestId: string; endpoints: EndpointStatus[] }>(E.statusResult, ({ endpoints }) => {
    ui.status.replaceChildren(
      ...endpoints.flatMap((e) => [
        el('dt', {}, e.url),
        el(
          'dd',
          { 'data-testid': 'endpoint-state', 'data-state': e.state },
          `${e.state}${e.version ? ` — ComfyUI ${e.version}` : ''}${e.devices.map((d) => ` — ${d.name}, ${(d.vramFree / 2 ** 30).toFixed(1)} of ${(d.vramTotal / 2 ** 30).toFixed(1)} GiB free`).join('')}${e.state === 'running' ? ` — queue ${e.queue}` : ''}`,
        ),
      ]),
    );
    ui.start.disabled = Boolean(state()?.readOnly) || !endpoints.some((e) => e.canStart && e.state !== 'running');
    ui.stop.disabled = Boolean(state()?.readOnly) || !endpoints.some((e) => e.managed && e.state === 'running');
    if (endpoints.some((e) => e.state === 'running') && !ui.section.hidden) ui.frame.src = ui.frame.src || (state()?.comfyuiUrl ?? '');
  });
  ui.start.addEventListener('click', () => {
    showInfo(ui.message, 'Starting ComfyUI…');
    server.send(E.start, { requestId: newId() });
  });
  ui.stop.addEventListener('click', () => server.send(E.stop, { requestId: newId() }));
  ui.refresh.addEventListener('click', () => server.send(E.status, { requestId: newId() }));
}

export default defineToolbarApp({
  init(canvas, app, server) {
    const requests = createRequests(server);
    const simple = buildSimpleTab();
    const advanced = buildAdvancedTab();
    const simpleTab = el('button', { 'data-testid': 'tab-simple', 'aria-selected': 'true' }, 'Simple');
    const advancedTab = el('button', { 'data-testid': 'tab-advanced', 'aria-selected': 'false' }, 'Advanced');
    const win = document.createElement('astro-dev-toolbar-window');
    // The window has a fixed height: the tab contents scroll inside it.
    win.append(el('style', {}, STYLE), el('div', { class: 'tabs' }, simpleTab, advancedTab), el('div', { class: 'body' }, simple.section, advanced.section));
    canvas.append(win);

    let state: State | undefined;
    const selectTab = (tab: 'simple' | 'advanced') => {
      simple.section.hidden = tab !== 'simple';
      advanced.section.hidden = tab !== 'advanced';
      simpleTab.setAttribute('aria-selected', String(tab === 'simple'));
      advancedTab.setAttribute('aria-selected', String(tab === 'advanced'));
      if (tab === 'advanced') {
        // The ComfyUI UI is heavy: load it only when someone looks at it.
        if (state && !advanced.frame.src) advanced.frame.src = state.comfyuiUrl;
        server.send(E.status, { requestId: requests.newId() });
      }
    };
    simpleTab.addEventListener('click', () => selectTab('simple'));
    advancedTab.addEventListener('click', () => selectTab('advanced'));

    requests.on<State & { requestId: string }>(E.state, (data) => {
      state = data;
      showState(simple, advanced, data);
    });
    wireSimpleTab(simple, server, requests, () => state);
    wireAdvancedTab(advanced, server, requests, () => state);
    // An error shows in the tab that is open.
    requests.on<{ requestId: string; message: string }>(E.error, (e) => showError(advanced.section.hidden ? simple.message : advanced.message, e.message));

    server.send(E.init, { requestId: requests.newId(), pathname: location.pathname });
    if (recentPin()) app.toggleState({ state: true });
  },
});
