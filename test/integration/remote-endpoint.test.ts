import { readdir, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { startFakeComfyUI } from '../fake-comfyui/fake-comfyui.js';
import { useCleanups } from '../helpers/cleanups.js';
import { copyFixture, runAstro, runCli, startAstroDev, waitUntil } from '../helpers/fixture-site.js';
import { connectViteHmr } from '../helpers/vite-hmr-client.js';
import { findFreePort } from '../helpers/find-free-port.js';
import { startPrefixProxy } from '../helpers/prefix-proxy.js';
import { fakeStartCommand } from '../helpers/fake-launcher.js';

const cleanups = useCleanups();

/** A GET of `path` on `origin`, the path sent exactly as written (fetch and URL would resolve its dots). */
function rawGet(origin: string, path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    http
      .get({ host: hostname, port: Number(port), path }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

/** The first line of the answer to a WebSocket upgrade of `path` on `origin`, the path sent as written. */
function rawUpgrade(origin: string, path: string): Promise<string> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname, () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`,
      );
    });
    let answer = '';
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      if (answer.includes('\r\n')) {
        socket.destroy();
        resolve(answer.slice(0, answer.indexOf('\r\n')));
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
  });
}

describe('a team ComfyUI behind a proxy, under a path and with a sign-in', () => {
  it('generates through it, shows its status and relays its web UI, and the password appears nowhere', async () => {
    const fake = await startFakeComfyUI();
    cleanups.push(() => fake.close());
    const proxy = await startPrefixProxy(fake.url, '/comfyui', { user: 'ann', password: 'gpu-s3cret' });
    cleanups.push(() => proxy.close());
    const site = await copyFixture('blog');
    cleanups.push(site.cleanup);
    const env = { COMFYUI_URL: proxy.url.replace('http://', 'http://ann:gpu-s3cret@') };

    const generated = await runCli(site.root, ['generate'], env);
    expect(generated.exitCode, String(generated.all)).toBe(0);
    expect(String(generated.all)).toContain(`Generating 4 images with ComfyUI (${proxy.url}).`);
    expect((await readdir(path.join(site.root, 'src/assets/generated'))).filter((f) => f.endsWith('.png'))).toHaveLength(4);
    const status = await runCli(site.root, ['status'], env);
    expect(status.stdout).toContain(`${proxy.url}: up — ComfyUI 0.3.64`);

    const dev = await startAstroDev(site.root, await findFreePort(), env);
    cleanups.push(() => dev.stop());
    // The Advanced tab's frame: the dev server signs in for the author's page, the browser never sees how.
    const relayed = await fetch(`${dev.url}/_astro-comfyui/comfyui/0/api/system_stats`);
    expect(relayed.status).toBe(200);
    expect(((await relayed.json()) as { system: { comfyui_version: string } }).system.comfyui_version).toBe('0.3.64');
    // Only ComfyUI's own address is relayed: a path that climbs out of /comfyui/ never reaches the proxy
    // with the sign-in.
    const seenBefore = proxy.requests.length;
    for (const climb of ['%2e%2e/private', '..%2f..%2fprivate', '%2E%2E%2Fprivate']) {
      const answer = await rawGet(dev.url, `/_astro-comfyui/comfyui/0/${climb}`);
      expect(answer, climb).toEqual({ status: 404, body: 'Not under the address of this ComfyUI.' });
    }
    const upgrade = await rawUpgrade(dev.url, '/_astro-comfyui/comfyui/0/%2e%2e/private/ws');
    expect(upgrade).toMatch(/^HTTP\/1\.1 403 /);
    expect(proxy.requests.slice(seenBefore)).toEqual([]);

    for (const output of [String(generated.all), String(status.all), dev.output.join('')]) expect(output).not.toContain('gpu-s3cret');
  });
});

describe('a machine whose COMFYUI_URL points at another machine, with a shared config that starts ComfyUI', () => {
  it('uses that machine as it is, says the start command is not used, and generates in dev, build and the CLI', async () => {
    // 127.0.0.2 is this machine's loopback too, but not an address a start command serves: the other machine.
    const fake = await startFakeComfyUI({ host: '127.0.0.2' });
    cleanups.push(() => fake.close());
    const site = await copyFixture('blog');
    cleanups.push(site.cleanup);
    const env = { COMFYUI_URL: fake.url, ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ start: fakeStartCommand() }) };
    const notUsed = `COMFYUI_URL points at ${fake.url}, another machine: the start command in astro.config, which starts ComfyUI on this machine, is not used.`;

    const dev = await startAstroDev(site.root, await findFreePort(), env);
    cleanups.push(() => dev.stop());
    await dev.until(async () => (fake.stats.promptsQueued === 4 ? true : undefined), 30_000, 'the images made in dev');
    expect(dev.output.join('')).toContain(notUsed);
    expect(dev.output.join('')).not.toContain('Starting ComfyUI');
    // The Advanced tab's Start says why it cannot start ComfyUI here.
    const hmr = await connectViteHmr(dev.url);
    cleanups.push(async () => hmr.close());
    hmr.send('astro-comfyui:start', { requestId: 'start-here' });
    const answer = await waitUntil(async () => hmr.received.find((m) => m.data.requestId === 'start-here'), 15_000, 'the answer to Start');
    expect(answer).toMatchObject({ event: 'astro-comfyui:error', data: { message: notUsed } });
    await dev.stop();

    const started = await runCli(site.root, ['start'], env);
    expect(started.exitCode, String(started.all)).toBe(1);
    expect(String(started.all)).toContain(notUsed);

    await rm(path.join(site.root, 'src/assets/generated'), { recursive: true });
    const built = await runAstro(site.root, ['build'], env);
    expect(built.exitCode, String(built.all)).toBe(0);
    expect(String(built.all)).toContain(notUsed);
    expect(fake.stats.promptsQueued).toBe(8);

    await rm(path.join(site.root, 'src/assets/generated'), { recursive: true });
    const generated = await runCli(site.root, ['generate'], env);
    expect(generated.exitCode, String(generated.all)).toBe(0);
    expect(String(generated.all)).toContain(notUsed);
    expect(fake.stats.promptsQueued).toBe(12);

    // That machine down: the advice is to start ComfyUI there, not to configure a start command.
    await fake.close();
    await rm(path.join(site.root, 'src/assets/generated'), { recursive: true });
    const unreachable = await runCli(site.root, ['generate'], env);
    expect(unreachable.exitCode).toBe(1);
    expect(
      String(unreachable.stderr)
        .split('\n')
        .map((line) => line.trim()),
    ).toContain('hint: Start ComfyUI on the machine COMFYUI_URL points at (the start command in astro.config is for this one), check COMFYUI_URL.');
  });
});
