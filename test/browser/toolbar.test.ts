import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseFrontmatter } from 'astro/markdown';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeComfyUI, type FakeComfyUI } from '../fake-comfyui/fake-comfyui.js';
import { copyFixture, startAstroDev, waitUntil } from '../helpers/fixture-site.js';
import { findFreePort } from '../helpers/find-free-port.js';
import { launchChromium } from '../helpers/launch-chromium.js';
import { connectViteHmr } from '../helpers/vite-hmr-client.js';

const screenshots = fileURLToPath(new URL('../../.tmp/screenshots/', import.meta.url));
let fake: FakeComfyUI;
let site: Awaited<ReturnType<typeof copyFixture>>;
let dev: Awaited<ReturnType<typeof startAstroDev>>;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await mkdir(screenshots, { recursive: true });
  fake = await startFakeComfyUI({ stepDelayMs: 40 });
  site = await copyFixture('blog');
  dev = await startAstroDev(site.root, await findFreePort(), { COMFYUI_URL: fake.url });
  // Let the initial background generation (which reloads open pages) finish first.
  await waitUntil(async () => (dev.output.join('').includes('[4/4]') ? true : undefined), 60_000, 'the initial generation');
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

async function openApp() {
  // The toolbar is collapsed until the pointer is over it.
  const button = page.locator('astro-dev-toolbar [data-app-id="astro-comfyui"]').first();
  await button.waitFor({ state: 'attached' });
  await page.locator('astro-dev-toolbar #dev-bar').first().hover();
  await button.click();
  await page.getByTestId('prompt').waitFor({ state: 'visible' });
}

describe('the ComfyUI dev toolbar app', () => {
  it('generates two candidates with live progress and pins the chosen one into the post', async () => {
    await page.goto(`${dev.url}/lighthouse/`);
    await openApp();
    await expect.poll(() => page.getByTestId('post').inputValue()).toBe('src/content/blog/lighthouse.md');
    expect(await page.getByTestId('prompt').inputValue()).toBe('a lighthouse at dusk');

    await page.getByTestId('prompt').fill('a lighthouse in a storm, "huge" waves 🌊');
    await page.getByTestId('style').selectOption('ink');
    await page.getByTestId('format').selectOption('square');
    await page.getByTestId('random-seed').click();
    expect(Number(await page.getByTestId('seed').inputValue())).toBeGreaterThanOrEqual(0);
    await page.getByTestId('seed').fill('40');
    await page.getByTestId('count').fill('2');
    await page.getByTestId('generate').click();
    await expect.poll(() => page.getByTestId('progress').textContent(), { timeout: 20_000 }).toMatch(/Candidate \d: step \d+\/4/);
    await page.getByTestId('candidate-1').waitFor({ timeout: 30_000 });
    await page.getByTestId('candidate-0').waitFor({ timeout: 30_000 });
    expect(await page.getByTestId('candidate-1').getAttribute('data-seed')).toBe('41');
    const preview = await page
      .getByTestId('candidate-1')
      .locator('img')
      .evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth);
    expect(preview).toBe(128);
    await page.getByTestId('candidates').scrollIntoViewIfNeeded();
    await page.screenshot({ path: path.join(screenshots, 'toolbar-simple.png') });

    const postFile = path.join(site.root, 'src/content/blog/lighthouse.md');
    const before = await readFile(postFile, 'utf8');
    const loadedAt = await page.evaluate(() => performance.timeOrigin);
    await page.getByTestId('use-1').click();
    await expect.poll(() => page.getByTestId('message').textContent(), { timeout: 20_000 }).toMatch(/^Pinned /);
    const after = await waitUntil(
      async () => {
        const text = await readFile(postFile, 'utf8');
        return text !== before ? text : undefined;
      },
      20_000,
      'the post file to change',
    );
    // Every other field of the prompt is the panel's; the post's alt text is kept.
    expect(parseFrontmatter(after).frontmatter.image).toEqual({
      prompt: 'a lighthouse in a storm, "huge" waves 🌊',
      style: 'ink',
      format: 'square',
      seed: 41,
      alt: 'A lighthouse at dusk',
    });
    // Everything but the image line is unchanged.
    const withoutImage = (text: string) =>
      text
        .split('\n')
        .filter((line) => !line.startsWith('image:'))
        .join('\n');
    expect(withoutImage(after)).toBe(withoutImage(before));

    // The page shows the pinned image, and the panel is open again after Astro's reload.
    const manifest = JSON.parse(await readFile(path.join(site.root, 'src/assets/generated/images.lock.json'), 'utf8'));
    const pinned = Object.values(manifest.images).find((e) => (e as { seed: number }).seed === 41) as { file: string };
    await expect.poll(async () => (await page.content()).includes(encodeURIComponent(pinned.file)), { timeout: 20_000 }).toBe(true);
    // After the reload that saving the post causes, the panel is open again and says what was pinned.
    await expect.poll(() => page.evaluate(() => performance.timeOrigin).catch(() => loadedAt), { timeout: 20_000 }).not.toBe(loadedAt);
    await page.waitForLoadState('load');
    await expect
      .poll(
        () =>
          page
            .getByTestId('message')
            .textContent()
            .catch(() => ''),
        { timeout: 20_000 },
      )
      .toContain(`Pinned ${pinned.file}`);
    // Astro's own reload for the saved post can come after ours: the panel reopens after each.
    await expect
      .poll(
        () =>
          page
            .getByTestId('prompt')
            .isVisible()
            .catch(() => false),
        { timeout: 20_000 },
      )
      .toBe(true);
  });

  it('shows ComfyUI status and its web UI in the Advanced tab', async () => {
    await page.goto(`${dev.url}/harbour/`);
    await openApp();
    await page.getByTestId('tab-advanced').click();
    await expect.poll(() => page.getByTestId('endpoint-state').first().getAttribute('data-state'), { timeout: 10_000 }).toBe('running');
    expect(await page.getByTestId('endpoint-state').first().textContent()).toMatch(/ComfyUI 0\.3\.68 — cuda:0 NVIDIA GeForce RTX 4090.*GiB free — queue 0/);
    expect(await page.getByTestId('comfyui-frame').getAttribute('src')).toBe(`${fake.url}/`);
    const frame = page.frameLocator('[data-testid="comfyui-frame"]');
    await expect.poll(() => frame.locator('#comfy').textContent(), { timeout: 10_000 }).toBe('ComfyUI (fake)');
    expect(await page.getByTestId('start').isDisabled()).toBe(true);
    await page.screenshot({ path: path.join(screenshots, 'toolbar-advanced.png') });
  });

  it('rejects invalid messages and writes outside the content folders', async () => {
    const hmr = await connectViteHmr(dev.url);
    const base = { prompt: 'x', seed: 1, key: 'a'.repeat(64) };
    hmr.send('astro-comfyui:pin', { requestId: 'outside-root-1', ...base, post: '../../../etc/passwd' });
    hmr.send('astro-comfyui:pin', { requestId: 'outside-content', ...base, post: 'astro.config.mjs' });
    hmr.send('astro-comfyui:generate', { requestId: 'bad-count-1', prompt: 'x', seed: 1, post: 'src/content/blog/harbour.md', count: 99 });
    hmr.send('astro-comfyui:generate', { requestId: 'no-fields' });
    const errors = () => hmr.received.filter((m) => m.event === 'astro-comfyui:error');
    await waitUntil(async () => (errors().length >= 4 ? true : undefined), 10_000, 'four error replies');
    hmr.close();
    const replies = errors()
      .map((m) => `${String(m.data.requestId)}: ${String(m.data.message)}`)
      .sort();
    expect(replies).toHaveLength(4);
    expect(replies.join('\n')).toContain('outside-root-1: "../../../etc/passwd" is not a post inside the content folders');
    expect(replies.join('\n')).toContain('outside-content: "astro.config.mjs" is not a post inside the content folders');
    expect(replies.join('\n')).toMatch(/bad-count-1: Invalid request \(count: /);
    expect(replies.join('\n')).toMatch(/no-fields: Invalid request/);
    expect(await readFile(path.join(site.root, 'astro.config.mjs'), 'utf8')).not.toContain('prompt');
    // Candidate previews are served by key only; an encoded path that tries to climb out gets nothing.
    for (const attempt of ['..%2F..%2F..%2Fastro.config.mjs', '%2E%2E%2Fastro.config.mjs', `${'a'.repeat(64)}.png`]) {
      const res = await fetch(`${dev.url}/_astro-comfyui/candidate/${attempt}`);
      expect(res.status).toBe(404);
      expect(await res.text()).not.toContain('defineConfig');
    }
  });

  it('says so clearly when ComfyUI is stopped', async () => {
    await fake.close();
    await page.goto(`${dev.url}/harbour/`);
    await openApp();
    await expect.poll(() => page.getByTestId('post').inputValue()).toBe('src/content/blog/harbour.md');
    await page.getByTestId('count').fill('1');
    await page.getByTestId('generate').click();
    await expect.poll(() => page.getByTestId('message').textContent(), { timeout: 15_000 }).toContain('ComfyUI is not running');
    expect(await page.getByTestId('message').getAttribute('class')).toContain('error');
    await page.getByTestId('tab-advanced').click();
    await expect.poll(() => page.getByTestId('endpoint-state').first().getAttribute('data-state'), { timeout: 10_000 }).toBe('stopped');
  });
});

describe('the Advanced tab with a start command', () => {
  it('shows the ComfyUI that dev started, stops it and starts it again', async () => {
    const { fakeStartCommand } = await import('../helpers/fake-launcher.js');
    const own = await copyFixture('blog');
    const url = `http://127.0.0.1:${await findFreePort()}`;
    const server = await startAstroDev(own.root, await findFreePort(), {
      COMFYUI_URL: url,
      ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ start: fakeStartCommand(), onMissing: 'placeholder' }),
    });
    const tab = await browser.newPage();
    try {
      await tab.goto(`${server.url}/harbour/`);
      const button = tab.locator('astro-dev-toolbar [data-app-id="astro-comfyui"]').first();
      await button.waitFor({ state: 'attached' });
      await tab.locator('astro-dev-toolbar #dev-bar').first().hover();
      await button.click();
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
      expect(await tab.getByTestId('stop').isDisabled()).toBe(false);
      await tab.getByTestId('stop').click();
      await expect.poll(state, { timeout: 15_000 }).toBe('stopped');
      await expect(fetch(`${url}/system_stats`)).rejects.toThrow();
      await tab.getByTestId('start').click();
      await expect.poll(state, { timeout: 30_000 }).toBe('running');
      expect((await fetch(`${url}/system_stats`)).status).toBe(200);
    } finally {
      await tab.close();
      await server.stop();
      await own.cleanup();
    }
  });
});
