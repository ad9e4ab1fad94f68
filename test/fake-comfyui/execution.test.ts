import { afterEach, describe, expect, it } from 'vitest';
import { buildTestGraph } from '../helpers/sd35-graph.js';
import { WsRecorder } from '../helpers/ws-recorder.js';
import { readPngInfo } from './encode-png.js';
import { startFakeComfyUI, type FakeComfyUI, type FakeComfyUIOptions } from './fake-comfyui.js';

let fake: FakeComfyUI;
const recorders: WsRecorder[] = [];
afterEach(async () => {
  for (const r of recorders.splice(0)) r.close();
  await fake?.close();
});

async function setup(options: FakeComfyUIOptions = {}, clientId = 'client-a') {
  fake = await startFakeComfyUI(options);
  const ws = await WsRecorder.connect(fake.url, clientId);
  recorders.push(ws);
  return ws;
}

async function submit(prompt: unknown, extra: Record<string, unknown> = {}) {
  const res = await fetch(`${fake.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt, client_id: 'client-a', ...extra }) });
  expect(res.status).toBe(200);
  return ((await res.json()) as { prompt_id: string }).prompt_id;
}

const getJson = async (path: string) => (await fetch(`${fake.url}${path}`)).json() as Promise<any>;

describe('fake ComfyUI execution', () => {
  it('emits the real message sequence to the submitting client and writes history after success', async () => {
    const ws = await setup();
    const other = await WsRecorder.connect(fake.url, 'client-b');
    recorders.push(other);
    const id = await submit(buildTestGraph({ steps: 3 }));
    const messages = await ws.waitForPrompt(id);
    const types = messages.map((m) => m.type);
    expect(types.slice(0, 2)).toEqual(['execution_start', 'execution_cached']);
    expect(messages[1]!.data.nodes).toEqual([]);
    expect(messages.filter((m) => m.type === 'progress').map((m) => [m.data.value, m.data.max, m.data.node])).toEqual([
      [1, 3, '7'],
      [2, 3, '7'],
      [3, 3, '7'],
    ]);
    expect(messages.filter((m) => m.type === 'executing').map((m) => m.data.node)).toEqual(['1', '6', '2', '3', '4', '5', '7', '8', '9', null]);
    expect(types.slice(-4)).toEqual(['executed', 'progress_state', 'execution_success', 'executing']);
    const executed = messages.find((m) => m.type === 'executed')!;
    expect(executed.data).toMatchObject({ node: '9', output: { images: [{ filename: 'test_00001_.png', subfolder: '', type: 'output' }] } });

    // Another client sees queue status broadcasts but none of this prompt's execution messages.
    expect(other.messages.filter((m) => m.data.prompt_id === id)).toEqual([]);
    expect(other.messages.some((m) => m.type === 'status')).toBe(true);

    const history = await getJson(`/history/${id}`);
    expect(history[id].status).toMatchObject({ status_str: 'success', completed: true });
    expect(history[id].status.messages.map((m: [string]) => m[0])).toEqual(['execution_start', 'execution_cached', 'execution_success']);
    expect(history[id].prompt[1]).toBe(id);
    expect(history[id].outputs['9'].images[0].filename).toBe('test_00001_.png');
  });

  it('runs prompts one at a time in queue order and shows them in /queue', async () => {
    const ws = await setup({ stepDelayMs: 20 });
    fake.faults.stallExecution(true);
    const first = await submit(buildTestGraph({ seed: 1 }));
    const second = await submit(buildTestGraph({ seed: 2 }));
    const third = await submit(buildTestGraph({ seed: 3 }), { front: true });
    await ws.waitFor((m) => m.type === 'execution_start' && m.data.prompt_id === first);
    const queue = await getJson('/queue');
    expect(queue.queue_running.map((item: unknown[]) => item[1])).toEqual([first]);
    expect(queue.queue_pending.map((item: unknown[]) => item[1])).toEqual([third, second]);
    expect((await getJson('/prompt')).exec_info.queue_remaining).toBe(3);
    expect(await getJson(`/history/${second}`)).toEqual({});

    await fetch(`${fake.url}/queue`, { method: 'POST', body: JSON.stringify({ delete: [second] }) });
    fake.faults.stallExecution(false);
    await ws.waitForPrompt(third);
    const starts = ws.messages.filter((m) => m.type === 'execution_start').map((m) => m.data.prompt_id);
    expect(starts).toEqual([first, third]);
    const ends = ws.messages.filter((m) => m.type === 'execution_success').map((m) => m.data.prompt_id);
    expect(ends).toEqual([first, third]);
  });

  it("serves an identical resubmission entirely from cache, re-sending only the output node's executed", async () => {
    const ws = await setup();
    const graph = buildTestGraph();
    await ws.waitForPrompt(await submit(graph));
    const samplerRuns = fake.stats.samplerRuns;
    const rerun = await submit(graph);
    const messages = await ws.waitForPrompt(rerun);
    expect(messages.map((m) => m.type)).toEqual(['execution_start', 'execution_cached', 'executed', 'progress_state', 'execution_success', 'executing']);
    expect(messages[1]!.data.nodes).toEqual(['1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(fake.stats.samplerRuns).toBe(samplerRuns);
    const history = await getJson(`/history/${rerun}`);
    expect(history[rerun].outputs['9'].images[0].filename).toBe('test_00001_.png');

    // A changed seed re-runs only the sampler and what follows it; the loaders stay cached.
    const reseeded = await submit(buildTestGraph({ seed: 8 }));
    const executing = (await ws.waitForPrompt(reseeded)).filter((m) => m.type === 'executing').map((m) => m.data.node);
    expect(executing).toEqual(['7', '8', '9', null]);
  });

  it('sends neither executed nor progress_state for a cached rerun, like older servers, when configured', async () => {
    const ws = await setup({ cachedExecutedMessages: false, progressState: false });
    const graph = buildTestGraph();
    await ws.waitForPrompt(await submit(graph));
    const messages = await ws.waitForPrompt(await submit(graph));
    expect(messages.map((m) => m.type)).toEqual(['execution_start', 'execution_cached', 'execution_success', 'executing']);
  });

  it('accepts a missing file in a V3 loader at submit and fails it at execution, as 0.3.64 does', async () => {
    const ws = await setup();
    const graph = buildTestGraph();
    graph['2']!.inputs.clip_name3 = 'not_installed.safetensors';
    const id = await submit(graph);
    const error = (await ws.waitForPrompt(id)).find((m) => m.type === 'execution_error')!;
    expect(error.data).toMatchObject({
      node_type: 'TripleCLIPLoader',
      exception_type: 'FileNotFoundError',
      exception_message: "Model in folder 'text_encoders' with filename 'not_installed.safetensors' not found.\n",
    });
  });

  it('leaves cached outputs out of history like older servers when configured', async () => {
    const ws = await setup({ legacyHistoryOutputs: true });
    const graph = buildTestGraph();
    await ws.waitForPrompt(await submit(graph));
    const rerun = await submit(graph);
    await ws.waitForPrompt(rerun);
    expect((await getJson(`/history/${rerun}`))[rerun].outputs).toEqual({});
  });

  it('writes real PNGs with prompt/workflow chunks, deterministic in seed and prompt', async () => {
    const ws = await setup();
    const workflow = { nodes: [], links: [] };
    const id = await submit(buildTestGraph({ width: 96, height: 64, text: 'a lighthouse, "dusk" — café' }), {
      extra_data: { extra_pnginfo: { workflow } },
    });
    await ws.waitForPrompt(id);
    const image = (await getJson(`/history/${id}`))[id].outputs['9'].images[0];
    const res = await fetch(`${fake.url}/view?${new URLSearchParams(image)}`);
    expect(res.headers.get('content-type')).toBe('image/png');
    const png = Buffer.from(await res.arrayBuffer());
    const info = readPngInfo(png);
    expect([info.width, info.height]).toEqual([96, 64]);
    expect(JSON.parse(info.text.prompt!)['3'].inputs.text).toBe('a lighthouse, "dusk" — café');
    expect(JSON.parse(info.text.workflow!)).toEqual(workflow);

    const again = await submit(buildTestGraph({ width: 96, height: 64, text: 'a lighthouse, "dusk" — café', prefix: 'again' }), {
      extra_data: { extra_pnginfo: { workflow } },
    });
    await ws.waitForPrompt(again);
    const sameBytes = Buffer.from(await (await fetch(`${fake.url}/view?filename=again_00001_.png`)).arrayBuffer());
    expect(sameBytes.subarray(sameBytes.indexOf('IDAT'))).toEqual(png.subarray(png.indexOf('IDAT')));

    const other = await submit(buildTestGraph({ width: 96, height: 64, seed: 99, prefix: 'other' }));
    await ws.waitForPrompt(other);
    const otherBytes = Buffer.from(await (await fetch(`${fake.url}/view?filename=other_00001_.png`)).arrayBuffer());
    expect(otherBytes.subarray(otherBytes.indexOf('IDAT'))).not.toEqual(png.subarray(png.indexOf('IDAT')));
  });

  it('scales with ImageScaleBy as ComfyUI does: round(side * scale_by), halves to even', async () => {
    const ws = await setup();
    const scaled = async (width: number, height: number, scale: number, prefix: string) => {
      const graph = buildTestGraph({ width, height, prefix });
      graph['10'] = { class_type: 'ImageScaleBy', inputs: { image: ['8', 0], upscale_method: 'lanczos', scale_by: scale } };
      graph['9']!.inputs.images = ['10', 0];
      const id = await submit(graph);
      await ws.waitForPrompt(id);
      const image = (await getJson(`/history/${id}`))[id].outputs['9'].images[0];
      const info = readPngInfo(Buffer.from(await (await fetch(`${fake.url}/view?${new URLSearchParams(image)}`)).arrayBuffer()));
      return [info.width, info.height];
    };
    expect(await scaled(96, 64, 1.5, 'up')).toEqual([144, 96]);
    // 16 * 1.03125 = 16.5 and 48 * 1.03125 = 49.5: Python's round gives 16 and 50.
    expect(await scaled(16, 48, 1.03125, 'halves')).toEqual([16, 50]);
  });

  it('numbers SaveImage files per prefix and one file per batch image', async () => {
    const ws = await setup();
    const id = await submit(buildTestGraph({ batch: 2, prefix: 'posts/hero' }));
    await ws.waitForPrompt(id);
    const images = (await getJson(`/history/${id}`))[id].outputs['9'].images;
    expect(images).toEqual([
      { filename: 'hero_00001_.png', subfolder: 'posts', type: 'output' },
      { filename: 'hero_00002_.png', subfolder: 'posts', type: 'output' },
    ]);
    expect((await fetch(`${fake.url}/view?filename=hero_00002_.png&subfolder=posts`)).status).toBe(200);
  });

  it('fails CLIPTextEncode like ComfyUI when the checkpoint has no text encoders', async () => {
    const ws = await setup();
    const graph = buildTestGraph();
    graph['3']!.inputs.clip = ['1', 1];
    const id = await submit(graph);
    const messages = await ws.waitForPrompt(id);
    const error = messages.find((m) => m.type === 'execution_error')!;
    expect(error.data).toMatchObject({ node_id: '3', node_type: 'CLIPTextEncode', exception_type: 'RuntimeError' });
    expect(error.data.exception_message).toContain('clip input is invalid: None');
    expect(messages.some((m) => m.type === 'execution_success')).toBe(false);
    const history = (await getJson(`/history/${id}`))[id];
    expect(history.status).toMatchObject({ status_str: 'error', completed: false });

    // The same graph works with a checkpoint that embeds its encoders.
    const embedded = buildTestGraph({ checkpoint: 'sd3.5_large_fp8_scaled.safetensors' });
    embedded['3']!.inputs.clip = ['1', 1];
    const ok = await ws.waitForPrompt(await submit(embedded));
    expect(ok.some((m) => m.type === 'execution_success')).toBe(true);
  });

  it('injects execution_error on a chosen node and interrupts the running prompt', async () => {
    const ws = await setup({ stepDelayMs: 5 });
    fake.faults.failNode('VAEDecode', 'CUDA out of memory', 'torch.OutOfMemoryError');
    const failed = await submit(buildTestGraph());
    const error = (await ws.waitForPrompt(failed)).find((m) => m.type === 'execution_error')!;
    expect(error.data).toMatchObject({ node_type: 'VAEDecode', exception_type: 'torch.OutOfMemoryError' });
    fake.faults.clearFailures();

    const long = await submit(buildTestGraph({ steps: 10_000, seed: 5 }));
    await ws.waitFor((m) => m.type === 'progress' && m.data.prompt_id === long);
    await fetch(`${fake.url}/interrupt`, { method: 'POST', body: JSON.stringify({ prompt_id: 'someone-else' }) });
    await fetch(`${fake.url}/interrupt`, { method: 'POST', body: '{}' });
    const messages = await ws.waitForPrompt(long);
    expect(messages.find((m) => m.type === 'execution_interrupted')!.data).toMatchObject({ node_id: '7', node_type: 'KSampler' });
    expect((await getJson(`/history/${long}`))[long].status.status_str).toBe('error');
  });

  it('survives dropped WebSockets: a reconnecting client gets the rest of its messages', async () => {
    const ws = await setup({ stepDelayMs: 5 });
    const id = await submit(buildTestGraph({ steps: 40 }));
    await ws.waitFor((m) => m.type === 'progress' && m.data.prompt_id === id);
    fake.faults.dropWebSockets();
    await new Promise((resolve) => ws.socket.once('close', resolve));
    const again = await WsRecorder.connect(fake.url, 'client-a');
    recorders.push(again);
    const messages = await again.waitForPrompt(id);
    expect(messages.some((m) => m.type === 'execution_success')).toBe(true);
  });

  it('stops like a killed process on crash: connections refused afterwards', async () => {
    const ws = await setup({ stepDelayMs: 5 });
    const id = await submit(buildTestGraph({ steps: 1000 }));
    await ws.waitFor((m) => m.type === 'progress' && m.data.prompt_id === id);
    const url = fake.url;
    await fake.crash();
    await expect(fetch(`${url}/system_stats`)).rejects.toThrow();
  });

  it('holds HTTP answers while stalled', async () => {
    await setup();
    fake.faults.stallHttp(true);
    const answer = fetch(`${fake.url}/system_stats`, { signal: AbortSignal.timeout(100) });
    await expect(answer).rejects.toThrow(/timeout|abort/i);
    fake.faults.stallHttp(false);
    expect((await fetch(`${fake.url}/system_stats`)).status).toBe(200);
  });

  it('refuses a WebSocket from a foreign origin', async () => {
    fake = await startFakeComfyUI();
    await expect(WsRecorder.connect(fake.url, 'x', { Origin: 'http://localhost:4321' })).rejects.toThrow(/403/);
  });
});
