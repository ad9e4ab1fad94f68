// Runs in the browser: the Simple tab, an image studio for one post.
import {
  button,
  el,
  fillSelect,
  isDisabled,
  type PanelImage,
  type PanelState,
  type Requests,
  type Server,
  select,
  setDisabled,
  showError,
  showInfo,
} from './app-dom.js';
import { PROMPT_LIMITS } from '../prompt-limits.js';
import { EVENTS } from './toolbar-events.js';

const E = EVENTS;
const REOPEN = 'astro-comfyui:reopen';
const MAX_CANDIDATES = 4;

export interface Candidate {
  requestId: string;
  index: number;
  key: string;
  seed: number;
  url: string;
  width: number;
  height: number;
  settings: { style: string | null; format: string; preset: string | null };
  workflow: Record<string, unknown>;
}

/** Loads a graph into ComfyUI's own UI in the Advanced tab. */
export type OpenInComfyUI = (workflow: Record<string, unknown>, name: string) => void;

/**
 * The result of a pin made on this page in the last seconds. Saving the post can reload the page more than once
 * (Astro's content reload and ours), so the note survives a few reloads and then expires.
 */
export function recentPin(): string | undefined {
  try {
    const saved = JSON.parse(sessionStorage.getItem(REOPEN) ?? 'null') as { text: string; at: number; path: string } | null;
    return saved && saved.path === location.pathname && Date.now() - saved.at < 15_000 ? saved.text : undefined;
  } catch {
    return undefined;
  }
}

export function buildSimpleTab() {
  const ui = {
    problems: el('astro-dev-toolbar-card', { 'card-style': 'red', class: 'problems', 'data-testid': 'problems', hidden: '' }),
    post: select('post', 'Post'),
    target: select('target', 'Image'),
    current: el('figure', { class: 'current', 'data-testid': 'current' }),
    // No maxlength: a browser cuts a pasted text at it without a word; Generate says what is too long.
    prompt: el('textarea', { 'data-testid': 'prompt', placeholder: 'a lighthouse at dusk' }),
    negative: el('input', { 'data-testid': 'negative', placeholder: 'what to avoid' }),
    alt: el('input', {
      'data-testid': 'alt',
      placeholder: 'what the image shows, for readers who cannot see it',
      'aria-describedby': 'astro-comfyui-alt-hint',
    }),
    altHint: el('span', { class: 'hint', id: 'astro-comfyui-alt-hint', 'data-testid': 'alt-hint' }),
    style: select('style', 'Style'),
    format: select('format', 'Format'),
    preset: select('preset', 'Preset'),
    seed: el('input', { 'data-testid': 'seed', type: 'number', min: '0', step: '1' }),
    randomSeed: button('random-seed', 'Random seed', 'outline'),
    count: el('input', { 'data-testid': 'count', type: 'number', min: '1', max: String(MAX_CANDIDATES), value: '2' }),
    generate: button('generate', 'Generate', 'purple'),
    generateWhy: el('span', { class: 'hint', 'data-testid': 'generate-why' }),
    // Each sampler step shows here; a screen reader is told only of each candidate made (`announce`).
    progress: el('div', { class: 'message', 'data-testid': 'progress' }),
    announce: el('div', { class: 'visually-hidden', role: 'status', 'data-testid': 'announce' }),
    message: el('div', { class: 'message', role: 'status', 'data-testid': 'message' }),
    candidates: el('div', { class: 'candidates', 'data-testid': 'candidates' }),
  };
  const section = el(
    'section',
    { 'data-testid': 'simple' },
    ui.problems,
    el(
      'div',
      { class: 'studio' },
      el(
        'div',
        { class: 'fields' },
        el('div', { class: 'grid pair' }, el('label', {}, 'Post', ui.post), el('label', {}, 'Image', ui.target)),
        el('label', {}, 'Prompt', ui.prompt),
        el('label', {}, 'Negative prompt', ui.negative),
        // The hint is outside the label, which names the field: it is the field's description.
        el('div', { class: 'fields' }, el('label', {}, 'Alt text', ui.alt), ui.altHint),
        el('div', { class: 'grid' }, el('label', {}, 'Style', ui.style), el('label', {}, 'Format', ui.format), el('label', {}, 'Preset', ui.preset)),
        el(
          'div',
          { class: 'grid' },
          el('label', {}, 'Seed', ui.seed),
          el('label', {}, `Candidates (1–${MAX_CANDIDATES})`, ui.count),
          el('div', {}, ui.randomSeed),
        ),
        el('div', { class: 'row' }, ui.generate, ui.generateWhy),
        ui.progress,
        ui.announce,
        ui.message,
      ),
      el('div', {}, ui.current, ui.candidates),
    ),
  );
  return { section, ...ui };
}

export type SimpleTab = ReturnType<typeof buildSimpleTab>;

/** The post's current image for the chosen target: the committed file, or what is missing. */
function showCurrent(ui: SimpleTab, image: PanelImage | undefined, open: OpenInComfyUI, data: PanelState): void {
  if (!image) {
    ui.current.replaceChildren(el('figcaption', {}, 'This post has no image yet: write a prompt and generate candidates.'));
    return;
  }
  const style = { ready: 'green', placeholder: 'yellow', missing: 'red' }[image.state];
  const badge = el('astro-dev-toolbar-badge', { 'badge-style': style, size: 'small', 'data-testid': 'current-state' }, image.state);
  const openButton = button('open-current', openLabel(data), 'outline', '(the image now in the post)');
  openButton.addEventListener('click', () => open(image.workflow, image.file));
  ui.current.replaceChildren(
    ...(image.url ? [el('img', { src: image.url, alt: image.alt ?? '', width: String(image.width), height: String(image.height) })] : []),
    el('figcaption', {}, 'Now in the post ', badge, `${image.width}×${image.height} · seed ${image.seed}`, openButton),
    // A committed image was replaced by a change of the post or of the options: say which, while it is made.
    ...(image.changes
      ? [el('div', { class: 'hint', 'data-testid': 'current-changes' }, `Changed since its committed image: ${image.changes.join(', ')}.`)]
      : []),
  );
}

/** Fills the tab from the server's state: the post, its images and problems, and why it may be read-only. */
export function showSimpleState(ui: SimpleTab, data: PanelState, open: OpenInComfyUI): void {
  fillSelect(ui.post, data.posts, '(choose a post)', data.post ?? undefined);
  const targets = data.images.length > 0 ? data.images.map((i) => i.target) : [data.newTarget];
  fillSelect(
    ui.target,
    targets.map((t) => [t, data.images.some((i) => i.target === t) ? t : `${t} (new)`]),
    null,
  );
  fillSelect(ui.style, data.styles, '(no style)');
  fillSelect(ui.format, data.formats, `(default: ${data.defaultFormat})`);
  fillSelect(ui.preset, data.presets, '(no preset)');
  showTarget(ui, data, open);
  ui.problems.hidden = data.problems.length === 0;
  ui.problems.replaceChildren(
    el('strong', {}, `${data.problems.length === 1 ? 'A problem' : `${data.problems.length} problems`} in this post's frontmatter`),
    el('ul', {}, ...data.problems.map((p) => el('li', {}, `${p.field} ${p.message}`))),
  );
  setDisabled(ui.generate, data.readOnly, ui.generateWhy);
  if (data.readOnly) showInfo(ui.message, data.readOnly);
  const pinned = recentPin();
  if (pinned) showInfo(ui.message, pinned);
}

/** The fields of the chosen target's image, or empty ones for a new image. */
function showTarget(ui: SimpleTab, data: PanelState, open: OpenInComfyUI): void {
  const image = chosenImage(ui, data);
  ui.prompt.value = image?.prompt ?? '';
  ui.negative.value = image?.negative ?? '';
  ui.alt.value = image?.alt ?? '';
  ui.style.element.value = image?.style ?? '';
  ui.format.element.value = image?.format ?? '';
  ui.preset.element.value = image?.preset ?? '';
  ui.seed.value = image ? String(image.seed) : String(Math.floor(Math.random() * 2 ** 32));
  showCurrent(ui, image, open, data);
  checkAlt(ui, data);
}

/** The post's image that the Image menu has chosen; undefined for a new one. */
const chosenImage = (ui: SimpleTab, data: PanelState | undefined) => data?.images.find((i) => i.target === ui.target.element.value);

/**
 * An alt text written for the image's prompt, kept while the prompt is changed, would describe the old
 * picture to the readers who cannot see the new one: say so next to it until either changes.
 */
function checkAlt(ui: SimpleTab, data: PanelState | undefined): void {
  const image = chosenImage(ui, data);
  const stale = Boolean(image?.alt) && ui.alt.value === image!.alt && ui.prompt.value.trim() !== image!.prompt;
  ui.altHint.textContent = stale ? 'The prompt changed since this alt text was written: check that it still describes the new image.' : '';
}

/** What a graph's button does: open it in the relayed UI, or download it when `toolbar.comfyuiUI` is false. */
const openLabel = (data: PanelState | undefined) => (data?.comfyuiUI === false ? 'Download graph' : 'Open in ComfyUI');

/** Generate, live progress, candidates, "Use this" and "Open in ComfyUI" in the Simple tab. */
export function wireSimpleTab(
  ui: SimpleTab,
  server: Server,
  { newId, on, newStateId }: Requests,
  state: () => PanelState | undefined,
  open: OpenInComfyUI,
): void {
  ui.post.element.addEventListener('change', () => {
    // Another post: its own prompt and images, never the previous post's.
    ui.candidates.replaceChildren();
    showInfo(ui.message, '');
    if (ui.post.element.value) server.send(E.init, { requestId: newStateId(), pathname: location.pathname, post: ui.post.element.value });
  });
  ui.target.element.addEventListener('change', () => {
    const data = state();
    if (data) showTarget(ui, data, open);
    ui.candidates.replaceChildren();
  });
  for (const field of [ui.prompt, ui.alt]) field.addEventListener('input', () => checkAlt(ui, state()));
  ui.randomSeed.addEventListener('click', () => {
    ui.seed.value = String(Math.floor(Math.random() * 2 ** 32));
  });
  const request = () => ({
    post: ui.post.element.value,
    target: ui.target.element.value,
    prompt: ui.prompt.value,
    negative: ui.negative.value || undefined,
    alt: ui.alt.value || undefined,
    style: ui.style.element.value || undefined,
    format: ui.format.element.value || undefined,
    preset: ui.preset.element.value || undefined,
    seed: Number(ui.seed.value),
  });
  let pending = 0;
  ui.generate.addEventListener('click', () => {
    if (isDisabled(ui.generate)) return;
    if (!ui.post.element.value) return showError(ui.message, 'Choose the post the image is for.');
    const count = Number(ui.count.value);
    if (!Number.isInteger(count) || count < 1 || count > MAX_CANDIDATES) {
      return showError(ui.message, `Candidates must be a whole number from 1 to ${MAX_CANDIDATES}; got ${ui.count.value || 'nothing'}.`);
    }
    const seed = Number(ui.seed.value);
    // The candidates take the seeds from this one up, and each must be one a post can hold.
    const highest = Number.MAX_SAFE_INTEGER - (count - 1);
    if (ui.seed.value === '' || !Number.isSafeInteger(seed) || seed < 0 || seed > highest) {
      const candidates = count > 1 ? ` (the ${count} candidates take the seeds from it up)` : '';
      return showError(ui.message, `Seed must be a whole number from 0 to ${highest}${candidates}; got ${ui.seed.value || 'nothing'}.`);
    }
    if (!ui.prompt.value.trim()) return showError(ui.message, 'Write the prompt first: what the image shows.');
    const tooLong = findTooLongField(ui);
    if (tooLong) return showError(ui.message, tooLong);
    pending = count;
    ui.candidates.replaceChildren();
    showInfo(ui.message, '');
    showInfo(ui.progress, 'Queued…');
    showInfo(ui.announce, `Generating ${count} candidate${count > 1 ? 's' : ''}…`);
    setDisabled(ui.generate, 'Generating…', ui.generateWhy);
    server.send(E.generate, { requestId: newId(), ...request(), count });
  });

  const steps = new Map<number, string>();
  on<{ requestId: string; index: number; type: string; value?: number; max?: number; position?: number; phase?: string }>(E.progress, (p) => {
    if (p.type === 'step') steps.set(p.index, `step ${p.value}/${p.max}`);
    // Loading the model files, decoding…: the stretches without steps say what runs.
    else if (p.type === 'executing' && typeof p.phase === 'string') steps.set(p.index, p.phase.slice(0, 120));
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

  on<Candidate>(E.candidate, (c) => {
    const { style, format, preset } = c.settings;
    const which = `(candidate ${c.index + 1}, seed ${c.seed})`;
    const use = button(`use-${c.index}`, 'Use this', 'green', which);
    const openButton = button(`open-${c.index}`, openLabel(state()), 'outline', which);
    const figure = el(
      'figure',
      { class: 'candidate', 'data-testid': `candidate-${c.index}`, 'data-seed': String(c.seed) },
      el('img', { src: `${c.url}?t=${Date.now()}`, alt: `Candidate ${c.index + 1} (seed ${c.seed})`, width: String(c.width), height: String(c.height) }),
      el('figcaption', {}, [`seed ${c.seed}`, format, style, preset, `${c.width}×${c.height}`].filter(Boolean).join(' · ')),
      el('div', { class: 'actions' }, use, openButton),
    );
    use.addEventListener('click', () => {
      if (isDisabled(use)) return;
      for (const other of ui.candidates.querySelectorAll<HTMLElement>('[data-testid^="use-"]')) setDisabled(other, 'Pinning…');
      showInfo(ui.message, 'Pinning…');
      server.send(E.pin, { requestId: newId(), ...request(), seed: c.seed, key: c.key });
    });
    openButton.addEventListener('click', () => open(c.workflow, `candidate-seed-${c.seed}`));
    const figures = [...ui.candidates.children, figure].sort((a, b) => a.getAttribute('data-testid')!.localeCompare(b.getAttribute('data-testid')!));
    ui.candidates.replaceChildren(...figures);
    showInfo(ui.announce, `${figures.length} of ${pending} candidate${pending > 1 ? 's' : ''} ready.`);
  });

  on<{ requestId: string }>(E.done, () => {
    setDisabled(ui.generate, state()?.readOnly ?? null, ui.generateWhy);
    showInfo(ui.progress, `Done: ${pending} candidate${pending > 1 ? 's' : ''}. Pick one to use it in the post.`);
    showInfo(ui.announce, ui.progress.textContent ?? '');
    steps.clear();
  });

  on<{ requestId: string; post: string; target: string; file: string }>(E.pinned, (p) => {
    const text = `Pinned ${p.file} into ${p.post} (${p.target}).`;
    showInfo(ui.message, text);
    // Saving the post makes Astro reload the page; reopen this panel afterwards with the result.
    sessionStorage.setItem(REOPEN, JSON.stringify({ text, at: Date.now(), path: location.pathname }));
    setTimeout(() => location.reload(), 300);
  });

  on<{ requestId: string; message: string }>(E.error, () => {
    setDisabled(ui.generate, state()?.readOnly ?? null, ui.generateWhy);
    for (const use of ui.candidates.querySelectorAll<HTMLElement>('[data-testid^="use-"]')) setDisabled(use, null);
    showInfo(ui.progress, '');
    showInfo(ui.announce, '');
    steps.clear();
  });
}

/** The first field longer than a post's frontmatter may hold it, said with both lengths; undefined if none is. */
function findTooLongField(ui: SimpleTab): string | undefined {
  const fields = [
    ['Prompt', ui.prompt.value.trim(), PROMPT_LIMITS.text],
    ['Negative prompt', ui.negative.value, PROMPT_LIMITS.text],
    ['Alt text', ui.alt.value, PROMPT_LIMITS.alt],
  ] as const;
  for (const [name, value, limit] of fields) {
    if (value.length > limit) return `${name} has ${value.length} characters; a post's frontmatter takes at most ${limit}. Shorten it.`;
  }
  return undefined;
}
