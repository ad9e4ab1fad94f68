import { readdir, readFile } from 'node:fs/promises';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeComfyUI, type FakeComfyUI } from '../fake-comfyui/fake-comfyui.js';
import { copyFixture, startAstroDev, waitUntil } from '../helpers/fixture-site.js';
import { findFreePort } from '../helpers/find-free-port.js';
import { launchChromium } from '../helpers/launch-chromium.js';
import { connectViteHmr } from '../helpers/vite-hmr-client.js';

let fake: FakeComfyUI;
let site: Awaited<ReturnType<typeof copyFixture>>;
let dev: Awaited<ReturnType<typeof startAstroDev>>;
let browser: Browser;

beforeAll(async () => {
  fake = await startFakeComfyUI();
  site = await copyFixture('blog');
  dev = await startAstroDev(site.root, await findFreePort(), { COMFYUI_URL: fake.url });
  await waitUntil(async () => (dev.output.join('').includes('[4/4]') ? true : undefined), 60_000, 'the initial generation');
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await dev?.stop();
  await fake?.close();
  await site?.cleanup();
});

/**
 * What a hostile page on another port of the same host can do: Vite's CORS lets it read the HMR token from
 * /@vite/client, open the HMR socket and send the toolbar's messages. It records every answer.
 */
const attackPage = (devUrl: string) => `<!doctype html><title>Totally unrelated site</title><script type="module">
  const results = [];
  window.results = results;
  const client = await (await fetch(${JSON.stringify(`${devUrl}/@vite/client`)})).text();
  const token = /const wsToken = "([^"]+)"/.exec(client)[1];
  const socket = new WebSocket(${JSON.stringify(devUrl.replace(/^http/, 'ws'))} + '/?token=' + token, 'vite-hmr');
  socket.onmessage = (m) => { const d = JSON.parse(m.data); if (d.type === 'custom' && d.event.startsWith('astro-comfyui:')) results.push(d); };
  socket.onopen = () => {
    const send = (event, data) => socket.send(JSON.stringify({ type: 'custom', event, data }));
    send('astro-comfyui:init', { requestId: 'attack-init-1', pathname: '/lighthouse/' });
    send('astro-comfyui:generate', { requestId: 'attack-generate-1', post: 'src/content/blog/lighthouse.md', prompt: 'pwned', seed: 1, count: 1 });
    send('astro-comfyui:pin', { requestId: 'attack-pin-1', post: 'src/content/blog/lighthouse.md', prompt: 'pwned', seed: 1, key: '${'a'.repeat(64)}' });
    send('astro-comfyui:start', { requestId: 'attack-start-1' });
    window.opened = true;
  };
</script>`;

describe('who can use the dev toolbar', () => {
  it('refuses a page on another port of the same host, in a real browser, and the post stays as it was', async () => {
    const post = path.join(site.root, 'src/content/blog/lighthouse.md');
    const before = await readFile(post, 'utf8');
    const queued = fake.stats.promptsQueued;
    const hostile = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(attackPage(dev.url)));
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    const page = await browser.newPage();
    try {
      // Same host, another port: "same-site", so Vite's CORS hands this page the HMR token.
      await page.goto(`http://127.0.0.1:${(hostile.address() as AddressInfo).port}/`);
      await expect.poll(() => page.evaluate(() => (window as unknown as { results: unknown[] }).results?.length ?? 0), { timeout: 15_000 }).toBe(4);
      const results = await page.evaluate(
        () => (window as unknown as { results: Array<{ event: string; data: { requestId: string; message?: string; posts?: unknown } }> }).results,
      );
      expect(results.map((r) => r.event)).toEqual(Array(4).fill('astro-comfyui:error'));
      for (const r of results) expect(r.data.message).toMatch(/^Refused: the page at http:\/\/127\.0\.0\.1:\d+ is not one of this dev server's pages\.$/);
      expect(JSON.stringify(results)).not.toContain('lighthouse.md');
    } finally {
      await page.close();
      await new Promise((resolve) => hostile.close(resolve));
    }
    expect(await readFile(post, 'utf8')).toBe(before);
    expect(fake.stats.promptsQueued).toBe(queued);
    expect(dev.output.join('')).toContain('Refused a dev toolbar request (astro-comfyui:init): the page at http://127.0.0.1:');
  });

  it("answers the author's own page, and only on the connection that asked", async () => {
    const author = await connectViteHmr(dev.url);
    const other = await connectViteHmr(dev.url);
    try {
      author.send('astro-comfyui:init', { requestId: 'author-init-1', pathname: '/lighthouse/' });
      const state = await waitUntil(async () => author.received.find((m) => m.event === 'astro-comfyui:state'), 10_000, 'the state');
      expect(state.data).toMatchObject({ requestId: 'author-init-1', post: 'src/content/blog/lighthouse.md', readOnly: null });
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(other.received.filter((m) => m.event.startsWith('astro-comfyui:'))).toEqual([]);
    } finally {
      author.close();
      other.close();
    }
  });

  it("relays ComfyUI to the dev server's own pages only: another site's frame, fetch and WebSocket never reach it", async () => {
    const relay = `${dev.url}/_astro-comfyui/comfyui/0/`;
    const page = `<!doctype html><title>Another site</title>
      <iframe src="${relay}"></iframe>
      <script>
        window.done = (async () => {
          await fetch(${JSON.stringify(`${relay}api/prompt`)}, { method: 'POST', mode: 'no-cors', body: '{"prompt":{}}' }).catch(() => {});
          await fetch(${JSON.stringify(`${relay}api/system_stats`)}, { mode: 'no-cors' }).catch(() => {});
          await new Promise((resolve) => {
            const socket = new WebSocket(${JSON.stringify(`${relay.replace(/^http/, 'ws')}ws?clientId=attacker`)});
            socket.onopen = () => resolve('open');
            socket.onerror = () => resolve('refused');
          }).then((r) => (window.socket = r));
          return true;
        })();
      </script>`;
    const hostile = createServer((_, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page));
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    const requests = fake.stats.httpRequests;
    const tab = await browser.newPage();
    try {
      await tab.goto(`http://127.0.0.1:${(hostile.address() as AddressInfo).port}/`);
      await tab.waitForFunction(() => (window as unknown as { socket?: string }).socket !== undefined, undefined, { timeout: 15_000 });
      expect(await tab.evaluate(() => (window as unknown as { socket: string }).socket)).toBe('refused');
      // The frame was refused by the dev server, not shown.
      const framed = tab.frames().find((f) => f.url().startsWith(relay));
      expect(await framed?.evaluate(() => document.body.textContent)).toMatch(
        /^Refused: the page at http:\/\/127\.0\.0\.1:\d+ is not one of this dev server's pages|^Refused: a request from another site/,
      );
    } finally {
      await tab.close();
      await new Promise((resolve) => hostile.close(resolve));
    }
    expect(fake.stats.httpRequests).toBe(requests);
    expect(dev.output.join('')).toContain('Refused a ComfyUI WebSocket through the dev server');
    // A program on this machine (no Origin, no Sec-Fetch-Site) is the author's, like the toolbar's own page.
    expect((await fetch(`${relay}api/system_stats`)).status).toBe(200);
    expect(fake.stats.httpRequests).toBe(requests + 1);
  });

  it('refuses a DNS-rebinding page (another Host name) on every route of its own, before ComfyUI is asked', async () => {
    // These routes are answered before Vite's own Host check (vite-plugin-toolbar-routes.ts), so their own check is the one.
    const image = (await readdir(path.join(site.root, 'src/assets/generated'))).find((name) => name.endsWith('.png'));
    const requests = fake.stats.httpRequests;
    const { port } = new URL(dev.url);
    for (const route of ['/_astro-comfyui/comfyui/0/', '/_astro-comfyui/comfyui/0/api/system_stats', `/_astro-comfyui/image/${image}`]) {
      const answer = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const request = httpRequest({ host: '127.0.0.1', port, path: route, headers: { host: `rebound.example:${port}` } }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => (body += chunk.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        request.on('error', reject).end();
      });
      expect(answer.status, route).toBe(403);
      expect(answer.body, route).not.toContain('0.3.64');
    }
    expect(fake.stats.httpRequests).toBe(requests);
    // The same routes answer the dev server's own name.
    expect((await fetch(`${dev.url}/_astro-comfyui/image/${image}`)).status).toBe(200);
  });

  it("serves candidate previews to the dev server's own pages only", async () => {
    const url = `${dev.url}/_astro-comfyui/candidate/${'0'.repeat(64)}.png`;
    expect((await fetch(url)).status).toBe(404);
    expect((await fetch(url, { headers: { 'sec-fetch-site': 'same-site' } })).status).toBe(403);
    expect((await fetch(url, { headers: { origin: 'http://localhost:9' } })).status).toBe(403);
  });
});
