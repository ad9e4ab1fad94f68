import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { WsRecorder } from '../helpers/ws-recorder.js';
import { startFakeComfyUI, type FakeComfyUI } from './fake-comfyui.js';

/**
 * Golden tests: the fake answers the requests a real ComfyUI 0.3.64 answered, and must answer them the
 * same way (recorded-answers-0.3.64.json, extracted from shared/comfyui-recordings; the recorded
 * /object_info is object-info-0.3.64.json). A drift of the fake from the real server fails here.
 */
interface Message {
  type: string;
  data: Record<string, unknown>;
}
const recorded = JSON.parse(readFileSync(new URL('./recorded-answers-0.3.64.json', import.meta.url), 'utf8')) as {
  validation: Record<string, { status: number; body: unknown }>;
  ws: Record<'connect' | 'fresh' | 'cached' | 'interrupted' | 'error', Message[]>;
  models: Record<string, { status: number; body: unknown }>;
  view: Array<{ path: string; status: number; contentType: string | null }>;
};
const recordedObjectInfo = JSON.parse(readFileSync(new URL('./object-info-0.3.64.json', import.meta.url), 'utf8')) as Record<string, unknown>;

/** The recorded server's files, so combos and /models list the same names. */
const models = {
  checkpoints: ['sd3.5_large.safetensors', 'sd3.5_large_embedded_te.safetensors', 'sd3.5_large_turbo.safetensors', 'sd3.5_medium.safetensors'],
  text_encoders: ['clip_g.safetensors', 'clip_l.safetensors', 't5xxl_fp16.safetensors', 't5xxl_fp8_e4m3fn.safetensors', 't5xxl_stub.safetensors'],
};

/** The project's 10-node SD3.5 Large Turbo graph exactly as the recorder submitted it. */
function recordedGraph(): Record<string, { class_type: string; inputs: Record<string, unknown> }> {
  return {
    1: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd3.5_large_turbo.safetensors' } },
    2: { class_type: 'TripleCLIPLoader', inputs: { clip_name1: 'clip_l.safetensors', clip_name2: 'clip_g.safetensors', clip_name3: 't5xxl_fp16.safetensors' } },
    3: { class_type: 'CLIPTextEncode', inputs: { text: 'a "quoted" lighthouse\nat dusk, {"json": true} 🌅', clip: ['2', 0] } },
    4: { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['2', 0] } },
    5: { class_type: 'ConditioningZeroOut', inputs: { conditioning: ['4', 0] } },
    6: { class_type: 'EmptySD3LatentImage', inputs: { width: 256, height: 192, batch_size: 1 } },
    7: { class_type: 'ModelSamplingSD3', inputs: { model: ['1', 0], shift: 3.0 } },
    8: {
      class_type: 'KSampler',
      inputs: {
        model: ['7', 0],
        seed: 441204257,
        steps: 4,
        cfg: 1.0,
        sampler_name: 'euler',
        scheduler: 'sgm_uniform',
        positive: ['3', 0],
        negative: ['5', 0],
        latent_image: ['6', 0],
        denoise: 1.0,
      },
    },
    9: { class_type: 'VAEDecode', inputs: { samples: ['8', 0], vae: ['1', 2] } },
    10: { class_type: 'SaveImage', inputs: { images: ['9', 0], filename_prefix: 'record/x' } },
  };
}

/** A message without what differs between runs: ids, timestamps, file counters, tracebacks. */
function shape(message: Message): unknown {
  return JSON.parse(
    JSON.stringify(message)
      .replace(/"prompt_id":"[^"]*"/g, '"prompt_id":"P"')
      .replace(/,?"timestamp":\d+/g, '')
      .replace(/x_\d{5}_\.png/g, 'x_N_.png'),
  );
}
const executionShapes = (messages: Message[]) => messages.filter((m) => m.type !== 'status').map(shape);

let fake: FakeComfyUI | undefined;
const recorders: WsRecorder[] = [];
afterEach(async () => {
  for (const r of recorders.splice(0)) r.close();
  await fake?.close();
  fake = undefined;
});

async function setup(options: Parameters<typeof startFakeComfyUI>[0] = {}) {
  fake = await startFakeComfyUI({ models, ...options });
  const ws = await WsRecorder.connect(fake.url, 'recorder');
  recorders.push(ws);
  return { fake, ws };
}

async function post(body: unknown, raw = false) {
  const res = await fetch(`${fake!.url}/prompt`, { method: 'POST', body: raw ? String(body) : JSON.stringify(body) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: compared as text
  }
  return { status: res.status, body: parsed };
}

async function run(ws: WsRecorder, graph: unknown): Promise<Message[]> {
  const { body } = await post({ prompt: graph, client_id: 'recorder' });
  return (await ws.waitForPrompt((body as { prompt_id: string }).prompt_id)) as Message[];
}

/** Tracebacks name lines of ComfyUI's source: compared for presence, not content. */
const withoutTracebacks = (value: unknown) => JSON.parse(JSON.stringify(value), (key, v: unknown) => (key === 'traceback' ? [] : v));

describe('the fake answers like the recorded ComfyUI 0.3.64', () => {
  it('describes all 496 recorded node types exactly as recorded, both combo formats side by side', async () => {
    await setup();
    expect(Object.keys(recordedObjectInfo)).toHaveLength(496);
    for (const [name, expected] of Object.entries(recordedObjectInfo)) {
      const answer = await (await fetch(`${fake!.url}/object_info/${name}`)).json();
      expect(answer, name).toEqual({ [name]: expected });
    }
    const info = await (await fetch(`${fake!.url}/object_info`)).json();
    expect(info.TripleCLIPLoader.input.required.clip_name1[0]).toBe('COMBO');
    expect(Array.isArray(info.CLIPLoader.input.required.clip_name[0])).toBe(true);
    expect(info.KSampler.input.required.sampler_name[0]).toHaveLength(42);
  });

  it('answers each recorded POST /prompt case with the recorded status and body', async () => {
    await setup();
    const cases: Record<string, () => unknown> = {
      'missing checkpoint file': () => ({ ...recordedGraph(), 1: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'nope.safetensors' } } }),
      'missing text encoder file': () => {
        const g = recordedGraph();
        g[2]!.inputs.clip_name3 = 'no_such_t5.safetensors';
        return g;
      },
      'bad sampler': () => {
        const g = recordedGraph();
        g[8]!.inputs.sampler_name = 'no_such_sampler';
        return g;
      },
      'missing input steps': () => {
        const g = recordedGraph();
        delete g[8]!.inputs.steps;
        return g;
      },
      'width below min': () => {
        const g = recordedGraph();
        g[6]!.inputs.width = 8;
        return g;
      },
      'width not multiple of 16 (250)': () => {
        const g = recordedGraph();
        g[6]!.inputs.width = 250;
        return g;
      },
      'steps as string "4"': () => {
        const g = recordedGraph();
        g[8]!.inputs.steps = '4';
        return g;
      },
      'unknown node class': () => ({ ...recordedGraph(), 70: { class_type: 'NoSuchNode', inputs: {} } }),
      'no output node': () => {
        const g = recordedGraph();
        delete g[10];
        return g;
      },
      'link to missing node': () => {
        const g = recordedGraph();
        g[9]!.inputs.samples = ['99', 0];
        return g;
      },
    };
    expect(Object.keys(cases).sort()).toEqual(
      Object.keys(recorded.validation)
        .filter((k) => k.startsWith('body') === false)
        .sort(),
    );
    for (const [name, graph] of Object.entries(cases)) {
      const answer = await post({ prompt: graph() });
      const expected = recorded.validation[name]!;
      expect(answer.status, name).toBe(expected.status);
      if (expected.status === 200) expect(Object.keys(answer.body as object).sort(), name).toEqual(['node_errors', 'number', 'prompt_id']);
      else expect(withoutTracebacks(answer.body), name).toEqual(withoutTracebacks(expected.body));
    }
    expect(await post({})).toEqual(recorded.validation['body without "prompt"']);
    expect((await post('{not json', true)).status).toBe(recorded.validation['body not JSON']!.status);
  });

  it('lists model folders and files as recorded', async () => {
    await setup();
    for (const [suffix, expected] of Object.entries(recorded.models)) {
      const res = await fetch(`${fake!.url}/models${suffix}`);
      expect(res.status, suffix).toBe(expected.status);
      if (expected.body !== null) expect(await res.json(), suffix).toEqual(expected.body);
      else expect(await res.text(), suffix).toBe('');
    }
  });

  it('sends the recorded WebSocket sequences: a fresh run, a fully cached rerun and an execution error', async () => {
    const { ws } = await setup();
    // The recorded fresh run found nodes 1, 2, 4, 5, 6, 7 cached from earlier runs: warm the fake alike.
    const warm = recordedGraph();
    warm[3]!.inputs.text = 'an earlier prompt';
    await run(ws, warm);

    expect(executionShapes(await run(ws, recordedGraph()))).toEqual(executionShapes(recorded.ws.fresh));
    expect(executionShapes(await run(ws, recordedGraph()))).toEqual(executionShapes(recorded.ws.cached));

    // A checkpoint without text encoders feeding CLIPTextEncode.
    const broken = recordedGraph();
    broken[3]!.inputs = { text: 'an execution error', clip: ['1', 1] };
    broken[4]!.inputs = { text: '', clip: ['1', 1] };
    const messages = await run(ws, broken);
    const error = messages.find((m) => m.type === 'execution_error')!;
    const expected = recorded.ws.error.find((m) => m.type === 'execution_error')!;
    for (const field of ['node_type', 'exception_message', 'exception_type']) expect(error.data[field], field).toEqual(expected.data[field]);
    expect(messages.at(-1)!).toEqual({ type: 'executing', data: { node: null, prompt_id: error.data.prompt_id } });
  });

  it('is interrupted as recorded: only by its own prompt_id, after which it reports the node and what ran', async () => {
    const { fake, ws } = await setup({ stepDelayMs: 5 });
    await run(ws, recordedGraph());
    const long = recordedGraph();
    Object.assign(long[6]!.inputs, { width: 512, height: 512 });
    long[8]!.inputs.steps = 200;
    const { body } = await post({ prompt: long, client_id: 'recorder' });
    const id = (body as { prompt_id: string }).prompt_id;
    await ws.waitFor((m) => m.type === 'progress' && m.data.prompt_id === id && (m.data.value as number) >= 3);
    await fetch(`${fake.url}/interrupt`, { method: 'POST', body: JSON.stringify({ prompt_id: 'someone-else' }) });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect((await (await fetch(`${fake.url}/queue`)).json()).queue_running.map((item: unknown[]) => item[1])).toEqual([id]);
    await fetch(`${fake.url}/interrupt`, { method: 'POST', body: JSON.stringify({ prompt_id: id }) });
    const messages = (await ws.waitForPrompt(id)) as Message[];
    // Everything but the stream of progress messages, whose count depends on timing.
    const milestones = (list: Message[]) => executionShapes(list.filter((m) => m.type !== 'progress' && m.type !== 'progress_state'));
    expect(milestones(messages)).toEqual(milestones(recorded.ws.interrupted));
    const states = messages.filter((m) => m.type === 'progress_state');
    expect(shape(states[0]!)).toEqual(shape(recorded.ws.interrupted.find((m) => m.type === 'progress_state')!));
  });

  it('applies the recorded origin check: the Origin must name the same host and port, Sec-Fetch-Site alone is not checked', async () => {
    await setup();
    const { port } = new URL(fake!.url);
    const status = async (headers: Record<string, string>) => (await fetch(`${fake!.url}/system_stats`, { headers })).status;
    // Recorded against 127.0.0.1:8189 with the same headers.
    expect(await status({ Origin: 'http://evil.example' })).toBe(403);
    expect(await status({ Origin: `http://127.0.0.1:${port}` })).toBe(200);
    expect(await status({ Origin: `http://localhost:${port}` })).toBe(403);
    expect(await status({ Origin: 'http://127.0.0.1' })).toBe(200);
    expect(await status({ 'Sec-Fetch-Site': 'cross-site' })).toBe(200);
    expect(await status({ 'Sec-Fetch-Site': 'cross-site', Origin: 'http://evil.example' })).toBe(403);
  });

  it('answers /view with the recorded statuses, and errors with no body or content type', async () => {
    const { ws } = await setup();
    const messages = await run(ws, recordedGraph());
    const file = (messages.find((m) => m.type === 'executed')!.data.output as { images: Array<{ filename: string }> }).images[0]!.filename;
    for (const expected of recorded.view) {
      const res = await fetch(`${fake!.url}${expected.path.replace('x_00003_.png', file)}`);
      expect(res.status, expected.path).toBe(expected.status);
      expect(res.headers.get('content-type'), expected.path).toBe(expected.contentType);
      if (res.status !== 200) expect(await res.text(), expected.path).toBe('');
    }
  });
});
