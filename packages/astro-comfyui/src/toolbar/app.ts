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

export default defineToolbarApp({
  init(canvas, app, server) {
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
    // Answers come back on this tab's own connection; the id ties each answer to the request that asked.
    const on = <T extends { requestId: string }>(event: string, handler: (data: T) => void) =>
      server.on<T>(event, (data) => ids.has(data.requestId) && handler(data));

    const win = document.createElement('astro-dev-toolbar-window');
    const style = el('style', {}, STYLE);
    const simpleTab = el('button', { 'data-testid': 'tab-simple', 'aria-selected': 'true' }, 'Simple');
    const advancedTab = el('button', { 'data-testid': 'tab-advanced', 'aria-selected': 'false' }, 'Advanced');
    const post = el('select', { 'data-testid': 'post' });
    const prompt = el('textarea', { 'data-testid': 'prompt', placeholder: 'a lighthouse at dusk' });
    const negative = el('input', { 'data-testid': 'negative', placeholder: 'what to avoid' });
    const styleSelect = el('select', { 'data-testid': 'style' });
    const format = el('select', { 'data-testid': 'format' });
    const preset = el('select', { 'data-testid': 'preset' });
    const seed = el('input', { 'data-testid': 'seed', type: 'number', min: '0', value: '1' });
    const randomSeed = el('button', { 'data-testid': 'random-seed', type: 'button', title: 'Random seed' }, 'Random');
    const count = el('input', { 'data-testid': 'count', type: 'number', min: '1', max: '4', value: '2' });
    const generate = el('button', { 'data-testid': 'generate' }, 'Generate');
    const progress = el('div', { class: 'message', 'data-testid': 'progress' });
    const message = el('div', { class: 'message', 'data-testid': 'message' });
    const candidates = el('div', { class: 'candidates', 'data-testid': 'candidates' });
    const simple = el(
      'section',
      { 'data-testid': 'simple' },
      el('label', {}, 'Post', post),
      el('label', {}, 'Prompt', prompt),
      el('label', {}, 'Negative', negative),
      el(
        'div',
        { class: 'grid' },
        el('label', {}, 'Style', styleSelect),
        el('label', {}, 'Format', format),
        el('label', {}, 'Preset', preset),
        el('label', {}, 'Candidates', count),
      ),
      el('div', { class: 'row' }, el('label', {}, 'Seed', seed), randomSeed, generate),
      progress,
      message,
      candidates,
    );

    const status = el('dl', { class: 'status', 'data-testid': 'status' });
    const startButton = el('button', { 'data-testid': 'start' }, 'Start ComfyUI');
    const stopButton = el('button', { 'data-testid': 'stop' }, 'Stop ComfyUI');
    const refresh = el('button', { 'data-testid': 'refresh' }, 'Refresh');
    const openTab = el('a', { 'data-testid': 'open-tab', target: '_blank', rel: 'noopener' }, 'Open ComfyUI in a new tab');
    const frame = el('iframe', { 'data-testid': 'comfyui-frame', title: 'ComfyUI' });
    const advancedMessage = el('div', { class: 'message', 'data-testid': 'advanced-message' });
    const advanced = el(
      'section',
      { 'data-testid': 'advanced', hidden: '' },
      status,
      el('div', { class: 'row' }, startButton, stopButton, refresh, openTab),
      advancedMessage,
      frame,
    );

    // The window has a fixed height: the tab contents scroll inside it.
    win.append(style, el('div', { class: 'tabs' }, simpleTab, advancedTab), el('div', { class: 'body' }, simple, advanced));
    canvas.append(win);

    let state: State | undefined;
    const showError = (target: HTMLElement, text: string) => {
      target.textContent = text;
      target.classList.add('error');
    };
    const showInfo = (target: HTMLElement, text: string) => {
      target.textContent = text;
      target.classList.remove('error');
    };

    const selectTab = (tab: 'simple' | 'advanced') => {
      simple.hidden = tab !== 'simple';
      advanced.hidden = tab !== 'advanced';
      simpleTab.setAttribute('aria-selected', String(tab === 'simple'));
      advancedTab.setAttribute('aria-selected', String(tab === 'advanced'));
      if (tab === 'advanced') {
        // The ComfyUI UI is heavy: load it only when someone looks at it.
        if (state && !frame.src) frame.src = state.comfyuiUrl;
        server.send(E.status, { requestId: newId() });
      }
    };
    simpleTab.addEventListener('click', () => selectTab('simple'));
    advancedTab.addEventListener('click', () => selectTab('advanced'));

    on<State & { requestId: string }>(E.state, (data) => {
      state = data;
      options(post, data.posts, '(choose a post)', data.post ?? undefined);
      options(styleSelect, data.styles, '(no style)', data.image?.style);
      options(format, data.formats, `(default: ${data.defaultFormat})`, data.image?.format);
      options(preset, data.presets, '(no preset)', data.image?.preset);
      if (data.image) {
        prompt.value = data.image.prompt;
        negative.value = data.image.negative ?? '';
        seed.value = String(data.image.seed ?? seed.value);
      }
      openTab.href = data.comfyuiUrl;
      for (const button of [generate, startButton, stopButton]) {
        button.disabled = data.readOnly !== null;
        if (data.readOnly) button.title = data.readOnly;
      }
      if (data.readOnly) showInfo(message, data.readOnly);
      const pinned = recentPin();
      if (pinned) showInfo(message, pinned);
    });

    randomSeed.addEventListener('click', () => {
      seed.value = String(Math.floor(Math.random() * 2 ** 32));
    });

    const request = () => ({
      post: post.value,
      prompt: prompt.value,
      negative: negative.value || undefined,
      style: styleSelect.value || undefined,
      format: format.value || undefined,
      preset: preset.value || undefined,
      seed: Number(seed.value),
    });

    let current: string | null = null;
    let pending = 0;
    generate.addEventListener('click', () => {
      if (!post.value) return showError(message, 'Choose the post the image is for.');
      current = newId();
      pending = Math.max(1, Math.min(4, Number(count.value) || 1));
      candidates.replaceChildren();
      showInfo(message, '');
      showInfo(progress, 'Queued…');
      generate.disabled = true;
      server.send(E.generate, { requestId: current, ...request(), count: pending });
    });

    const steps = new Map<number, string>();
    on<{ requestId: string; index: number; type: string; value?: number; max?: number; position?: number }>(E.progress, (p) => {
      if (p.type === 'step') steps.set(p.index, `step ${p.value}/${p.max}`);
      else if (p.type === 'queued' && (p.position ?? 0) > 0) steps.set(p.index, `queued (position ${p.position})`);
      else if (p.type === 'started') steps.set(p.index, 'started');
      showInfo(
        progress,
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
        const id = newId();
        for (const button of candidates.querySelectorAll('button')) button.disabled = true;
        showInfo(message, 'Pinning…');
        server.send(E.pin, { requestId: id, ...request(), seed: c.seed, key: c.key });
      });
      const figures = [...candidates.children, figure].sort((a, b) => a.getAttribute('data-testid')!.localeCompare(b.getAttribute('data-testid')!));
      candidates.replaceChildren(...figures);
    });

    on<{ requestId: string }>(E.done, () => {
      generate.disabled = Boolean(state?.readOnly);
      showInfo(progress, `Done: ${pending} candidate${pending > 1 ? 's' : ''}. Pick one to use it in the post.`);
      steps.clear();
    });

    on<{ requestId: string; post: string; file: string }>(E.pinned, (p) => {
      const text = `Pinned ${p.file} into ${p.post}.`;
      showInfo(message, text);
      // Saving the post makes Astro reload the page; reopen this panel afterwards with the result.
      sessionStorage.setItem(REOPEN, JSON.stringify({ text, at: Date.now(), path: location.pathname }));
      setTimeout(() => location.reload(), 300);
    });

    on<{ requestId: string; message: string }>(E.error, (e) => {
      generate.disabled = Boolean(state?.readOnly);
      showInfo(progress, '');
      steps.clear();
      showError(advanced.hidden ? message : advancedMessage, e.message);
    });

    on<{ requestId: string; endpoints: EndpointStatus[] }>(E.statusResult, ({ endpoints }) => {
      status.replaceChildren(
        ...endpoints.flatMap((e) => [
          el('dt', {}, e.url),
          el(
            'dd',
            { 'data-testid': 'endpoint-state', 'data-state': e.state },
            `${e.state}${e.version ? ` — ComfyUI ${e.version}` : ''}${e.devices.map((d) => ` — ${d.name}, ${(d.vramFree / 2 ** 30).toFixed(1)} of ${(d.vramTotal / 2 ** 30).toFixed(1)} GiB free`).join('')}${e.state === 'running' ? ` — queue ${e.queue}` : ''}`,
          ),
        ]),
      );
      startButton.disabled = Boolean(state?.readOnly) || !endpoints.some((e) => e.canStart && e.state !== 'running');
      stopButton.disabled = Boolean(state?.readOnly) || !endpoints.some((e) => e.managed && e.state === 'running');
      if (endpoints.some((e) => e.state === 'running') && !advanced.hidden) frame.src = frame.src || (state?.comfyuiUrl ?? '');
    });
    startButton.addEventListener('click', () => {
      showInfo(advancedMessage, 'Starting ComfyUI…');
      server.send(E.start, { requestId: newId() });
    });
    stopButton.addEventListener('click', () => server.send(E.stop, { requestId: newId() }));
    refresh.addEventListener('click', () => server.send(E.status, { requestId: newId() }));

    server.send(E.init, { requestId: newId(), pathname: location.pathname });
    if (recentPin()) app.toggleState({ state: true });
  },
});
