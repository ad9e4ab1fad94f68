import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startFakeComfyUI, type FakeComfyUI } from './fake-comfyui.js';

let fake: FakeComfyUI;
beforeEach(async () => {
  fake = await startFakeComfyUI();
});
afterEach(() => fake.close());

const get = async (path: string, init?: RequestInit) => {
  const res = await fetch(`${fake.url}${path}`, init);
  return { status: res.status, body: res.headers.get('content-type')?.includes('json') ? await res.json() : await res.text() };
};

describe('fake ComfyUI routes', () => {
  it('answers every route under / and /api alike', async () => {
    for (const route of ['/system_stats', '/object_info/KSampler', '/models', '/models/checkpoints', '/prompt', '/queue', '/history']) {
      const plain = await get(route);
      const api = await get(`/api${route}`);
      expect(plain.status, route).toBe(200);
      expect(api).toEqual(plain);
    }
  });

  it('describes the system like /system_stats', async () => {
    const { body } = await get('/system_stats');
    expect(body.system).toMatchObject({ os: expect.any(String), comfyui_version: expect.any(String), embedded_python: false });
    expect(body.devices[0]).toMatchObject({ type: 'cuda', vram_total: expect.any(Number), vram_free: expect.any(Number) });
  });

  it('lists model folders and files, 404 for an unknown folder', async () => {
    expect((await get('/models')).body).toEqual(expect.arrayContaining(['checkpoints', 'text_encoders', 'vae']));
    expect((await get('/models')).body).not.toContain('clip');
    expect((await get('/models/text_encoders')).body).toContain('t5xxl_fp16.safetensors');
    expect((await get('/models/nope')).status).toBe(404);
    expect((await get('/models/clip')).status).toBe(404);
  });

  it('describes nodes with classic combos, or COMBO options when configured', async () => {
    const classic = (await get('/object_info')).body;
    expect(Object.keys(classic)).toEqual(
      expect.arrayContaining([
        'CheckpointLoaderSimple',
        'CLIPLoader',
        'DualCLIPLoader',
        'TripleCLIPLoader',
        'CLIPTextEncode',
        'EmptySD3LatentImage',
        'ModelSamplingSD3',
        'ConditioningZeroOut',
        'KSampler',
        'VAEDecode',
        'SaveImage',
        'PreviewImage',
      ]),
    );
    expect(classic.CheckpointLoaderSimple.input.required.ckpt_name[0]).toContain('sd3.5_large.safetensors');
    expect(classic.CheckpointLoaderSimple.output).toEqual(['MODEL', 'CLIP', 'VAE']);
    expect(classic.EmptySD3LatentImage.input.required.width).toEqual(['INT', { default: 1024, min: 16, max: 16384, step: 16 }]);
    expect(classic.SaveImage.output_node).toBe(true);
    expect((await get('/object_info/NoSuchNode')).body).toEqual({});

    await fake.close();
    fake = await startFakeComfyUI({ comboFormat: 'classic' });
    expect(Array.isArray((await get('/object_info/TripleCLIPLoader')).body.TripleCLIPLoader.input.required.clip_name1[0])).toBe(true);
    await fake.close();
    fake = await startFakeComfyUI({ comboFormat: 'v3' });
    const v3 = (await get('/object_info/CLIPLoader')).body.CLIPLoader;
    expect(v3.input.required.type[0]).toBe('COMBO');
    expect(v3.input.required.type[1].options).toContain('sd3');
  });

  it('answers 403 to a foreign Origin on a loopback host and lets the same origin through', async () => {
    expect((await get('/system_stats', { headers: { Origin: 'http://localhost:4321' } })).status).toBe(403);
    expect((await get('/system_stats', { headers: { Origin: fake.url } })).status).toBe(200);
    // Node's own requests carry no Origin, which is why the dev server proxies ComfyUI calls.
    expect((await get('/system_stats')).status).toBe(200);
  });

  it('queues nothing and reports no_prompt for a body without prompt', async () => {
    const res = await fetch(`${fake.url}/prompt`, { method: 'POST', body: JSON.stringify({ client_id: 'x' }) });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} },
      node_errors: {},
    });
    expect(fake.stats.promptsQueued).toBe(0);
  });

  it('refuses /view path traversal and answers 404 for missing files', async () => {
    expect((await get('/view?filename=..%2Fsecret.png')).status).toBe(400);
    expect((await get('/view?filename=%2Fetc%2Fpasswd')).status).toBe(400);
    expect((await get('/view?filename=a.png&subfolder=..%2F..')).status).toBe(403);
    expect((await get('/view?filename=missing.png')).status).toBe(404);
    expect((await get('/view?filename=a.png&type=bogus')).status).toBe(400);
  });
});
