import { execa } from 'execa';
import { rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeComfyUI, type FakeComfyUI, type FakeComfyUIOptions } from '../../../test/fake-comfyui/fake-comfyui.js';
import { readPngInfo } from '../../../test/fake-comfyui/encode-png.js';
import { startPrefixProxy } from '../../../test/helpers/prefix-proxy.js';
import { SELF_SIGNED } from '../../../test/helpers/self-signed-cert.js';
import { waitUntil } from '../../../test/helpers/fixture-site.js';
import { buildTestGraph } from '../../../test/helpers/sd35-graph.js';
import { waitForEvent } from '../../../test/helpers/wait-for-event.js';
import { ComfyUIError, createComfyUIClient, LeaveRunning, type ComfyUIClient, type ComfyUIMessage, type PromptProgress } from '../src/index.js';

let fake: FakeComfyUI | undefined;
let client: ComfyUIClient | undefined;
afterEach(async () => {
  await client?.close();
  await fake?.close();
  client = undefined;
  fake = undefined;
});

async function setup(options: FakeComfyUIOptions = {}, clientOptions: { timeoutMs?: number; pollIntervalMs?: number } = {}) {
  fake = await startFakeComfyUI(options);
  client = createComfyUIClient({ url: fake.url, pollIntervalMs: 25, ...clientOptions });
  return { fake, client };
}

const historyOf = async (id: string) => (await fetch(`${fake!.url}/history/${id}`)).json();

describe('runPrompt', () => {
  it('generates, reports progress, downloads the PNG and deletes the history entry', async () => {
    const { client } = await setup();
    const progress: PromptProgress[] = [];
    const result = await client.runPrompt(buildTestGraph({ width: 80, height: 48, steps: 4 }), {
      promptId: 'job-1',
      onProgress: (p) => progress.push(p),
    });
    expect(result.promptId).toBe('job-1');
    expect(result.fullyCached).toBe(false);
    expect(result.images).toHaveLength(1);
    const info = readPngInfo(result.images[0]!.data);
    expect([info.width, info.height]).toEqual([80, 48]);
    expect(progress.filter((p) => p.type === 'step').map((p) => (p as { value: number }).value)).toEqual([1, 2, 3, 4]);
    // Each node begun is named by its class in the graph: a caller can say what runs meanwhile.
    const graph = buildTestGraph({ width: 80, height: 48, steps: 4 });
    const begun = progress.flatMap((p) => (p.type === 'executing' ? [[p.node, p.classType]] : []));
    expect(begun.length).toBeGreaterThan(3);
    expect(begun).toEqual(begun.map(([node]) => [node, graph[node!]!.class_type]));
    expect(begun.map(([, classType]) => classType)).toEqual(expect.arrayContaining(['CheckpointLoaderSimple', 'KSampler', 'VAEDecode', 'SaveImage']));
    expect(await historyOf('job-1')).toEqual({});
  });

  it('works behind a reverse proxy that serves ComfyUI under a path, WebSocket included', async () => {
    fake = await startFakeComfyUI({ stepDelayMs: 5 });
    const proxy = await startPrefixProxy(fake.url, '/comfyui');
    try {
      const proxied = createComfyUIClient({ url: `${proxy.url}/`, pollIntervalMs: 500 });
      client = proxied;
      const progress: PromptProgress[] = [];
      const result = await proxied.runPrompt(buildTestGraph({ steps: 4 }), { promptId: 'proxied', onProgress: (p) => progress.push(p) });
      expect(readPngInfo(result.images[0]!.data).width).toBe(64);
      // Only the WebSocket reports steps; polling would find the job done, with none.
      expect(progress.filter((p) => p.type === 'step').map((p) => (p as { value: number }).value)).toEqual([1, 2, 3, 4]);
    } finally {
      await proxy.close();
    }
  });

  it('behind a proxy, waits out a ComfyUI restart (the proxy answers 502 meanwhile) as it does an unreachable server', async () => {
    const first = await startFakeComfyUI({ stepDelayMs: 10 });
    const port = first.port;
    const proxy = await startPrefixProxy(first.url, '/comfyui');
    try {
      client = createComfyUIClient({ url: `${proxy.url}/`, pollIntervalMs: 25 });
      let restarted: Promise<FakeComfyUI> | undefined;
      const progress: PromptProgress[] = [];
      const result = await client.runPrompt(buildTestGraph({ steps: 50 }), {
        promptId: 'behind-proxy',
        onProgress: (p) => {
          progress.push(p);
          // Down for a while: the proxy answers every poll meanwhile with 502 Bad Gateway.
          if (p.type === 'step' && !restarted) {
            restarted = first.crash().then(async () => {
              await new Promise((resolve) => setTimeout(resolve, 500));
              return startFakeComfyUI({ port });
            });
          }
        },
      });
      fake = await restarted!;
      expect(readPngInfo(result.images[0]!.data).width).toBe(64);
      expect(progress).toContainEqual({ type: 'resubmitted', promptId: 'behind-proxy', reason: 'the job was lost on the server' });
    } finally {
      await proxy.close();
    }
  });

  it("signs in to a proxy with the URL's user and password, HTTP and WebSocket, and never shows the password", async () => {
    fake = await startFakeComfyUI({ stepDelayMs: 5 });
    const proxy = await startPrefixProxy(fake.url, '/comfyui', { user: 'ann', password: 's3cret@gpu' });
    const withPassword = (password: string) => proxy.url.replace('http://', `http://ann:${encodeURIComponent(password)}@`);
    const wrong = createComfyUIClient({ url: withPassword('guess') });
    try {
      const proxied = createComfyUIClient({ url: withPassword('s3cret@gpu'), pollIntervalMs: 500 });
      client = proxied;
      expect(proxied.url).toBe(proxy.url);
      const progress: PromptProgress[] = [];
      await proxied.runPrompt(buildTestGraph({ steps: 3 }), { promptId: 'signed-in', onProgress: (p) => progress.push(p) });
      expect(progress.filter((p) => p.type === 'step').map((p) => (p as { value: number }).value)).toEqual([1, 2, 3]);

      const refused = await wrong.getSystemStats().catch((error: Error) => error);
      expect(refused).toBeInstanceOf(ComfyUIError);
      expect((refused as Error).message).toBe(
        `ComfyUI at ${proxy.url} answered GET /system_stats with HTTP 401. The server in front of ComfyUI refused the user and password in the URL.`,
      );
      const anonymous = createComfyUIClient({ url: proxy.url });
      const asked = await anonymous.getSystemStats().catch((error: Error) => error);
      await anonymous.close();
      expect((asked as Error).message).toBe(
        `ComfyUI at ${proxy.url} answered GET /system_stats with HTTP 401. The server in front of ComfyUI asks for a sign-in: put its user and password in the URL (https://user:password@host/…).`,
      );
      expect(() => createComfyUIClient({ url: `${withPassword('s3cret@gpu')}?x=1` })).toThrow(
        /^ComfyUI URL "http:\/\/127\.0\.0\.1:\d+\/comfyui\?x=1" must not/,
      );
    } finally {
      await wrong.close();
      await proxy.close();
    }
  });

  it('resolves an identical rerun from the cache without sampling again', async () => {
    const { fake, client } = await setup();
    const graph = buildTestGraph();
    const first = await client.runPrompt(graph, { promptId: 'a' });
    const runs = fake.stats.samplerRuns;
    const second = await client.runPrompt(graph, { promptId: 'b' });
    expect(fake.stats.samplerRuns).toBe(runs);
    expect(second.fullyCached).toBe(true);
    expect(second.images[0]!.data.equals(first.images[0]!.data)).toBe(true);
  });

  it('still returns the image when an older server leaves cached outputs out of history', async () => {
    const { fake, client } = await setup({ legacyHistoryOutputs: true });
    const graph = buildTestGraph();
    const first = await client.runPrompt(graph, { promptId: 'a' });
    const runs = fake.stats.samplerRuns;
    const second = await client.runPrompt(graph, { promptId: 'b' });
    expect(fake.stats.samplerRuns).toBe(runs);
    expect(readPngInfo(second.images[0]!.data).width).toBe(readPngInfo(first.images[0]!.data).width);
  });

  it("makes the image again when a finished job's file is gone from ComfyUI's output folder, then says so if it keeps going", async () => {
    const { fake, client } = await setup();
    const graph = buildTestGraph();
    // A job that finished while nothing was there to download it (a build interrupted), whose file the
    // author then deleted with the rest of ComfyUI's output folder.
    const first = await client.runPrompt(graph, { promptId: 'kept', keepHistory: true });
    const empty = () => rmSync(fake.outputDirectory, { recursive: true, force: true });
    empty();
    const runs = fake.stats.samplerRuns;
    const progress: PromptProgress[] = [];
    const again = await client.runPrompt(graph, { promptId: 'kept', onProgress: (p) => progress.push(p) });
    // The same picture of the same graph, saved anew: only the prefix in the graph it carries differs.
    const picture = (png: Buffer) => {
      const { width, height, text } = readPngInfo(png);
      const saved = JSON.parse(text.prompt!) as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
      for (const node of Object.values(saved)) if (node.class_type === 'SaveImage') delete node.inputs.filename_prefix;
      return { width, height, saved };
    };
    expect(picture(again.images[0]!.data)).toEqual(picture(first.images[0]!.data));
    expect(again.images[0]!.filename).not.toBe(first.images[0]!.filename);
    expect(progress).toContainEqual({ type: 'resubmitted', promptId: 'kept-resave', reason: "its image was gone from ComfyUI's output folder" });
    // Only SaveImage ran again: the sampler's result was still in ComfyUI's cache.
    expect(fake.stats.samplerRuns).toBe(runs);

    // Something removes every file as soon as it is saved: one more try, then the reason, not a loop.
    const vanishing = client.runPrompt(buildTestGraph({ seed: 5 }), { onProgress: (p) => p.type === 'downloading' && empty() });
    const error = await vanishing.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ComfyUIError);
    expect((error as ComfyUIError).code).toBe('BAD_OUTPUT');
    expect((error as Error).message).toMatch(
      /is not in its output folder \(GET \/view answered 404\), even after saving it again\. Check that nothing removes files from ComfyUI's output folder while it runs\.$/,
    );

    // A graph that saves with another node (a preview here) cannot be saved again: said so at once.
    const preview = buildTestGraph({ seed: 6 });
    for (const node of Object.values(preview)) if (node.class_type === 'SaveImage') node.class_type = 'PreviewImage';
    const gone = () => rmSync(`${fake.outputDirectory}-temp`, { recursive: true, force: true });
    const unsaved = await client.runPrompt(preview, { onProgress: (p) => p.type === 'downloading' && gone() }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(unsaved?.message).toMatch(/\(GET \/view answered 404\), and the workflow has no SaveImage node to save it again\./);
  });

  it('names where a redirect leads (http to https, say) instead of following it with the sign-in', async () => {
    const server = http.createServer((req, res) => {
      req.resume();
      res.writeHead(301, { Location: `https://ann:secret@gpu.example.com/comfyui${req.url}` }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = createComfyUIClient({ url });
    try {
      const error = await client.getSystemStats().then(
        () => undefined,
        (e: unknown) => e as ComfyUIError,
      );
      expect(error?.code).toBe('HTTP_ERROR');
      expect(error?.message).toBe(
        `ComfyUI at ${url} answered GET /system_stats with HTTP 301. It redirects to https://gpu.example.com/comfyui: use that as the ComfyUI URL (redirects are not followed, so a sign-in never goes elsewhere).`,
      );
    } finally {
      await client.close();
      server.close();
    }
  });

  it("takes no JSON answer of another shape for ComfyUI's (a sign-in page, another service): the error names the call, never a TypeError", async () => {
    // Answers every call with 200 and the JSON given for its path; the WebSocket is refused.
    const answers = new Map<string, string>();
    const statuses = new Map<string, number>();
    const server = http.createServer((req, res) => {
      req.resume();
      const path = (req.url ?? '').split('?')[0]!;
      res.writeHead(statuses.get(path) ?? 200, { 'Content-Type': 'application/json' }).end(answers.get(path) ?? '{"message": "Sign in to continue"}');
    });
    server.on('upgrade', (_req, socket: Socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    client = createComfyUIClient({ url, pollIntervalMs: 25 });
    const failure = (call: Promise<unknown>) =>
      call.then(
        () => undefined,
        (e: unknown) => e as ComfyUIError,
      );
    try {
      const refused = async (call: Promise<unknown>, where: string, why: string) => {
        const error = await failure(call);
        expect(error).toBeInstanceOf(ComfyUIError);
        expect(error!.code).toBe('HTTP_ERROR');
        expect(error!.message).toBe(`ComfyUI at ${url} answered ${where} with JSON that ComfyUI does not send (${why}). Check that the URL points at ComfyUI.`);
      };
      await refused(client.getSystemStats(), 'GET /system_stats', 'it has no "system" object');
      await refused(client.runPrompt(buildTestGraph(), { promptId: 'p' }), 'GET /queue', '"queue_running" is not a list');
      answers.set('/queue', '{"queue_running": [], "queue_pending": []}');
      await refused(client.runPrompt(buildTestGraph(), { promptId: 'p' }), 'GET /history/p', 'the entry of message is not an object');
      answers.set('/history/p', '{}');
      await refused(client.runPrompt(buildTestGraph(), { promptId: 'p' }), 'POST /prompt', 'it has no "prompt_id" and "number"');
      answers.set('/prompt', '{"prompt_id": "p", "number": 1, "node_errors": {}}');
      answers.set('/history/p', '{"p": {"outputs": {"9": {"images": {"filename": "a.png"}}}, "status": null}}');
      await refused(client.runPrompt(buildTestGraph(), { promptId: 'p' }), 'GET /history/p', 'the entry of p has "images" of node 9 that are not a list');
      answers.set('/system_stats', '{"system": {"comfyui_version": "0.3.64"}, "devices": [{"name": {"html": "<b>"}}]}');
      await refused(client.getSystemStats(), 'GET /system_stats', 'a device has no name, vram_total and vram_free');
      answers.set('/object_info', '[]');
      await refused(client.getObjectInfo(), 'GET /object_info', 'it is not an object of node types');
      // A refusal of the graph with parts in other shapes: what can be read is said, the rest left out.
      answers.set('/history/p', '{}');
      statuses.set('/prompt', 400);
      answers.set(
        '/prompt',
        '{"error": {"message": 5}, "node_errors": {"9": null, "7": {"errors": 5}, "3": {"errors": [null, {"message": "Value not in list", "details": 7}]}}}',
      );
      const rejected = await failure(client.runPrompt(buildTestGraph(), { promptId: 'p' }));
      expect(rejected?.code).toBe('VALIDATION_FAILED');
      expect(rejected?.message).toBe(`ComfyUI at ${url} rejected the workflow (validation failed):\n- CLIPTextEncode (node 3): Value not in list`);
    } finally {
      await client.close();
      server.close();
    }
  });

  it('finds the result when the WebSocket drops mid-job, and works with no WebSocket at all', async () => {
    const { fake, client } = await setup({ stepDelayMs: 5 });
    let dropped = false;
    const result = await client.runPrompt(buildTestGraph({ steps: 30 }), {
      onProgress: (p) => {
        if (p.type === 'step' && !dropped) {
          dropped = true;
          fake.faults.dropWebSockets();
        }
      },
    });
    expect(dropped).toBe(true);
    expect(result.images).toHaveLength(1);

    fake.faults.refuseWebSockets(true);
    const polled = await client.runPrompt(buildTestGraph({ seed: 99 }));
    expect(polled.images).toHaveLength(1);
  });

  it('follows a job already queued under the same prompt_id instead of submitting it twice', async () => {
    const { fake, client } = await setup();
    fake.faults.stallExecution(true);
    await fetch(`${fake.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: buildTestGraph(), prompt_id: 'same' }) });
    const run = client.runPrompt(buildTestGraph(), { promptId: 'same' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    fake.faults.stallExecution(false);
    const result = await run;
    expect(result.images).toHaveLength(1);
    expect(fake.stats.promptsQueued).toBe(1);
  });

  it('stopped with LeaveRunning, takes a waiting job out of the queue but lets a running one finish for the next run', async () => {
    const { fake, client } = await setup({ stepDelayMs: 20 });
    const controller = new AbortController();
    const finished = waitForEvent<{ prompt_id: string }>(fake.events, 'done', (id) => (id as unknown) === 'kept');
    const running = client.runPrompt(buildTestGraph({ steps: 20 }), {
      promptId: 'kept',
      signal: controller.signal,
      onProgress: (p) => p.type === 'step' && controller.abort(new LeaveRunning()),
    });
    await expect(running).rejects.toMatchObject({ code: 'ABORTED' });
    await finished;
    const history = (await historyOf('kept')) as Record<string, { status: { status_str: string } }>;
    expect(history.kept!.status.status_str).toBe('success');
    const samplerRuns = fake.stats.samplerRuns;
    // The next run with that prompt id collects the image; nothing is made again.
    const collected = await client.runPrompt(buildTestGraph({ steps: 20 }), { promptId: 'kept' });
    expect(collected.images).toHaveLength(1);
    expect(fake.stats.samplerRuns).toBe(samplerRuns);
    expect(fake.stats.promptsQueued).toBe(1);

    fake.faults.stallExecution(true);
    await fetch(`${fake.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: buildTestGraph({ seed: 3 }) }) });
    const waiting = new AbortController();
    const isQueued = waitForEvent(fake.events, 'queued', (id) => id === 'waiting');
    const queued = client.runPrompt(buildTestGraph({ seed: 4 }), { promptId: 'waiting', signal: waiting.signal });
    await isQueued;
    waiting.abort(new LeaveRunning());
    await expect(queued).rejects.toMatchObject({ code: 'ABORTED' });
    const queue = (await (await fetch(`${fake.url}/queue`)).json()) as { queue_pending: unknown[][] };
    expect(queue.queue_pending.map((item) => item[1])).not.toContain('waiting');
    fake.faults.stallExecution(false);
  });

  it('resubmits under the same prompt_id when the server restarted and lost the job', async () => {
    const { fake: first } = await setup({ stepDelayMs: 10 });
    const port = first.port;
    let restarted: Promise<FakeComfyUI> | undefined;
    const result = await client!.runPrompt(buildTestGraph({ steps: 50 }), {
      promptId: 'survivor',
      onProgress: (p) => {
        if (p.type === 'step' && !restarted) {
          restarted = first.crash().then(() => startFakeComfyUI({ port }));
        }
      },
    });
    fake = await restarted!;
    expect(result.images).toHaveLength(1);
    expect(fake.stats.promptsQueued).toBe(1);
  });

  it('cancels on the server when aborted: interrupts the running job and removes a queued one', async () => {
    const { fake, client } = await setup({ stepDelayMs: 5 });
    const controller = new AbortController();
    const interrupted = waitForEvent<{ prompt_id: string }>(fake.events, 'done', (id) => (id as unknown) === 'long');
    const running = client.runPrompt(buildTestGraph({ steps: 10_000 }), {
      promptId: 'long',
      signal: controller.signal,
      onProgress: (p) => p.type === 'step' && controller.abort(),
    });
    await expect(running).rejects.toMatchObject({ code: 'ABORTED' });
    await interrupted;
    const history = (await historyOf('long')) as Record<string, { status: { messages: [string][] } }>;
    expect(history.long!.status.messages.map(([type]) => type)).toContain('execution_interrupted');

    fake.faults.stallExecution(true);
    await fetch(`${fake.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: buildTestGraph({ seed: 3 }) }) });
    const queuedController = new AbortController();
    const isQueued = waitForEvent(fake.events, 'queued', (id) => id === 'queued');
    const queued = client.runPrompt(buildTestGraph({ seed: 4 }), { promptId: 'queued', signal: queuedController.signal });
    await isQueued;
    queuedController.abort();
    await expect(queued).rejects.toMatchObject({ code: 'ABORTED' });
    const queue = (await (await fetch(`${fake.url}/queue`)).json()) as { queue_pending: unknown[][] };
    expect(queue.queue_pending.map((item) => item[1])).not.toContain('queued');
    fake.faults.stallExecution(false);
  });

  it('takes a job back from the queue when asked while it waits, and never one that runs', async () => {
    const { fake, client } = await setup();
    // Something else runs (frozen): the job waits behind it.
    fake.faults.stallExecution(true);
    await fetch(`${fake.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: buildTestGraph({ seed: 3 }), prompt_id: 'other' }) });
    const withdraw = new AbortController();
    const waiting = client.runPrompt(buildTestGraph({ seed: 4 }), {
      promptId: 'waits',
      withdraw: withdraw.signal,
      onProgress: (p) => p.type === 'queued' && p.position > 0 && withdraw.abort(),
    });
    await expect(waiting).rejects.toMatchObject({ code: 'WITHDRAWN' });
    const queue = (await (await fetch(`${fake.url}/queue`)).json()) as { queue_running: unknown[][]; queue_pending: unknown[][] };
    expect(queue.queue_running.map((item) => item[1])).toEqual(['other']);
    expect(queue.queue_pending).toEqual([]);
    fake.faults.stallExecution(false);
    await waitForEvent(fake.events, 'done', (id) => id === 'other');

    // Asked before the client heard that it started (no WebSocket, the first poll not made yet): the
    // server runs it, deleting it from the queue does nothing, and the run goes on to its image.
    fake.faults.refuseWebSockets(true);
    fake.faults.dropWebSockets();
    fake.faults.stallExecution(true);
    const asked = new AbortController();
    asked.abort();
    const started = waitForEvent(fake.events, 'started', (id) => id === 'runs');
    const running = client.runPrompt(buildTestGraph({ seed: 5 }), { promptId: 'runs', withdraw: asked.signal });
    await started;
    setTimeout(() => fake.faults.stallExecution(false), 100);
    const result = await running;
    expect(result.images).toHaveLength(1);
    expect(fake.stats.promptsStarted).toBe(2);
    expect(fake.stats.samplerRuns).toBe(2);
  });

  it('refuses a server that queues the job under an id of its own, and takes that job back instead of submitting again', async () => {
    const { fake, client } = await setup({ ignoreClientPromptId: true });
    fake.faults.stallExecution(true);
    await fetch(`${fake.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: buildTestGraph({ seed: 3 }) }) });
    const run = client.runPrompt(buildTestGraph({ seed: 4 }), { promptId: 'mine' });
    await expect(run).rejects.toMatchObject({ code: 'UNSUPPORTED_SERVER' });
    await expect(run).rejects.toThrow(/queued the job as "[0-9a-f-]{36}", not under the prompt id it was given \(mine\)[\s\S]*Update ComfyUI/);
    expect(fake.stats.promptsQueued).toBe(2);
    const queue = (await (await fetch(`${fake.url}/queue`)).json()) as { queue_pending: unknown[][] };
    expect(queue.queue_pending).toEqual([]);
    fake.faults.stallExecution(false);
  });

  it('gives up at the deadline of a job that never finishes', async () => {
    const { fake, client } = await setup();
    fake.faults.stallExecution(true);
    const error = await client.runPrompt(buildTestGraph(), { deadlineMs: 150 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComfyUIError);
    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED' });
    expect((error as Error).message).toContain('did not finish within 150 ms. Raise the deadline');
    fake.faults.stallExecution(false);
  });

  it('explains a missing checkpoint with the folder it belongs in', async () => {
    const { client } = await setup();
    const error = await client.runPrompt(buildTestGraph({ checkpoint: 'sd3.5_large_turbo_typo.safetensors' })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((error as Error).message).toContain('"sd3.5_large_turbo_typo.safetensors" is not installed. Put it in ComfyUI/models/checkpoints/');
  });

  it('explains the CLIP failure of a checkpoint without text encoders', async () => {
    const { client } = await setup();
    const graph = buildTestGraph();
    graph['3']!.inputs.clip = ['1', 1];
    const error = await client.runPrompt(graph).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EXECUTION_FAILED' });
    expect((error as Error).message).toMatch(/CLIPTextEncode.*clip input is invalid: None.*load them separately/s);
  });
});

describe('ComfyUIClient', () => {
  it('rejects a malformed URL at construction', () => {
    expect(() => createComfyUIClient({ url: 'localhost:8188' })).toThrow(/must start with http/);
    expect(() => createComfyUIClient({ url: 'not a url' })).toThrow(/not a valid ComfyUI URL/);
    expect(() => createComfyUIClient({ url: 'http://127.0.0.1:8188', timeoutMs: 0 })).toThrow(/timeoutMs/);
  });

  it('reports an unreachable server and a server that does not answer in time', async () => {
    const { fake } = await setup({}, { timeoutMs: 150 });
    const port = fake.port;
    fake.faults.stallHttp(true);
    await expect(client!.getSystemStats()).rejects.toMatchObject({
      code: 'TIMEOUT',
      message: `ComfyUI at http://127.0.0.1:${port} did not answer GET /system_stats within 150 ms. It may be overloaded or hung; check its console.`,
    });
    fake.faults.stallHttp(false);
    await fake.close();
    const error = await client!.getSystemStats().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNREACHABLE' });
    expect((error as Error).message).toBe(
      `ComfyUI is not reachable at http://127.0.0.1:${port} (ECONNREFUSED during GET /system_stats). Start ComfyUI, or check the URL and that the machine is on the network.`,
    );
    // Silent at such an address: a firewall that drops the connection is as likely as a hung ComfyUI.
    const far = await startFakeComfyUI({ host: '127.0.0.2' });
    far.faults.stallHttp(true);
    const farClient = createComfyUIClient({ url: far.url, timeoutMs: 150 });
    const silent = await farClient.getSystemStats().catch((e: unknown) => e);
    await farClient.close();
    far.faults.stallHttp(false);
    await far.close();
    expect(silent).toMatchObject({ code: 'TIMEOUT' });
    expect((silent as Error).message).toBe(
      `ComfyUI at ${far.url} did not answer GET /system_stats within 150 ms. The machine may be off or on another network, or a firewall drops the connection (on a Windows GPU machine, allow ComfyUI's port in Windows Defender Firewall); or ComfyUI there is overloaded or hung (check its console).`,
    );
    // Refused at an address that names no local ComfyUI (127.0.0.2 answers on this machine, but a URL
    // with it is another machine's to us): the GPU box is on, and its ComfyUI answers only itself.
    const other = createComfyUIClient({ url: `http://127.0.0.2:${port}` });
    const refused = await other.getSystemStats().catch((e: unknown) => e);
    await other.close();
    expect((refused as Error).message).toBe(
      `ComfyUI is not reachable at http://127.0.0.2:${port} (ECONNREFUSED during GET /system_stats). Start ComfyUI on that machine with --listen 0.0.0.0 (without it, ComfyUI answers only its own machine), and check the port.`,
    );
  });

  it('says that a certificate is not trusted, and how to trust it; NODE_EXTRA_CA_CERTS then works', async () => {
    const server = https.createServer(SELF_SIGNED, (_, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"system":{},"devices":[]}'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const folder = await mkdtemp(path.join(tmpdir(), 'ca-'));
    try {
      client = createComfyUIClient({ url });
      const refused = await client.getSystemStats().catch((error: Error) => error);
      expect((refused as Error).message).toBe(
        `ComfyUI at ${url} presented a TLS certificate this machine does not trust (DEPTH_ZERO_SELF_SIGNED_CERT during GET /system_stats). If your own CA signed it, start with NODE_EXTRA_CA_CERTS=/path/to/ca.pem; if it has expired or names another host, renew it.`,
      );
      // The advice, followed: a new process that trusts the certificate gets its answer.
      await writeFile(path.join(folder, 'ca.pem'), SELF_SIGNED.cert);
      const script = path.join(folder, 'ask.mts');
      await writeFile(
        script,
        `import { createComfyUIClient } from ${JSON.stringify(fileURLToPath(new URL('../src/index.ts', import.meta.url)))};
        const client = createComfyUIClient({ url: ${JSON.stringify(url)} });
        console.log(JSON.stringify(await client.getSystemStats()));
        await client.close();`,
      );
      const trusted = await execa(process.execPath, ['--import', 'tsx', script], {
        env: { NODE_EXTRA_CA_CERTS: path.join(folder, 'ca.pem') },
        timeout: 20_000,
      });
      expect(JSON.parse(trusted.stdout)).toEqual({ system: {}, devices: [] });
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await rm(folder, { recursive: true, force: true });
    }
  });

  it('listModels names the files of one model folder, and names the folders ComfyUI has when it has no such folder', async () => {
    const { client } = await setup();
    expect(await client.listModels('text_encoders')).toEqual(expect.arrayContaining(['clip_g.safetensors', 't5xxl_fp16.safetensors']));
    expect(await client.listModels('checkpoints')).toContain('sd3.5_large_turbo.safetensors');
    for (const folder of ['checkpoint', 'no such/folder']) {
      const missing = await client.listModels(folder).catch((e: unknown) => e);
      expect(missing).toMatchObject({
        code: 'HTTP_ERROR',
        message: expect.stringMatching(
          new RegExp(
            `^ComfyUI at http://127\\.0\\.0\\.1:\\d+ has no model folder ${JSON.stringify(folder)}\\. Its folders: .*"checkpoints", .*"text_encoders"`,
          ),
        ),
        details: { status: 404, path: `/models/${encodeURIComponent(folder)}` },
      });
    }
  });

  it('listModels and freeMemory send what ComfyUI reads, and refuse an answer that is not a list of names', async () => {
    const requests: Array<{ method?: string; url?: string; body: string }> = [];
    let answer = '["a.safetensors", 7]';
    let folders = 'not json';
    const server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk));
      req.on('end', () => {
        requests.push({ method: req.method, url: req.url, body });
        if (req.url === '/models/nope') res.writeHead(404).end();
        else if (req.url === '/models') res.writeHead(200, { 'content-type': 'application/json' }).end(folders);
        else res.writeHead(200, { 'content-type': 'application/json' }).end(req.url?.startsWith('/models/') ? answer : '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      client = createComfyUIClient({ url });
      await expect(client.listModels('loras')).rejects.toThrow(
        `ComfyUI at ${url} answered GET /models/loras with JSON that ComfyUI does not send (it is not a list of file names). Check that the URL points at ComfyUI.`,
      );
      answer = '["a.safetensors"]';
      expect(await client.listModels('loras')).toEqual(['a.safetensors']);
      // A server whose list of folders is not ComfyUI's may not be ComfyUI: the generic 404 message stays.
      await expect(client.listModels('nope')).rejects.toThrow(
        `ComfyUI at ${url} answered GET /models/nope with HTTP 404. This ComfyUI may be too old or the URL may not point at ComfyUI.`,
      );
      // Folder names come from the server: shown escaped, and only so many.
      folders = JSON.stringify(['loras\u001b[2J', ...Array.from({ length: 59 }, (_, i) => `f${i}`)]);
      const missing = await client.listModels('nope').catch((e: Error) => e.message);
      expect(missing).toMatch(/^ComfyUI at http:\S+ has no model folder "nope"\. Its folders: "loras\\u001b\[2J", "f0", .*"f38", …\.$/);
      expect(missing).not.toContain('\u001b');
      await client.freeMemory();
      await client.freeMemory({ unloadModels: false });
      const frees = requests.filter((r) => r.url === '/free');
      expect(frees.map((r) => [r.method, JSON.parse(r.body)])).toEqual([
        ['POST', { unload_models: true, free_memory: true }],
        ['POST', { unload_models: false, free_memory: true }],
      ]);
    } finally {
      await client?.close();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("events.subscribeAll hears ComfyUI's queue status and every prompt's messages, until it unsubscribes", async () => {
    const { client } = await setup();
    const heard: ComfyUIMessage[] = [];
    const unsubscribe = client.events.subscribeAll((message) => heard.push(message));
    // ComfyUI greets every socket with the queue's status and the session id.
    await waitUntil(async () => heard.find((m) => m.type === 'status' && typeof m.data.sid === 'string'), 5_000, 'the status greeting');
    expect(client.events.connected).toBe(true);
    await client.runPrompt(buildTestGraph({ steps: 3 }), { promptId: 'heard' });
    const ofHeard = heard.filter((m) => m.data.prompt_id === 'heard').map((m) => m.type);
    expect(ofHeard).toEqual(expect.arrayContaining(['execution_start', 'executing', 'progress', 'executed', 'execution_success']));
    expect(heard.filter((m) => m.type === 'progress' && m.data.prompt_id === 'heard').map((m) => m.data.value)).toEqual([1, 2, 3]);
    // The queue's status between jobs, which no prompt's own listener gets: it carries no prompt_id.
    expect(heard.some((m) => m.type === 'status' && (m.data.status as { exec_info?: { queue_remaining?: number } })?.exec_info?.queue_remaining === 1)).toBe(
      true,
    );
    unsubscribe();
    // With no listener left, the socket is kept a moment for a next job, then closed.
    await waitUntil(async () => !client.events.connected || undefined, 10_000, 'the idle socket to close');
    const count = heard.length;
    await client.runPrompt(buildTestGraph({ steps: 3 }), { promptId: 'unheard' });
    expect(heard.length).toBe(count);
  });

  it('leaves nothing open after close(): a script using it exits by itself', async () => {
    const { fake } = await setup();
    const script = fileURLToPath(new URL('./fixtures/run-then-close.ts', import.meta.url));
    const result = await execa(process.execPath, ['--import', 'tsx', script, fake.url], { timeout: 20_000, reject: false });
    expect(result.timedOut).toBe(false);
    expect(result.stdout).toContain('images:1');
    expect(result.exitCode).toBe(0);
  });
});

describe('runPrompt progress', () => {
  it('reports each fact once and in order: no queue position 0 per poll, each step once, nothing after downloading', async () => {
    const { client } = await setup({ stepDelayMs: 15 });
    const progress: PromptProgress[] = [];
    await client.runPrompt(buildTestGraph({ steps: 12 }), { promptId: 'once', onProgress: (p) => progress.push(p) });
    const types = progress.map((p) => p.type);
    expect(progress.filter((p) => p.type === 'queued')).toEqual([{ type: 'queued', promptId: 'once', position: -1 }]);
    expect(types.filter((t) => t === 'started')).toHaveLength(1);
    expect(progress.filter((p) => p.type === 'step').map((p) => (p as { value: number }).value)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(types.indexOf('started')).toBeLessThan(types.indexOf('step'));
    expect(types.at(-1)).toBe('downloading');
  });

  it('asks the server little while its socket reports: at most 6 HTTP requests per image, however long it runs', async () => {
    // Jobs of 1 s and a 200 ms poll interval: a client that polled every interval would ask ~4 more times
    // per image. The interval is far longer than the socket's gaps (10 ms steps), even on a loaded machine.
    const { fake, client } = await setup({ stepDelayMs: 10 }, { pollIntervalMs: 200 });
    // The first job also opens the WebSocket (an upgrade request): count from the second on.
    await client.runPrompt(buildTestGraph({ seed: 99, steps: 2 }), { promptId: 'warm-up' });
    const before = fake.stats.httpRequests;
    for (let i = 0; i < 4; i++) await client.runPrompt(buildTestGraph({ seed: i, steps: 100 }), { promptId: `quiet-${i}` });
    // Per image: /queue + /history (an earlier job under this id?), /prompt, /history when it finished,
    // /view and the history delete: 6, not one more per poll interval of a 1 s job.
    expect((fake.stats.httpRequests - before) / 4).toBeLessThanOrEqual(6);
  });

  it('still reports the steps of a server that sends only progress_state for them', async () => {
    const { client } = await setup({ stepDelayMs: 5 });
    // Hide the classic `progress` messages from the client: progress_state alone must do.
    const progress: PromptProgress[] = [];
    const onlyState = (p: PromptProgress) => progress.push(p);
    const original = client.events.subscribe.bind(client.events);
    client.events.subscribe = (id, listener) => original(id, (m) => m.type !== 'progress' && listener(m));
    await client.runPrompt(buildTestGraph({ steps: 5 }), { promptId: 'state-only', onProgress: onlyState });
    expect(progress.filter((p) => p.type === 'step').map((p) => (p as { value: number }).value)).toEqual([1, 2, 3, 4, 5]);
  });

  it('explains a file missing from a V3 loader with its folder, with one full stop and no restart advice', async () => {
    const { client } = await setup();
    const graph = buildTestGraph();
    graph['2']!.inputs.clip_name3 = 'not_installed.safetensors';
    const error = (await client.runPrompt(graph, { promptId: 'missing-t5' }).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain(
      "Model in folder 'text_encoders' with filename 'not_installed.safetensors' not found. Put the file in ComfyUI/models/text_encoders/ (ComfyUI sees new files without a restart)",
    );
    expect(error.message).not.toContain('..');
  });
});

describe('runPrompt treats ComfyUI answers as untrusted', () => {
  const expectImage = { width: 64, height: 48 };
  const cases = [
    ['html', /it is not a PNG \(it starts with "<!doctype html>/],
    ['half', /truncated|does not decode|has \d+ bytes/],
    ['huge-claim', /it is 50000x50000, not the 64x48 that was asked for/],
    ['wrong-size', /it is 64x64, not the 64x48 that was asked for/],
    ['oversized', /answered GET \/view\?.* with more than 64 MiB; refused/],
    ['endless', /answered GET \/view\?.* with more than 64 MiB; refused/],
  ] as const;
  it.each(cases)('a /view answer that is %s fails the run as BAD_OUTPUT naming the endpoint', async (fault, reason) => {
    const { fake, client } = await setup();
    fake.faults.breakView(fault);
    const error = await client.runPrompt(buildTestGraph(), { promptId: `bad-${fault}`, expectImage }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ComfyUIError);
    expect((error as ComfyUIError).code).toBe('BAD_OUTPUT');
    expect((error as Error).message).toContain(fake.url);
    expect((error as Error).message).toMatch(reason);
  });

  it('checks every PNG even without an expected size, and a good answer still passes', async () => {
    const { fake, client } = await setup();
    fake.faults.breakView('half');
    await expect(client.runPrompt(buildTestGraph(), { promptId: 'half-no-size' })).rejects.toThrow(/unusable image .*\.png/);
    fake.faults.breakView(null);
    const result = await client.runPrompt(buildTestGraph(), { promptId: 'good', expectImage });
    expect(readPngInfo(result.images[0]!.data)).toMatchObject(expectImage);
  });

  it("refuses an output name that leaves ComfyUI's folders without requesting it", async () => {
    const { fake, client } = await setup();
    const graph = buildTestGraph();
    await client.runPrompt(graph, { promptId: 'first', keepHistory: true });
    // A hostile server: its history names a file outside its output folder.
    const entry = (await historyOf('first')).first;
    entry.outputs['9'].images[0] = { filename: 'passwd', subfolder: '../../etc', type: 'output' };
    const { createServer } = await import('node:http');
    const hostile = createServer((req, res) => {
      if (req.url?.startsWith('/history/')) return void res.end(JSON.stringify({ [decodeURIComponent(req.url.slice(9))]: entry }));
      if (req.url === '/queue') return void res.end(JSON.stringify({ queue_running: [], queue_pending: [] }));
      res.statusCode = 500;
      res.end();
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(hostile.address() as { port: number }).port}`;
    const other = createComfyUIClient({ url, pollIntervalMs: 25 });
    try {
      await expect(other.runPrompt(graph, { promptId: 'first' })).rejects.toThrow(/"\.\.\/\.\.\/etc\/passwd".*not a plain path/);
    } finally {
      await other.close();
      await new Promise((resolve) => hostile.close(resolve));
    }
    expect(fake.stats.httpRequests).toBeGreaterThan(0);
  });

  it('a reset or a stall after the headers is retried like one before them, then reported with the URL', async () => {
    const { fake, client } = await setup({}, { timeoutMs: 250 });
    fake.faults.breakView('reset', 1);
    const recovered = await client.runPrompt(buildTestGraph({ seed: 1 }), { promptId: 'reset-once', expectImage });
    expect(readPngInfo(recovered.images[0]!.data)).toMatchObject(expectImage);

    fake.faults.breakView('trickle', 1);
    const afterStall = await client.runPrompt(buildTestGraph({ seed: 2 }), { promptId: 'trickle-once', expectImage });
    expect(readPngInfo(afterStall.images[0]!.data)).toMatchObject(expectImage);

    fake.faults.breakView('reset');
    const error = await client.runPrompt(buildTestGraph({ seed: 3 }), { promptId: 'reset-always', unreachableGraceMs: 300 }).catch((e: unknown) => e);
    expect((error as ComfyUIError).code).toBe('UNREACHABLE');
    expect((error as Error).message).toContain(`ComfyUI is not reachable at ${fake.url}`);
    expect((error as Error).message).toMatch(/during GET \/view/);
  });
});
