import { chmod, lstat, mkdir, readdir, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeComfyUI, type FakeComfyUI } from '../fake-comfyui/fake-comfyui.js';
import { comfyuiFrontendDirectory, NEWEST_FRONTEND, RECORDED_FRONTEND } from '../helpers/comfyui-frontend.js';
import { fakeStartCommand } from '../helpers/fake-launcher.js';
import { copyFixture, replaceInFile, replaceOnce, startAstroDev, waitUntil } from '../helpers/fixture-site.js';
import { findFreePort } from '../helpers/find-free-port.js';
import { holdToolbarAnswers } from '../helpers/hold-toolbar-answers.js';
import { launchChromium } from '../helpers/launch-chromium.js';
import { findAppButton, openToolbarApp } from '../helpers/open-toolbar-app.js';
import { waitForChange } from '../helpers/wait-for-change.js';
import { connectViteHmr } from '../helpers/vite-hmr-client.js';

// Screenshots for the README land in docs/ when UPDATE_SCREENSHOTS=1, otherwise in .tmp/.
const screenshots = fileURLToPath(new URL(process.env.UPDATE_SCREENSHOTS ? '../../docs/' : '../../.tmp/screenshots/', import.meta.url));
let fake: FakeComfyUI;
let site: Awaited<ReturnType<typeof copyFixture>>;
let dev: Awaited<ReturnType<typeof startAstroDev>>;
let browser: Browser;
let page: Page;

const post = (name: string) => path.join(site.root, 'src/content/blog', name);

beforeAll(async () => {
  await mkdir(screenshots, { recursive: true });
  fake = await startFakeComfyUI({ stepDelayMs: 40, frontendDirectory: comfyuiFrontendDirectory() });
  site = await copyFixture('blog');
  // Two translations of one post: same file name, different folders.
  await mkdir(post('en'), { recursive: true });
  await mkdir(post('fr'), { recursive: true });
  await writeFile(post('en/harbour.md'), '---\ntitle: Harbour\nimage: "an English harbour at noon"\n---\nThe harbour.\n');
  await writeFile(post('fr/harbour.md'), '---\ntitle: Le port\nimage: "un port breton au matin"\n---\nLe port.\n');
  // A post kept outside the content folder behind a symlink, with a quoted key and its own file mode; and
  // one whose image value is an anchor used elsewhere.
  await mkdir(path.join(site.root, 'drafts'));
  await writeFile(path.join(site.root, 'drafts/kite.md'), '---\ntitle: Kite\n"image": "a red kite over a beach"\n---\nWind.\n');
  await chmod(path.join(site.root, 'drafts/kite.md'), 0o640);
  await symlink('../../../drafts/kite.md', post('kite.md'));
  await writeFile(post('anchored.md'), '---\ntitle: Anchored\nimage: &cover "a paper boat"\nsocial: *cover\n---\nBoat.\n');
  // A post whose frontmatter slug, not its file name, is its id: its page is /sea-wall/.
  await writeFile(post('2024-05-01-wall.md'), '---\ntitle: Sea wall\nslug: sea-wall\nimage: "a sea wall in a storm"\n---\nWaves.\n');
  dev = await startAstroDev(site.root, await findFreePort(), { COMFYUI_URL: fake.url });
  // Let the initial background generation (which reloads open pages) finish first.
  await waitUntil(async () => (dev.output.join('').includes('[9/9]') ? true : undefined), 60_000, 'the initial generation');
  browser = await launchChromium();
}, 120_000);

// A fresh tab per test: a reload still pending in the previous one cannot abort this one's navigation.
beforeEach(async () => {
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
});
afterEach(async () => {
  await page?.close();
});

afterAll(async () => {
  await browser?.close();
  await dev?.stop();
  await fake?.close();
  await site?.cleanup();
});

const openApp = (tab: Page = page) => openToolbarApp(tab);

async function generate(count: number) {
  await page.getByTestId('count').fill(String(count));
  await page.getByTestId('generate').click();
  for (let i = 0; i < count; i++) await page.getByTestId(`candidate-${i}`).waitFor({ timeout: 30_000 });
}

/**
 * Clicks "Use this" and waits for the file to change and for the reloads that saving a post causes (the
 * panel's and Astro's) to be over, so none lands in the next step.
 */
async function pin(index: number, file: string) {
  const origin = () => page.evaluate(() => performance.timeOrigin).catch(() => 0);
  const loadedAt = await origin();
  const before = await readFile(file, 'utf8');
  await page.getByTestId(`use-${index}`).click();
  const result = await waitForChange(file, before);
  await expect.poll(origin, { timeout: 20_000 }).not.toBe(loadedAt);
  let last = await origin();
  let stableSince = Date.now();
  while (Date.now() - stableSince < 1500) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const now = await origin();
    if (now !== last) [last, stableSince] = [now, Date.now()];
  }
  return result;
}

/** What the tests read of ComfyUI's own UI (frontend 1.x): its app, graph and workspace store. */
interface ComfyUIWindow {
  app?: {
    graph?: { _nodes: Array<{ type: string; widgets?: Array<{ name: string; value: unknown }> }> };
    extensionManager?: { workflow?: { activeWorkflow?: unknown } };
  };
}

/** The seed of the KSampler in the graph that ComfyUI's UI shows, in its page or frame. */
const seedShownIn = (target: Page | Frame) =>
  target.evaluate(
    () => (window as unknown as ComfyUIWindow).app?.graph?._nodes.find((n) => n.type === 'KSampler')?.widgets?.find((w) => w.name === 'seed')?.value,
  );

/** The frame of ComfyUI's own UI in the Advanced tab. */
async function comfyuiFrame(): Promise<Frame> {
  return waitUntil(async () => page.frames().find((f) => f.url().includes('/_astro-comfyui/comfyui/0/')), 20_000, "ComfyUI's frame");
}

describe('the ComfyUI dev toolbar app', () => {
  it("shows the page's image with all its fields, generates undistorted candidates and pins one, with the alt typed in the panel", async () => {
    await page.goto(`${dev.url}/lighthouse/`);
    await openApp();
    await expect.poll(() => page.getByTestId('post').inputValue()).toBe('src/content/blog/lighthouse.md');
    expect(await page.getByTestId('target').inputValue()).toBe('image');
    expect(await page.getByTestId('prompt').inputValue()).toBe('a lighthouse at dusk');
    expect(await page.getByTestId('alt').inputValue()).toBe('A lighthouse at dusk');
    expect(await page.getByTestId('seed').inputValue()).toBe('7');
    expect(await page.getByTestId('style').inputValue()).toBe('watercolor');
    expect(await page.getByTestId('format').inputValue()).toBe('hero');
    expect(await page.getByTestId('current-state').textContent()).toBe('ready');
    expect(
      await page
        .getByTestId('current')
        .locator('img')
        .evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth),
    ).toBe(256);
    expect(await page.getByTestId('badge').textContent()).toBe('images ready');

    await page.getByTestId('prompt').fill('a lighthouse in a storm, "huge" waves 🌊');
    // The alt text written for the old prompt would describe another picture: the field says so.
    const altHint = 'The prompt changed since this alt text was written: check that it still describes the new image.';
    const altField = page.getByRole('textbox', { name: 'Alt text', exact: true });
    expect(await page.getByTestId('alt-hint').textContent()).toBe(altHint);
    // A screen reader says it with the field (its description).
    expect(await altField.getAttribute('aria-describedby')).toBe(await page.getByTestId('alt-hint').getAttribute('id'));
    await page.getByTestId('alt').fill('A lighthouse in a storm');
    expect(await page.getByTestId('alt-hint').textContent()).toBe('');
    await page.getByTestId('style').selectOption('ink');
    await page.getByTestId('random-seed').click();
    expect(Number(await page.getByTestId('seed').inputValue())).toBeGreaterThanOrEqual(0);
    await page.getByTestId('seed').fill('40');
    await page.getByTestId('count').fill('2');
    await page.getByTestId('generate').click();
    await expect.poll(() => page.getByTestId('progress').textContent(), { timeout: 20_000 }).toMatch(/Candidate \d: step \d+\/4/);
    await page.getByTestId('candidate-1').waitFor({ timeout: 30_000 });
    await page.getByTestId('candidate-0').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('candidate-1').getAttribute('data-seed')).toBe('41');
    expect(await page.getByTestId('candidate-1').locator('figcaption').textContent()).toBe('seed 41 · hero · ink · 256×144');

    // A wide candidate keeps its shape, and its "Use this" stays in view.
    const preview = page.getByTestId('candidate-1').locator('img');
    await expect.poll(() => preview.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(256);
    const box = (await preview.boundingBox())!;
    expect(box.width / box.height).toBeCloseTo(256 / 144, 1);
    const use = (await page.getByTestId('use-1').boundingBox())!;
    expect(use.y + use.height).toBeLessThanOrEqual(900);
    expect(await page.getByTestId('use-1').isVisible()).toBe(true);
    await page.screenshot({ path: path.join(screenshots, 'toolbar-simple.png') });

    const before = await readFile(post('lighthouse.md'), 'utf8');
    const loadedAt = await page.evaluate(() => performance.timeOrigin);
    await page.getByTestId('use-1').click();
    await expect.poll(() => page.getByTestId('message').textContent(), { timeout: 20_000 }).toMatch(/^Pinned /);
    const after = await waitForChange(post('lighthouse.md'), before);
    expect(after.data.image).toEqual({
      prompt: 'a lighthouse in a storm, "huge" waves 🌊',
      style: 'ink',
      format: 'hero',
      seed: 41,
      alt: 'A lighthouse in a storm',
    });
    // Everything but the image line is unchanged.
    const withoutImage = (text: string) =>
      text
        .split('\n')
        .filter((line) => !line.startsWith('image:'))
        .join('\n');
    expect(withoutImage(after.text)).toBe(withoutImage(before));

    // The page shows the pinned image, and the panel is open again after Astro's reload.
    const manifest = JSON.parse(await readFile(path.join(site.root, 'src/assets/generated/images.lock.json'), 'utf8'));
    const pinned = Object.values(manifest.images).find((e) => (e as { seed: number }).seed === 41) as { file: string };
    await expect.poll(async () => (await page.content()).includes(encodeURIComponent(pinned.file)), { timeout: 20_000 }).toBe(true);
    await expect.poll(() => page.evaluate(() => performance.timeOrigin).catch(() => loadedAt), { timeout: 20_000 }).not.toBe(loadedAt);
    await page.waitForLoadState('load');
    const message = () =>
      page
        .getByTestId('message')
        .textContent()
        .catch(() => '');
    await expect.poll(message, { timeout: 20_000 }).toContain(`Pinned ${pinned.file}`);
    // Astro's own reload for the saved post can come after ours: the panel reopens after each.
    const visible = () =>
      page
        .getByTestId('prompt')
        .isVisible()
        .catch(() => false);
    await expect.poll(visible, { timeout: 20_000 }).toBe(true);
  });

  it("shows the chosen post's own prompt, and pins into that post only", async () => {
    await page.goto(`${dev.url}/lighthouse/`);
    await openApp();
    await expect.poll(() => page.getByTestId('post').inputValue()).toBe('src/content/blog/lighthouse.md');
    await page.getByTestId('post').selectOption('src/content/blog/harbour.md');
    await expect.poll(() => page.getByTestId('prompt').inputValue()).toBe('a small harbour with fishing boats');
    expect(await page.getByTestId('alt').inputValue()).toBe('');
    expect(await page.getByTestId('style').inputValue()).toBe('');
    expect(await page.getByTestId('format').inputValue()).toBe('');
    const seed = Number(await page.getByTestId('seed').inputValue());
    expect(Number.isSafeInteger(seed)).toBe(true);

    const lighthouse = await readFile(post('lighthouse.md'), 'utf8');
    await generate(1);
    const after = await pin(0, post('harbour.md'));
    expect(after.data.image).toEqual({ prompt: 'a small harbour with fishing boats', seed });
    expect(await readFile(post('lighthouse.md'), 'utf8')).toBe(lighthouse);
  });

  it('shows the post chosen last, though the answer for the one chosen before comes after it', async () => {
    const answers = await holdToolbarAnswers<{ post: string | null }>(page, dev.url, 'astro-comfyui:state');
    await page.goto(`${dev.url}/lighthouse/`);
    await openApp();
    await expect.poll(() => page.getByTestId('post').inputValue()).toBe('src/content/blog/lighthouse.md');
    answers.holding = true;
    const answerFor = (name: string) =>
      waitUntil(async () => answers.held.find((m) => m.data.post === `src/content/blog/${name}`), 15_000, `the answer for ${name}`);
    await page.getByTestId('post').selectOption('src/content/blog/harbour.md');
    const harbour = await answerFor('harbour.md');
    await page.getByTestId('post').selectOption('src/content/blog/gallery.md');
    const gallery = await answerFor('gallery.md');
    answers.holding = false;
    gallery.deliver();
    harbour.deliver();
    await expect.poll(() => page.getByTestId('prompt').inputValue()).toBe('a red fox in snow');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await page.getByTestId('post').inputValue()).toBe('src/content/blog/gallery.md');
    expect(await page.getByTestId('prompt').inputValue()).toBe('a red fox in snow');
  });

  it('pins into the chosen item of a post that has only an images list, never a new image field', async () => {
    await page.goto(`${dev.url}/gallery/`);
    await openApp();
    await expect.poll(() => page.getByTestId('post').inputValue()).toBe('src/content/blog/gallery.md');
    expect(await page.getByTestId('target').locator('option').allTextContents()).toEqual(['images[0]', 'images[1]']);
    expect(await page.getByTestId('prompt').inputValue()).toBe('a red fox in snow');
    expect(await page.getByTestId('preset').inputValue()).toBe('cover');
    await page.getByTestId('target').selectOption('images[1]');
    expect(await page.getByTestId('prompt').inputValue()).toBe('an owl on a branch');
    expect(await page.getByTestId('alt').inputValue()).toBe('An owl');
    expect(await page.getByTestId('format').inputValue()).toBe('square');

    await page.getByTestId('seed').fill('5');
    await generate(1);
    const after = await pin(0, post('gallery.md'));
    expect(after.data.image).toBeUndefined();
    expect(after.data.images).toEqual([
      { prompt: 'a red fox in snow', preset: 'cover' },
      { prompt: 'an owl on a branch', format: 'square', seed: 5, alt: 'An owl' },
    ]);
    expect(after.text).toContain('  - { prompt: "a red fox in snow", preset: cover }\n');
  });

  it('refuses to break an anchor, and rewrites a quoted key in place through a symlink, keeping the file mode', async () => {
    // The refusal first: it changes no file, so no reload can interrupt the next step.
    const anchored = await readFile(post('anchored.md'), 'utf8');
    await page.goto(`${dev.url}/anchored/`);
    await openApp();
    await expect.poll(() => page.getByTestId('post').inputValue()).toBe('src/content/blog/anchored.md');
    await generate(1);
    const manifest = await readFile(path.join(site.root, 'src/assets/generated/images.lock.json'), 'utf8');
    await page.getByTestId('use-0').click();
    await expect.poll(() => page.getByTestId('message').textContent(), { timeout: 15_000 }).toMatch(/was left unchanged: .*(invalid|also change "social")/);
    // With the line to write by hand.
    expect(await page.getByTestId('message').textContent()).toMatch(/\nWrite the image field by hand: image: \{ prompt: "a paper boat", .*seed: \d+.* \}$/);
    expect(await page.getByTestId('message').getAttribute('class')).toContain('error');
    expect(await readFile(post('anchored.md'), 'utf8')).toBe(anchored);
    // Nothing was committed for a pin the post refused.
    expect(await readFile(path.join(site.root, 'src/assets/generated/images.lock.json'), 'utf8')).toBe(manifest);

    const kite = path.join(site.root, 'drafts/kite.md');
    await page.goto(`${dev.url}/kite/`);
    await openApp();
    await expect.poll(() => page.getByTestId('post').inputValue()).toBe('src/content/blog/kite.md');
    await page.getByTestId('seed').fill('3');
    await generate(1);
    const after = await pin(0, kite);
    expect(after.text).toBe('---\ntitle: Kite\n"image": { prompt: "a red kite over a beach", seed: 3 }\n---\nWind.\n');
    expect((await lstat(post('kite.md'))).isSymbolicLink()).toBe(true);
    expect((await stat(kite)).mode & 0o777).toBe(0o640);
  });

  it("preselects the page's post by its whole path: /fr/harbour/ is fr/harbour.md", async () => {
    for (const lang of ['fr', 'en']) {
      await page.goto(`${dev.url}/${lang}/harbour/`);
      await openApp();
      await expect.poll(() => page.getByTestId('post').inputValue()).toBe(`src/content/blog/${lang}/harbour.md`);
      expect(await page.getByTestId('prompt').inputValue()).toBe(lang === 'fr' ? 'un port breton au matin' : 'an English harbour at noon');
    }
  });

  it('preselects the post of a page named by its frontmatter slug: /sea-wall/ is 2024-05-01-wall.md', async () => {
    await page.goto(`${dev.url}/sea-wall/`);
    // The page's own heading: the toolbar's panels, once rendered, have headings of their own.
    expect(await page.getByRole('heading', { level: 1, name: 'Sea wall', exact: true }).count()).toBe(1);
    await openApp();
    await expect.poll(() => page.getByTestId('post').inputValue()).toBe('src/content/blog/2024-05-01-wall.md');
    expect(await page.getByTestId('prompt').inputValue()).toBe('a sea wall in a storm');
  });

  it('says what changed since the committed image while the new one is being made', async () => {
    const file = post('fr/harbour.md');
    const before = await readFile(file, 'utf8');
    // The GPU is busy: the image of the edited prompt stays missing while the panel is read.
    fake.faults.stallExecution(true);
    try {
      await writeFile(file, replaceOnce(before, 'un port breton au matin', 'un port breton au soir', file));
      await waitUntil(async () => (dev.output.join('').includes('replaces a committed image') ? true : undefined), 20_000, 'the new image to be asked for');
      await page.goto(`${dev.url}/fr/harbour/`);
      await openApp();
      await expect.poll(() => page.getByTestId('prompt').inputValue()).toBe('un port breton au soir');
      expect(await page.getByTestId('current-state').textContent()).toBe('missing');
      expect(await page.getByTestId('current-changes').textContent()).toBe('Changed since its committed image: the prompt: "matin" → "soir".');
    } finally {
      fake.faults.stallExecution(false);
    }
    await waitUntil(async () => (dev.output.join('').includes('fr/harbour.md › image → harbour-') ? true : undefined), 20_000, 'the new image');
    await page.reload();
    await openApp();
    await expect.poll(() => page.getByTestId('current-state').textContent()).toBe('ready');
    expect(await page.getByTestId('current-changes').count()).toBe(0);
  });

  it('refuses a number of candidates it cannot make instead of making fewer', async () => {
    await page.goto(`${dev.url}/harbour/`);
    await openApp();
    await expect.poll(() => page.getByTestId('post').inputValue()).toBe('src/content/blog/harbour.md');
    const queued = fake.stats.promptsQueued;
    await page.getByTestId('count').fill('9');
    await page.getByTestId('generate').click();
    expect(await page.getByTestId('message').textContent()).toBe('Candidates must be a whole number from 1 to 4; got 9.');
    expect(await page.getByTestId('message').getAttribute('class')).toContain('error');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(fake.stats.promptsQueued).toBe(queued);
    expect(await page.getByTestId('candidates').locator('figure').count()).toBe(0);
  });

  it("takes a pasted prompt as long as a post's may be, whole, and refuses a longer or an empty one or a seed too high, saying why", async () => {
    await page.goto(`${dev.url}/fr/harbour/`);
    await openApp();
    await expect.poll(() => page.getByTestId('post').inputValue()).toBe('src/content/blog/fr/harbour.md');
    const sentence = 'un port breton au matin, chalutiers bleus, mouettes, brume sur les quais, ';
    const long = sentence.repeat(Math.ceil(3000 / sentence.length)).trim();
    expect(long.length).toBeGreaterThan(2900);
    // Pasted as an author would: the browser inserts text as typed, and would cut it at a maxlength.
    await page.getByTestId('prompt').fill('');
    await page.getByTestId('prompt').focus();
    await page.keyboard.insertText(long);
    expect((await page.getByTestId('prompt').inputValue()).length).toBe(long.length);
    await generate(1);
    const after = await pin(0, post('fr/harbour.md'));
    expect((after.data.image as { prompt: string }).prompt).toBe(long);

    // The panel opens again after the reloads of the pin, with the post's prompt as it now is.
    await expect.poll(() => page.getByTestId('prompt').inputValue(), { timeout: 20_000 }).toBe(long);
    const queued = fake.stats.promptsQueued;
    await page.getByTestId('prompt').focus();
    await page.keyboard.press('End');
    await page.keyboard.insertText(` ${'x'.repeat(4000 - long.length)}`);
    await page.getByTestId('count').fill('1');
    await page.getByTestId('generate').click();
    expect(await page.getByTestId('message').textContent()).toBe("Prompt has 4001 characters; a post's frontmatter takes at most 4000. Shorten it.");
    await page.getByTestId('prompt').fill('  ');
    await page.getByTestId('generate').click();
    expect(await page.getByTestId('message').textContent()).toBe('Write the prompt first: what the image shows.');
    // Four candidates from a seed near the top would take seeds no post can hold (and two would be equal).
    await page.getByTestId('prompt').fill('a harbour');
    await page.getByTestId('seed').fill('9007199254740990');
    await page.getByTestId('count').fill('4');
    await page.getByTestId('generate').click();
    expect(await page.getByTestId('message').textContent()).toBe(
      'Seed must be a whole number from 0 to 9007199254740988 (the 4 candidates take the seeds from it up); got 9007199254740990.',
    );
    expect(fake.stats.promptsQueued).toBe(queued);
  });

  it('works from the keyboard alone, and names every control and says what happened to a screen reader', async () => {
    await page.goto(`${dev.url}/harbour/`);
    // Opened from the keyboard: the app's button in Astro's toolbar, then Enter.
    const appButton = await findAppButton(page);
    await appButton.focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('prompt').waitFor({ state: 'visible' });
    const panel = (name: string) => page.getByRole('tabpanel', { name, exact: true });
    const simple = panel('Simple');
    // Every field has its name, the selects inside the shadow root of Astro's toolbar element too.
    await expect.poll(() => simple.getByRole('combobox', { name: 'Post', exact: true }).inputValue()).toBe('src/content/blog/harbour.md');
    for (const name of ['Image', 'Style', 'Format', 'Preset']) expect(await simple.getByRole('combobox', { name, exact: true }).count()).toBe(1);
    for (const name of ['Prompt', 'Negative prompt', 'Alt text']) expect(await simple.getByRole('textbox', { name, exact: true }).count()).toBe(1);

    // The two tabs are tabs: the selected one is said, and the arrow keys move between them.
    const simpleTab = page.getByRole('tab', { name: 'Simple', exact: true });
    const advancedTab = page.getByRole('tab', { name: 'Advanced', exact: true });
    expect(await simpleTab.getAttribute('aria-selected')).toBe('true');
    // Tab goes from the toolbar into the panel, to its selected tab (past the toolbar's last buttons).
    const focused = (target: typeof simpleTab) =>
      target.evaluate((element) => {
        let active = document.activeElement;
        while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
        return active === element;
      });
    for (let presses = 0; presses < 5 && !(await focused(simpleTab)); presses++) await page.keyboard.press('Tab');
    expect(await focused(simpleTab)).toBe(true);
    await page.keyboard.press('ArrowRight');
    expect(await advancedTab.getAttribute('aria-selected')).toBe('true');
    expect(await panel('Advanced').isVisible()).toBe(true);
    expect(await simple.isVisible()).toBe(false);
    expect(await focused(advancedTab)).toBe(true);
    await page.keyboard.press('ArrowLeft');
    expect(await simpleTab.getAttribute('aria-selected')).toBe('true');
    expect(await simple.isVisible()).toBe(true);
    // From the selected tab, Tab goes into its panel, not to the other tab.
    await page.keyboard.press('Tab');
    expect(await focused(simple.getByRole('combobox', { name: 'Post', exact: true }))).toBe(true);
    // In a high-contrast mode, which replaces its colours, the selected tab is still told apart.
    await page.emulateMedia({ forcedColors: 'active' });
    const underline = (tab: typeof simpleTab) => tab.evaluate((element) => getComputedStyle(element).textDecorationLine);
    expect([await underline(simpleTab), await underline(advancedTab)]).toEqual(['underline', 'none']);
    await page.emulateMedia({ forcedColors: 'none' });

    // Two candidates with the keyboard: type the number, Tab past Random seed to Generate, Enter.
    const announced = (text: string) => simple.getByRole('status').filter({ hasText: text }).count();
    // Every text the progress shows, however briefly.
    await page.getByTestId('progress').evaluate((element) => {
      const seen: string[] = [];
      (window as unknown as { progressSeen: string[] }).progressSeen = seen;
      new MutationObserver(() => seen.push(element.textContent ?? '')).observe(element, { childList: true, characterData: true, subtree: true });
    });
    fake.faults.stallExecution(true);
    try {
      await simple.getByRole('spinbutton', { name: 'Candidates (1–4)' }).focus();
      await page.keyboard.press('Control+A');
      await page.keyboard.type('2');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await expect.poll(() => announced('Generating 2 candidates…')).toBe(1);
      // While ComfyUI works, Generate is said to be unavailable.
      expect(await simple.getByRole('button', { name: 'Generate', exact: true, disabled: true }).count()).toBe(1);
    } finally {
      fake.faults.stallExecution(false);
    }
    await expect.poll(() => announced('Done: 2 candidates. Pick one to use it in the post.'), { timeout: 30_000 }).toBe(1);
    // Between the steps, the progress says what ComfyUI is doing.
    const seen = await page.evaluate(() => (window as unknown as { progressSeen: string[] }).progressSeen.join('\n'));
    expect(seen).toMatch(/Candidate \d: decoding the image/);
    expect(seen).toMatch(/Candidate \d: step 4\/4/);
    // Each candidate's buttons say which candidate they act on.
    for (const i of [0, 1]) {
      const seed = await page.getByTestId(`candidate-${i}`).getAttribute('data-seed');
      for (const action of ['Use this', 'Open in ComfyUI']) {
        expect(await simple.getByRole('button', { name: `${action} (candidate ${i + 1}, seed ${seed})`, exact: true }).count()).toBe(1);
      }
    }
  });

  it('fits a narrow or zoomed-in window: one column, nothing cut off, its top in view (400 % of 1280 × 1024 is 320 × 256)', async () => {
    for (const [width, height] of [
      [640, 450],
      [320, 256],
    ] as const) {
      await page.setViewportSize({ width, height });
      await page.goto(`${dev.url}/harbour/`);
      await openApp();
      const win = page.locator('astro-dev-toolbar-app-canvas[data-app-id="astro-comfyui"] astro-dev-toolbar-window');
      const box = (await win.boundingBox())!;
      expect(box.y, `${width}×${height}: the panel's top`).toBeGreaterThanOrEqual(0);
      expect(box.x + box.width, `${width}×${height}: the panel's right edge`).toBeLessThanOrEqual(width);
      // Every field and button lies inside the panel, none cut off at its side.
      const simple = page.getByRole('tabpanel', { name: 'Simple', exact: true });
      const controls = simple.locator('select, textarea, input, astro-dev-toolbar-button');
      expect(await controls.count()).toBeGreaterThanOrEqual(10);
      for (const control of await controls.all()) {
        const own = (await control.boundingBox())!;
        const name = `${width}×${height}: ${await control.getAttribute('data-testid')}`;
        expect(own.x, name).toBeGreaterThanOrEqual(box.x);
        expect(own.x + own.width, name).toBeLessThanOrEqual(box.x + box.width);
        // A field wide enough to read what is chosen or typed.
        if ((await control.evaluate((element) => element.tagName)) !== 'ASTRO-DEV-TOOLBAR-BUTTON') expect(own.width, name).toBeGreaterThanOrEqual(120);
      }
      // The panel scrolls to Generate, which works there.
      await page.getByTestId('count').fill('1');
      await page.getByTestId('generate').click();
      await page.getByTestId('candidate-0').waitFor({ timeout: 30_000 });
    }
  });

  it('keeps only the newest candidates in its cache, however many generations the author runs', async () => {
    // As if the studio had been used for weeks: a full cache of candidates, all older than the new ones.
    const cache = path.join(site.root, 'node_modules/.cache/astro-comfyui/candidates');
    await rm(cache, { recursive: true, force: true });
    await mkdir(cache, { recursive: true });
    const old = Array.from({ length: 64 }, (_, i) => `${i.toString(16).padStart(64, 'f')}.png`);
    const then = new Date(Date.now() - 86_400_000);
    for (const [i, name] of old.entries()) {
      await writeFile(path.join(cache, name), 'png');
      await utimes(path.join(cache, name), then, new Date(then.getTime() + i * 1000));
    }
    await page.goto(`${dev.url}/harbour/`);
    await openApp();
    await expect.poll(() => page.getByTestId('post').inputValue()).toBe('src/content/blog/harbour.md');
    await page.getByTestId('seed').fill('500');
    await generate(2);
    await expect.poll(() => page.getByTestId('progress').textContent(), { timeout: 20_000 }).toMatch(/^Done/);

    const made = await Promise.all(
      [0, 1].map(async (i) => path.posix.basename((await page.getByTestId(`candidate-${i}`).locator('img').getAttribute('src')) ?? '').split('?')[0]!),
    );
    expect(made.every((name) => /^[0-9a-f]{64}\.png$/.test(name))).toBe(true);
    // The two oldest go once the new ones are written; the two just made can still be pinned.
    const pictures = async () => (await readdir(cache)).filter((name) => name.endsWith('.png')).sort();
    await expect.poll(pictures, { timeout: 10_000 }).toEqual([...old.slice(2), ...made].sort());
  });

  it("runs ComfyUI's real web UI in the Advanced tab of a localhost page, and opens a candidate's exact graph in it", async () => {
    // The default set-up: the page on localhost, ComfyUI on 127.0.0.1 (another site for the browser).
    const local = dev.url.replace('127.0.0.1', 'localhost');
    await page.goto(`${local}/harbour/`);
    await openApp();
    await page.getByTestId('tab-advanced').click();
    await expect.poll(() => page.getByTestId('endpoint-state').first().getAttribute('data-state'), { timeout: 10_000 }).toBe('running');
    expect(await page.getByTestId('endpoint-state').first().textContent()).toMatch(/ComfyUI 0\.3\.64 — cuda:0 NVIDIA GeForce RTX 4090.*GiB free — queue 0/);
    expect(await page.getByTestId('start').getAttribute('aria-disabled')).toBe('true');
    expect(await page.getByTestId('start-why').textContent()).toContain('needs the start option');
    expect(await page.getByTestId('comfyui-frame').getAttribute('src')).toBe('/_astro-comfyui/comfyui/0/');

    const frame = await comfyuiFrame();
    await frame.locator('canvas#graph-canvas').waitFor({ state: 'visible', timeout: 30_000 });
    // It booted with storage (same origin), and its WebSocket reaches ComfyUI through the dev server.
    await expect
      .poll(() => frame.evaluate(() => (window as unknown as { comfyAPI: { api: { api: { socket: WebSocket } } } }).comfyAPI.api.api.socket?.readyState), {
        timeout: 15_000,
      })
      .toBe(1);
    // A fresh ComfyUI greets a new browser with its template gallery; close it, as an author would.
    await frame.locator('.p-dialog-close-button').first().click({ timeout: 5_000 });
    await frame.locator('.p-dialog').first().waitFor({ state: 'detached', timeout: 5_000 });
    await page.screenshot({ path: path.join(screenshots, 'toolbar-advanced.png') });

    await page.getByTestId('tab-simple').click();
    await page.getByTestId('prompt').fill('a harbour in fog');
    await page.getByTestId('seed').fill('11');
    await generate(1);
    await page.getByTestId('open-0').click();
    expect(await page.getByTestId('advanced').isVisible()).toBe(true);
    await expect.poll(() => page.getByTestId('advanced-message').textContent(), { timeout: 30_000 }).toContain('Loaded the graph of candidate-seed-11');
    const graph = await frame.evaluate(() =>
      (window as unknown as { app: { graph: { _nodes: Array<{ type: string; widgets?: Array<{ name: string; value: unknown }> }> } } }).app.graph._nodes.map(
        (n) => ({ type: n.type, widgets: Object.fromEntries((n.widgets ?? []).map((w) => [w.name, w.value])) }),
      ),
    );
    const types = graph.map((n) => n.type).sort();
    expect(types).toEqual(expect.arrayContaining(['CLIPTextEncode', 'CheckpointLoaderSimple', 'EmptySD3LatentImage', 'KSampler', 'SaveImage', 'VAEDecode']));
    expect(graph.find((n) => n.type === 'KSampler')!.widgets.seed).toBe(11);
    expect(graph.filter((n) => n.type === 'CLIPTextEncode').map((n) => n.widgets.text)).toContain('a harbour in fog');
  });

  it('rejects invalid messages and writes outside the content folders', async () => {
    const hmr = await connectViteHmr(dev.url);
    const base = { prompt: 'x', seed: 1, key: 'a'.repeat(64), target: 'image' };
    hmr.send('astro-comfyui:pin', { requestId: 'outside-root-1', ...base, post: '../../../etc/passwd' });
    hmr.send('astro-comfyui:pin', { requestId: 'outside-content', ...base, post: 'astro.config.mjs' });
    hmr.send('astro-comfyui:generate', { requestId: 'bad-count-1', prompt: 'x', seed: 1, target: 'image', post: 'src/content/blog/harbour.md', count: 99 });
    hmr.send('astro-comfyui:generate', { requestId: 'no-fields' });
    const top = Number.MAX_SAFE_INTEGER - 1;
    hmr.send('astro-comfyui:generate', { requestId: 'seed-overflow', prompt: 'x', seed: top, target: 'image', post: 'src/content/blog/harbour.md', count: 4 });
    hmr.send('astro-comfyui:pin', { requestId: 'bad-target-1', ...base, target: 'title', post: 'src/content/blog/harbour.md' });
    hmr.send('astro-comfyui:pin', { requestId: 'no-such-item', ...base, target: 'images[7]', post: 'src/content/blog/gallery.md' });
    const errors = () => hmr.received.filter((m) => m.event === 'astro-comfyui:error');
    await waitUntil(async () => (errors().length >= 7 ? true : undefined), 10_000, 'seven error replies');
    hmr.close();
    const replies = errors()
      .map((m) => `${String(m.data.requestId)}: ${String(m.data.message)}`)
      .sort();
    expect(replies).toHaveLength(7);
    expect(replies.join('\n')).toContain('outside-root-1: "../../../etc/passwd" is not a post inside the content folders');
    expect(replies.join('\n')).toContain('outside-content: "astro.config.mjs" is not a post inside the content folders');
    expect(replies.join('\n')).toMatch(/bad-count-1: Invalid request \(count: /);
    expect(replies.join('\n')).toMatch(/no-fields: Invalid request/);
    expect(replies.join('\n')).toContain(
      'seed-overflow: Invalid request (seed: the candidates take the seeds from it up, and the last would be above 9007199254740991',
    );
    expect(replies.join('\n')).toContain('bad-target-1: "title" is not an image field; use image or images[n].');
    expect(replies.join('\n')).toContain('no-such-item: src/content/blog/gallery.md has no images[7]');
    expect(await readFile(path.join(site.root, 'astro.config.mjs'), 'utf8')).not.toContain('prompt');
    // Candidate previews are served by key, committed images by plain name; a path that climbs out gets nothing.
    for (const attempt of [
      'candidate/..%2F..%2F..%2Fastro.config.mjs',
      'candidate/%2E%2E%2Fastro.config.mjs',
      `candidate/${'a'.repeat(64)}.png`,
      'image/..%2Fimages.lock.json',
      'image/%2E%2E%2F%2E%2E%2Fastro.config.mjs',
    ]) {
      const res = await fetch(`${dev.url}/_astro-comfyui/${attempt}`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('defineConfig');
    }
  });

  it('says so clearly when ComfyUI is stopped, and tells how to start it instead of showing a broken frame', async () => {
    await fake.close();
    await page.goto(`${dev.url}/harbour/`);
    await openApp();
    await expect.poll(() => page.getByTestId('post').inputValue()).toBe('src/content/blog/harbour.md');
    await page.getByTestId('count').fill('1');
    await page.getByTestId('generate').click();
    await expect.poll(() => page.getByTestId('message').textContent(), { timeout: 15_000 }).toContain('ComfyUI is not running');
    expect(await page.getByTestId('message').getAttribute('class')).toContain('error');
    // A screen reader says it too: the message is a live region.
    expect(await page.getByRole('status').filter({ hasText: 'ComfyUI is not running' }).count()).toBe(1);
    await page.getByTestId('tab-advanced').click();
    await expect.poll(() => page.getByTestId('endpoint-state').first().getAttribute('data-state'), { timeout: 10_000 }).toBe('stopped');
    expect(await page.getByTestId('comfyui-help').textContent()).toMatch(/is not running\. Start it \(python main\.py --port 8188 in your ComfyUI folder\)/);
    expect(await page.getByTestId('comfyui-frame').isVisible()).toBe(false);
    expect(await page.getByTestId('stop').getAttribute('title')).toBe('Only a ComfyUI that astro dev started can be stopped here.');
  });
});

describe('problems and placeholders on the page', () => {
  it('shows bad frontmatter in the panel and on the app icon, and highlights placeholder images on the page', async () => {
    const own = await copyFixture('blog');
    const lighthouse = path.join(own.root, 'src/content/blog/lighthouse.md');
    await writeFile(path.join(own.root, 'src/content/blog/broken.md'), '---\ntitle: Broken\nimage: { prompt: "a broken kite", style: oil }\n---\nBody.\n');
    // Nothing listens at this ComfyUI: dev makes marked placeholders instead.
    const server = await startAstroDev(own.root, await findFreePort(), {
      COMFYUI_URL: `http://127.0.0.1:${await findFreePort()}`,
      ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ onMissing: 'placeholder' }),
    });
    const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await waitUntil(async () => (server.output.join('').includes('PLACEHOLDER IMAGES') ? true : undefined), 60_000, 'the placeholders');
      await tab.goto(`${server.url}/broken/`);
      const notification = tab.locator('astro-dev-toolbar [data-app-id="astro-comfyui"] .notification').first();
      await expect.poll(() => notification.getAttribute('data-level'), { timeout: 15_000 }).toBe('error');
      expect(await notification.getAttribute('data-active')).not.toBeNull();
      await openApp(tab);
      const problems = tab.getByTestId('problems');
      await expect.poll(() => problems.isVisible()).toBe(true);
      expect(await problems.textContent()).toContain('image.style unknown style "oil". Known styles: watercolor, ink.');
      expect(await tab.getByTestId('badge').textContent()).toBe('1 problem');

      await tab.goto(`${server.url}/lighthouse/`);
      await expect.poll(() => notification.getAttribute('data-level'), { timeout: 15_000 }).toBe('warning');
      await openApp(tab);
      expect(await tab.getByTestId('current-state').textContent()).toBe('placeholder');
      const highlight = tab.getByTestId('placeholder-highlight');
      await expect.poll(() => highlight.count(), { timeout: 10_000 }).toBe(1);
      expect(await highlight.getAttribute('title')).toContain('image is a placeholder');
      // It covers the page's image of the post.
      const img = (await tab.locator('main img, article img, img').first().boundingBox())!;
      const mark = (await highlight.boundingBox())!;
      expect(mark.x).toBeLessThanOrEqual(img.x);
      expect(mark.x + mark.width).toBeGreaterThanOrEqual(img.x + img.width - 1);
      expect(await readFile(lighthouse, 'utf8')).toContain('a lighthouse at dusk');
    } finally {
      await tab.close();
      await server.stop();
      await own.cleanup();
    }
  });
});

describe('the Advanced tab with several ComfyUI endpoints, on a site under a base path', () => {
  it("shows each running endpoint's own web UI on request, and what each one lacks to make the site's images", async () => {
    const first = await startFakeComfyUI({ frontendDirectory: comfyuiFrontendDirectory() });
    // The second GPU machine has T5 in fp8 only, not the fp16 file of the default settings.
    const second = await startFakeComfyUI({
      frontendDirectory: comfyuiFrontendDirectory(),
      models: { text_encoders: ['clip_g.safetensors', 'clip_l.safetensors', 't5xxl_fp8_e4m3fn.safetensors'] },
    });
    const own = await copyFixture('blog');
    // A project site on GitHub Pages, named like one of its posts: Astro's dev server serves the site
    // under /harbour, answers every other page request with its 404, and refuses a path of the site
    // without its trailing slash.
    const config = path.join(own.root, 'astro.config.mjs');
    await replaceInFile(config, 'export default defineConfig({\n', "export default defineConfig({\n  base: '/harbour',\n  trailingSlash: 'always',\n");
    // The team's shared config starts ComfyUI on its owner's machine; this machine's COMFYUI_URL sets that aside.
    const server = await startAstroDev(own.root, await findFreePort(), {
      COMFYUI_URL: `${first.url},${second.url}`,
      ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ start: fakeStartCommand() }),
    });
    const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      // The home page is no post's, though its path is the harbour post's name; the post's page is.
      await tab.goto(`${server.url}/harbour/`);
      await openApp(tab);
      await expect.poll(() => tab.getByTestId('post').locator('option').count(), { timeout: 15_000 }).toBeGreaterThan(3);
      expect(await tab.getByTestId('post').inputValue()).toBe('');
      await tab.goto(`${server.url}/harbour/harbour/`);
      await openApp(tab);
      await expect.poll(() => tab.getByTestId('post').inputValue(), { timeout: 15_000 }).toBe('src/content/blog/harbour.md');
      await tab.getByTestId('tab-advanced').click();
      await expect
        .poll(() => tab.getByTestId('endpoint-state').evaluateAll((dds) => dds.map((dd) => dd.getAttribute('data-state'))), { timeout: 15_000 })
        .toEqual(['running', 'running']);
      const dds = tab.getByTestId('endpoint-state');
      await expect
        .poll(() => dds.nth(1).getByTestId('endpoint-missing').locator('li').allTextContents(), { timeout: 15_000 })
        .toEqual([
          't5xxl_fp16.safetensors is missing: put it in ComfyUI/models/text_encoders/ (used by TripleCLIPLoader clip_name3); that folder has t5xxl_fp8_e4m3fn.safetensors.',
        ]);
      expect(await dds.nth(1).getByTestId('endpoint-suggestion').textContent()).toBe(
        'Or use the SD3.5 files it has: set model.textEncoders: ["clip_l.safetensors", "clip_g.safetensors", "t5xxl_fp8_e4m3fn.safetensors"] in the astro-comfyui options.',
      );
      expect(await dds.nth(0).getByTestId('endpoint-suggestion').count()).toBe(0);
      await expect.poll(() => tab.getByTestId('endpoint-checking').count(), { timeout: 15_000 }).toBe(0);
      expect(await dds.nth(0).getByTestId('endpoint-missing').count()).toBe(0);
      expect(await tab.getByTestId('start-why').textContent()).toBe(
        `COMFYUI_URL points at ${first.url}, ${second.url}, several ComfyUIs: the start command in astro.config, which starts ComfyUI on this machine, is not used.`,
      );
      expect(await tab.getByTestId('comfyui-frame').getAttribute('src')).toBe('/_astro-comfyui/comfyui/0/');
      expect(await tab.getByTestId('show-ui-0').getAttribute('aria-disabled')).toBe('true');
      const before = second.stats.httpRequests;
      await tab.getByTestId('show-ui-1').click();
      expect(await tab.getByTestId('comfyui-frame').getAttribute('src')).toBe('/_astro-comfyui/comfyui/1/');
      const frame = await waitUntil(async () => tab.frames().find((f) => f.url().includes('/_astro-comfyui/comfyui/1/')), 20_000, 'the second UI');
      await frame.locator('canvas#graph-canvas').waitFor({ state: 'visible', timeout: 30_000 });
      // Its UI talks to the second ComfyUI, its WebSocket too.
      expect(second.stats.httpRequests).toBeGreaterThan(before + 5);
      await expect
        .poll(() => frame.evaluate(() => (window as unknown as { comfyAPI: { api: { api: { socket: WebSocket } } } }).comfyAPI.api.api.socket?.readyState), {
          timeout: 15_000,
        })
        .toBe(1);
      expect(await tab.getByTestId('open-tab').getAttribute('href')).toBe('/_astro-comfyui/comfyui/1/');
      // A typed address without the trailing slash is sent to the UI.
      const typed = await fetch(`${server.url}/_astro-comfyui/comfyui/1`, { redirect: 'manual', headers: { accept: 'text/html' } });
      expect(typed.status).toBe(308);
      expect(new URL(typed.headers.get('location') ?? '', typed.url).pathname).toBe('/_astro-comfyui/comfyui/1/');

      // A machine slow to list its nodes: the states show at once, the first machine's check comes
      // without waiting for the second's, and the second shows its check under way, not "nothing missing".
      second.faults.stallHttp('/object_info');
      await tab.getByTestId('refresh').click();
      const checking = dds.nth(1).getByTestId('endpoint-checking');
      await expect.poll(() => checking.count(), { timeout: 15_000 }).toBe(1);
      await expect.poll(() => dds.nth(0).getByTestId('endpoint-checking').count(), { timeout: 15_000 }).toBe(0);
      expect(await checking.count()).toBe(1);
      expect(await dds.nth(1).getByTestId('endpoint-missing').count()).toBe(0);
      // When it stops answering, the check says why it could not be made.
      await second.crash();
      const unchecked = dds.nth(1).getByTestId('endpoint-unchecked');
      await expect.poll(() => unchecked.count(), { timeout: 15_000 }).toBe(1);
      // The socket reset, or refused if it crashed before the request came: either way, not reachable.
      expect(await unchecked.textContent()).toContain(`ComfyUI is not reachable at ${second.url} (`);
      expect(await unchecked.textContent()).toMatch(/\(\w+ during GET \/object_info\)/);
      expect(await dds.nth(1).getByTestId('endpoint-checking').count()).toBe(0);
      expect(await dds.nth(1).getByTestId('endpoint-missing').count()).toBe(0);
      expect(await dds.nth(0).getByTestId('endpoint-unchecked').count()).toBe(0);
      // The frame showed the second machine's UI: once Refresh finds it down, the help says where to start
      // it, not to set a start option.
      await tab.getByTestId('refresh').click();
      await expect
        .poll(() => tab.getByTestId('comfyui-help').textContent(), { timeout: 15_000 })
        .toBe(`ComfyUI at ${second.url} is not running. Start it on that machine (python main.py --listen 0.0.0.0 in its ComfyUI folder), then Refresh.`);
    } finally {
      await tab.close();
      await server.stop();
      await own.cleanup();
      await first.close();
      await second.close();
    }
  });
});

describe('the Advanced tab with a start command', () => {
  it('shows the ComfyUI that dev started, stops it and starts it again', async () => {
    const own = await copyFixture('blog');
    const url = `http://127.0.0.1:${await findFreePort()}`;
    const server = await startAstroDev(own.root, await findFreePort(), {
      COMFYUI_URL: url,
      ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ start: fakeStartCommand(), onMissing: 'placeholder' }),
    });
    const tab = await browser.newPage();
    // The dev server's answers pass through the test, which can deliver two of them out of order.
    const answers = await holdToolbarAnswers<{ endpoints?: Array<{ state: string }> }>(tab, server.url, 'astro-comfyui:status-result');
    const stateOf = (answer: { data: { endpoints?: Array<{ state: string }> } }) => answer.data.endpoints?.[0]?.state;
    try {
      await tab.goto(`${server.url}/harbour/`);
      await openApp(tab);
      await tab.getByTestId('tab-advanced').click();
      const state = () => tab.getByTestId('endpoint-state').first().getAttribute('data-state');
      // Missing images made dev start ComfyUI through the supervisor; it stays up for the session.
      await expect
        .poll(
          async () => {
            await tab.getByTestId('refresh').click();
            return state();
          },
          { timeout: 30_000 },
        )
        .toBe('running');
      expect(await tab.getByTestId('stop').getAttribute('aria-disabled')).toBe('false');
      // A Refresh answered after Stop (its endpoint check is slow on a busy machine) must not show the
      // stopped ComfyUI as running: Stop's answer is delivered first, then the Refresh's.
      answers.holding = true;
      await tab.getByTestId('refresh').click();
      await waitUntil(async () => (answers.held.some((m) => stateOf(m) === 'running') ? true : undefined), 15_000, "the Refresh's answer");
      await tab.getByTestId('stop').click();
      await waitUntil(async () => (answers.held.some((m) => stateOf(m) === 'stopped') ? true : undefined), 15_000, "Stop's answer");
      answers.holding = false;
      for (const answer of answers.held.filter((m) => stateOf(m) === 'stopped')) answer.deliver();
      for (const answer of answers.held.filter((m) => stateOf(m) !== 'stopped')) answer.deliver();
      await expect.poll(state, { timeout: 15_000 }).toBe('stopped');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await state()).toBe('stopped');
      // What Stop did is said in a live region, not only shown in the list of endpoints.
      const said = () => tab.getByRole('tabpanel', { name: 'Advanced' }).getByRole('status').textContent();
      expect(await said()).toBe(`ComfyUI at ${url} is stopped; images still to be made wait until Start ComfyUI.`);
      expect(server.output.join('')).toContain(`ComfyUI at ${url} was stopped from the dev toolbar; images still to be made wait until Start ComfyUI.`);
      await expect(fetch(`${url}/system_stats`)).rejects.toThrow();
      expect(await tab.getByTestId('comfyui-help').textContent()).toContain('Press Start ComfyUI');
      expect(await tab.getByTestId('start').getAttribute('aria-disabled')).toBe('false');
      await tab.getByTestId('start').click();
      // A Refresh while it starts answers before Start does, with what it saw then: Start's answer, seen
      // later, is the one shown.
      await expect.poll(state, { timeout: 15_000 }).toBe('starting');
      await tab.getByTestId('refresh').click();
      await expect.poll(state, { timeout: 30_000 }).toBe('running');
      expect((await fetch(`${url}/system_stats`)).status).toBe(200);
      await expect.poll(said).toBe(`ComfyUI is running at ${url}.`);
    } finally {
      await tab.close();
      await server.stop();
      await own.cleanup();
    }
  });
  it('makes the images that failed while ComfyUI could not start once Start ComfyUI succeeds, without a save', async () => {
    const own = await copyFixture('blog');
    const broken = path.join(own.root, 'comfyui-is-broken');
    await writeFile(broken, '');
    const url = `http://127.0.0.1:${await findFreePort()}`;
    const server = await startAstroDev(own.root, await findFreePort(), {
      COMFYUI_URL: url,
      ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ start: fakeStartCommand({ FAKE_COMFYUI_FAIL_START_WHILE_FILE: broken }), onMissing: 'placeholder' }),
    });
    const tab = await browser.newPage();
    try {
      await waitUntil(async () => (server.output.join('').includes('PLACEHOLDER IMAGES') ? true : undefined), 30_000, 'the placeholders');
      await tab.goto(`${server.url}/lighthouse/`);
      const image = tab.locator('img[data-post-image="0"]');
      expect(await image.getAttribute('data-placeholder')).toBe('true');
      // The author fixes ComfyUI and starts it from the panel.
      await rm(broken);
      await openApp(tab);
      await tab.getByTestId('tab-advanced').click();
      await tab.getByTestId('start').click();
      await expect.poll(() => tab.getByTestId('endpoint-state').first().getAttribute('data-state'), { timeout: 30_000 }).toBe('running');
      await expect.poll(() => image.getAttribute('data-placeholder'), { timeout: 30_000 }).toBe('false');
    } finally {
      await tab.close();
      await server.stop();
      await own.cleanup();
    }
  });
});

// The recorded ComfyUI's web UI, and the newest one, which an up-to-date ComfyUI shows. 1.58.1 did not
// replace a graph loaded as soon as it was set up (a mutation that skips the wait fails only with 1.27.10):
// with it, the test checks that the panel's graph loads into that UI and stays.
describe.each([RECORDED_FRONTEND, NEWEST_FRONTEND])("Open in ComfyUI before ComfyUI's UI (%s) has booted", (frontend) => {
  it('loads the graph once ComfyUI has restored its own workflow, which would otherwise replace it', async () => {
    // A ComfyUI whose UI was never opened: on its first boot it makes a blank workflow for the new user,
    // after it is set up, and only once the server has saved that the tutorial was seen.
    const fresh = await startFakeComfyUI({ stepDelayMs: 5, frontendDirectory: comfyuiFrontendDirectory(frontend) });
    const own = await copyFixture('blog');
    const server = await startAstroDev(own.root, await findFreePort(), { COMFYUI_URL: fresh.url });
    const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      await tab.goto(`${server.url}/harbour/`);
      await openApp(tab);
      await tab.getByTestId('seed').fill('11');
      await tab.getByTestId('count').fill('1');
      await tab.getByTestId('generate').click();
      await tab.getByTestId('candidate-0').waitFor({ timeout: 30_000 });
      // The restore waits on the server: the panel's graph must wait for it too.
      fresh.faults.stallHttp('/settings/Comfy.TutorialCompleted');
      await tab.getByTestId('open-0').click();
      const frame = await waitUntil(async () => tab.frames().find((f) => f.url().includes('/_astro-comfyui/comfyui/0/')), 20_000, "ComfyUI's frame");
      await frame.waitForFunction(() => (window as unknown as ComfyUIWindow).app?.graph, undefined, { timeout: 30_000 });
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      fresh.faults.stallHttp(false);
      await expect.poll(() => tab.getByTestId('advanced-message').textContent(), { timeout: 30_000 }).toContain('Loaded the graph of candidate-seed-11');
      await expect.poll(() => seedShownIn(frame), { timeout: 10_000 }).toBe(11);
      // And it stays: nothing restored after it.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(await seedShownIn(frame)).toBe(11);
    } finally {
      fresh.faults.stallHttp(false);
      await tab.close();
      await server.stop();
      await own.cleanup();
      await fresh.close();
    }
  });
});

describe('the Advanced tab with toolbar.comfyuiUI: false', () => {
  it("links to ComfyUI's own address instead of relaying its UI, and downloads a graph that ComfyUI's own page opens", async () => {
    // Its own ComfyUI: the file's shared one is stopped by an earlier test.
    const comfyuiServer = await startFakeComfyUI({ stepDelayMs: 40, frontendDirectory: comfyuiFrontendDirectory() });
    const own = await copyFixture('blog');
    const server = await startAstroDev(own.root, await findFreePort(), {
      COMFYUI_URL: comfyuiServer.url,
      ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ toolbar: { comfyuiUI: false } }),
    });
    const tab = await browser.newPage({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
    const comfyuiPage = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    try {
      // Nothing of ComfyUI is served as a page of the dev server, so no custom node's script runs as one.
      const relayed = await fetch(`${server.url}/_astro-comfyui/comfyui/0/`);
      expect(relayed.status).toBe(404);
      expect(await relayed.text()).toContain('comfyuiUI: false');

      await tab.goto(`${server.url}/harbour/`);
      await openApp(tab);
      await tab.getByTestId('tab-advanced').click();
      await expect.poll(() => tab.getByTestId('endpoint-state').first().getAttribute('data-state'), { timeout: 10_000 }).toBe('running');
      expect(await tab.getByTestId('comfyui-frame').isVisible()).toBe(false);
      expect(await tab.getByTestId('comfyui-frame').getAttribute('src')).toBeNull();
      expect(await tab.getByTestId('open-tab').getAttribute('href')).toBe(`${comfyuiServer.url}/`);
      expect(await tab.getByTestId('open-tab').textContent()).toBe('Open ComfyUI at its own address');
      expect(await tab.getByTestId('comfyui-help').textContent()).toContain('toolbar: { comfyuiUI: false }');

      await tab.getByTestId('tab-simple').click();
      await tab.getByTestId('prompt').fill('a harbour in fog');
      await tab.getByTestId('seed').fill('11');
      await tab.getByTestId('count').fill('1');
      await tab.getByTestId('generate').click();
      await tab.getByTestId('candidate-0').waitFor({ timeout: 30_000 });
      expect(await tab.getByRole('button', { name: 'Download graph (candidate 1, seed 11)', exact: true }).count()).toBe(1);
      expect(await tab.getByRole('button', { name: 'Download graph (the image now in the post)', exact: true }).count()).toBe(1);
      const [download] = await Promise.all([tab.waitForEvent('download'), tab.getByTestId('open-0').click()]);
      expect(download.suggestedFilename()).toBe('candidate-seed-11.json');
      const text = await readFile((await download.path())!, 'utf8');
      const nodes = Object.values(JSON.parse(text) as Record<string, { class_type: string; inputs: Record<string, unknown> }>);
      expect(nodes.find((n) => n.class_type === 'KSampler')!.inputs.seed).toBe(11);
      expect(await tab.getByTestId('advanced-message').textContent()).toContain("drop it onto ComfyUI's page");

      // ComfyUI's real page, at its own address, opens the file the way it opens one dropped on it.
      await comfyuiPage.goto(`${comfyuiServer.url}/`);
      // Booted, and done restoring its own workflow (a blank one on a first visit), which would replace a file opened before.
      await comfyuiPage.waitForFunction(() => (window as unknown as ComfyUIWindow).app?.extensionManager?.workflow?.activeWorkflow, undefined, {
        timeout: 30_000,
      });
      await comfyuiPage.evaluate(
        (json) =>
          (window as unknown as { app: { handleFile(file: File): Promise<void> } }).app.handleFile(
            new File([json], 'candidate-seed-11.json', { type: 'application/json' }),
          ),
        text,
      );
      await expect.poll(() => seedShownIn(comfyuiPage), { timeout: 15_000 }).toBe(11);
    } finally {
      await comfyuiPage.close();
      await tab.close();
      await server.stop();
      await own.cleanup();
      await comfyuiServer.close();
    }
  });
});
