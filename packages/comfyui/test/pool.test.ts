import { getEventListeners } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../../../test/helpers/cleanups.js';
import { readPngInfo } from '../../../test/fake-comfyui/encode-png.js';
import { startFakeComfyUI, type FakeComfyUI } from '../../../test/fake-comfyui/fake-comfyui.js';
import { waitForEvent } from '../../../test/helpers/wait-for-event.js';
import { findFreePort } from '../../../test/helpers/find-free-port.js';
import { buildTestGraph } from '../../../test/helpers/sd35-graph.js';
import { assertWorkflowRequirements, createComfyUIPool, type ApiWorkflow, type ComfyUIPool, type ObjectInfo } from '../src/index.js';

const cleanups = useCleanups();

async function fakes(count: number, stepDelayMs: number) {
  return Promise.all(
    Array.from({ length: count }, async () => {
      const fake = await startFakeComfyUI({ stepDelayMs });
      cleanups.push(() => fake.close());
      return fake;
    }),
  );
}

function pool(urls: string[], options: Partial<Parameters<typeof createComfyUIPool>[0]> = {}): ComfyUIPool {
  const p = createComfyUIPool({ endpoints: urls, pollIntervalMs: 20, failoverAfterMs: 300, ...options });
  cleanups.push(() => p.close());
  return p;
}

/** Tracks how many prompts a fake holds (queued or running) at once. */
function trackInFlight(fake: FakeComfyUI) {
  const state = { now: 0, max: 0 };
  fake.events.on('queued', () => (state.max = Math.max(state.max, ++state.now)));
  fake.events.on('done', () => state.now--);
  return state;
}

describe('ComfyUIPool', () => {
  it('spreads jobs over endpoints with at most 1 + queueAhead in flight on each', async () => {
    const [a, b] = await fakes(2, 5);
    const loadA = trackInFlight(a!);
    const loadB = trackInFlight(b!);
    const p = pool([a!.url, b!.url], { queueAhead: 1 });
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => p.run(buildTestGraph({ seed: i, steps: 5 }), { promptId: `job-${i}` })));
    expect(results.map((r) => r.images.length)).toEqual(Array(8).fill(1));
    expect(loadA.max).toBeLessThanOrEqual(2);
    expect(loadB.max).toBeLessThanOrEqual(2);
    expect(a!.stats.promptsQueued).toBeGreaterThan(0);
    expect(b!.stats.promptsQueued).toBeGreaterThan(0);
    expect(a!.stats.promptsQueued + b!.stats.promptsQueued).toBe(8);
  });

  it.each(['reset', 'trickle'] as const)('moves a job to another endpoint when its downloads keep failing mid-body (%s)', async (fault) => {
    const [a, b] = await fakes(2, 1);
    a!.faults.breakView(fault);
    // Only A is free at first, so the job starts there; B takes it once A's grace period runs out.
    const p = pool([a!.url, b!.url], { queueAhead: 0, timeoutMs: 200 });
    const result = await p.run(buildTestGraph({ seed: 5 }), { promptId: `moved-${fault}`, expectImage: { width: 64, height: 48 } });
    expect(result.endpoint).toBe(b!.url);
    expect(result.images).toHaveLength(1);
    expect(a!.stats.promptsQueued + b!.stats.promptsQueued).toBe(2);
  });

  it("gives a job waiting behind a slow GPU's current one to a machine that has nothing to do; what runs there stays", async () => {
    const [slow] = await fakes(1, 150); // 5 steps: 750 ms a job
    const [fast] = await fakes(1, 1);
    const info: string[] = [];
    const p = pool([slow!.url, fast!.url], { queueAhead: 1, logger: { info: (m) => info.push(m), warn() {}, error() {} } });
    // Least-loaded first: the slow machine gets two jobs (one waits behind the other), the fast one two.
    const results = await Promise.all(Array.from({ length: 4 }, (_, i) => p.run(buildTestGraph({ seed: i, steps: 5 }), { promptId: `job-${i}` })));
    const onSlow = results.filter((r) => r.endpoint === slow!.url).map((r) => r.promptId);
    expect(onSlow).toHaveLength(1);
    // The waiting one never ran on the slow machine, and the one that ran there was never stopped.
    expect(slow!.stats.promptsQueued).toBe(2);
    expect(slow!.stats.promptsStarted).toBe(1);
    expect(slow!.stats.samplerRuns).toBe(1);
    expect(fast!.stats.samplerRuns).toBe(3);
    expect(info).toHaveLength(1);
    const moved = /^(job-\d) was still waiting in the queue of (\S+); it moves to an endpoint that has nothing to do\.$/.exec(info[0]!);
    expect(moved?.[2]).toBe(slow!.url);
    expect(results.find((r) => r.promptId === moved?.[1])?.endpoint).toBe(fast!.url);
  });

  it("moves a waiting job only to a server whose queue is empty: other people's work there keeps it where it is until that ends", async () => {
    const [a, b] = await fakes(2, 1);
    const info: string[] = [];
    const p = pool([a!.url, b!.url], { queueAhead: 1, logger: { info: (m) => info.push(m), warn() {}, error() {} } });
    // Both have made an image for this pool, so either may take a job from the other.
    await Promise.all([0, 1].map((i) => p.run(buildTestGraph({ seed: i }), { promptId: `warm-${i}` })));
    expect([a!.stats.samplerRuns, b!.stats.samplerRuns]).toEqual([1, 1]);
    a!.faults.stallExecution(true);
    b!.faults.stallExecution(true);
    for (const fake of [a!, b!]) {
      await fetch(`${fake.url}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: buildTestGraph({ seed: 9 }), prompt_id: 'someone-else' }) });
    }
    const run = p.run(buildTestGraph({ seed: 2 }), { promptId: 'ours' });
    await waitForEvent(a!.events, 'queued', (id) => id === 'ours');
    // B has none of this pool's jobs, but someone else's: ours stays on A, several looks at B later.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(b!.stats.promptsQueued).toBe(2);
    expect(info).toEqual([]);
    // Someone else's job on B ends: B is free, and ours moves there without having run on A.
    b!.faults.stallExecution(false);
    expect((await run).endpoint).toBe(b!.url);
    expect(a!.stats.promptsStarted).toBe(2);
    expect(info).toEqual([`ours was still waiting in the queue of ${a!.url}; it moves to an endpoint that has nothing to do.`]);
    a!.faults.stallExecution(false);
  });

  it("answers what the integration asks: each endpoint's report, object info, and the version that made each image", async () => {
    const [a] = await fakes(1, 1);
    const down = `http://127.0.0.1:${await findFreePort()}`;
    const p = pool([a!.url, down]);
    const reports = await p.describe();
    expect(reports[0]).toMatchObject({ url: a!.url, up: true, comfyuiVersion: '0.3.64', queue: 0, error: null });
    expect(reports[0]!.devices[0]!.vramTotal).toBeGreaterThan(0);
    expect(reports[1]).toMatchObject({ url: down, up: false, comfyuiVersion: null });
    expect(reports[1]!.error).toContain('not reachable');
    expect(Object.keys(await p.objectInfo(a!.url))).toContain('KSampler');
    await expect(p.objectInfo(down)).rejects.toMatchObject({ code: 'UNREACHABLE' });
    const result = await p.run(buildTestGraph({ seed: 3 }), { promptId: 'versioned' });
    expect(result.comfyuiVersion).toBe('0.3.64');
  });

  it('releases the abort listener of each finished job, so a long-lived signal does not collect them', async () => {
    const [a] = await fakes(1, 1);
    const p = pool([a!.url], { queueAhead: 1 });
    const controller = new AbortController();
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          p.run(buildTestGraph({ seed: round * 10 + i, steps: 1 }), { promptId: `l-${round}-${i}`, signal: controller.signal }),
        ),
      );
    }
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('finishes every job when one of two endpoints dies mid-run, each prompt_id once', async () => {
    const [a, b] = await fakes(2, 5);
    const p = pool([a!.url, b!.url], { queueAhead: 1 });
    let crashed: Promise<void> | undefined;
    const jobs = Array.from({ length: 6 }, (_, i) =>
      p.run(buildTestGraph({ seed: 100 + i, steps: 20 }), {
        promptId: `p-${i}`,
        onProgress: (progress) => {
          if (progress.type === 'step' && progress.endpoint === a!.url && !crashed) crashed = a!.crash();
        },
      }),
    );
    const results = await Promise.all(jobs);
    expect(crashed).toBeDefined();
    expect(results.map((r) => r.promptId).sort()).toEqual(['p-0', 'p-1', 'p-2', 'p-3', 'p-4', 'p-5']);
    expect(results.every((r) => r.images.length === 1)).toBe(true);
    expect(p.status().find((s) => s.url === a!.url)!.up).toBe(false);
  });

  it('fails a job with a clear error when no endpoint answers before its deadline', async () => {
    const urls = [`http://127.0.0.1:${await findFreePort()}`, `http://127.0.0.1:${await findFreePort()}`];
    const p = pool(urls, { retryDownAfterMs: 50 });
    const error = await p.run(buildTestGraph(), { promptId: 'lonely', deadlineMs: 400 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ALL_ENDPOINTS_DOWN' });
    expect((error as Error).message).toContain('before its deadline (400 ms)');
    expect((error as Error).message).toContain(urls[0]);
    expect((error as Error).message).toContain('not reachable');
  });

  it('reports a job whose deadline runs out while its endpoint has not answered yet as never run', async () => {
    // Never answers the first GET /queue, as when the deadline ends during a slow connect under load; then
    // answers the cancelling calls at once, so the test does not wait out their timeouts.
    const held: ServerResponse[] = [];
    const hung = createServer((req, res) => {
      if (req.method === 'GET' && req.url === '/queue' && held.length === 0) return void held.push(res);
      res.writeHead(200, { 'content-type': 'application/json' }).end(req.method === 'GET' ? '{"queue_running":[],"queue_pending":[]}' : '{}');
    });
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    cleanups.push(async () => {
      for (const res of held) res.destroy();
      await new Promise((resolve) => hung.close(resolve));
    });
    const url = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
    const p = pool([url]);
    const error = await p.run(buildTestGraph(), { promptId: 'unanswered', deadlineMs: 250 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ALL_ENDPOINTS_DOWN' });
    expect((error as Error).message).toContain(
      `No ComfyUI endpoint could run unanswered before its deadline (250 ms). The last try, on ${url}, was still waiting for its answer.`,
    );
  });

  it('counts a deadline from when the job was handed over and states it as configured, also after waiting for an endpoint', async () => {
    const [a] = await fakes(1, 0);
    a!.faults.stallExecution(true);
    const p = pool([a!.url], { queueAhead: 0 });
    const started = Date.now();
    const first = p.run(buildTestGraph({ seed: 1 }), { promptId: 'first', deadlineMs: 1000 }).catch((e: unknown) => e);
    // Waits in the local queue until the first one gives up, then stalls on the server too.
    const second = p.run(buildTestGraph({ seed: 2 }), { promptId: 'second', deadlineMs: 1500 }).catch((e: unknown) => e);
    expect(await first).toMatchObject({ code: 'DEADLINE_EXCEEDED', message: expect.stringContaining('did not finish within 1.0 s') });
    const error = await second;
    const elapsed = Date.now() - started;
    expect(error).toMatchObject({ code: 'DEADLINE_EXCEEDED', message: expect.stringContaining('did not finish within 1.5 s') });
    // 1.5 s from the hand-over, not 1.5 s from when it reached the server (which would be 2.5 s).
    expect(elapsed).toBeGreaterThanOrEqual(1450);
    expect(elapsed).toBeLessThan(2200);
    a!.faults.stallExecution(false);
  });

  it('does not move a job that ComfyUI rejects; the error reaches the caller', async () => {
    const [a, b] = await fakes(2, 0);
    const p = pool([a!.url, b!.url]);
    await expect(p.run(buildTestGraph({ checkpoint: 'missing.safetensors' }), { promptId: 'bad' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(p.status().every((s) => s.up)).toBe(true);
  });

  it('cancels a job that is still waiting in the local queue', async () => {
    const [a] = await fakes(1, 0);
    a!.faults.stallExecution(true);
    const p = pool([a!.url], { queueAhead: 0 });
    const first = p.run(buildTestGraph({ seed: 1 }), { promptId: 'first' });
    const controller = new AbortController();
    const second = p.run(buildTestGraph({ seed: 2 }), { promptId: 'second', signal: controller.signal });
    controller.abort();
    await expect(second).rejects.toMatchObject({ code: 'ABORTED' });
    a!.faults.stallExecution(false);
    await first;
    expect(a!.stats.promptsQueued).toBe(1);
  });

  it('rejects bad pool options', () => {
    expect(() => createComfyUIPool({ endpoints: [] })).toThrow(/at least one ComfyUI endpoint/);
    expect(() => createComfyUIPool({ endpoints: ['http://a:1', 'http://a:1/'] })).toThrow(/listed twice/);
    expect(() => createComfyUIPool({ endpoints: ['http://a:1'], queueAhead: -1 })).toThrow(/queueAhead/);
  });
});

describe('ComfyUIPool.connect', () => {
  it('counts only endpoints that answer and marks the others down', async () => {
    const [a] = await fakes(1, 0);
    const dead = `http://127.0.0.1:${await findFreePort()}`;
    const p = pool([a!.url, dead]);
    expect(await p.connect()).toBe(1);
    expect(p.status().map((s) => s.up)).toEqual([true, false]);
  });
});

describe('ComfyUIPool.admit', () => {
  const lacksT5 = { models: { text_encoders: ['clip_g.safetensors', 'clip_l.safetensors', 't5xxl_fp8_e4m3fn.safetensors'] } };
  const check = (graph: ApiWorkflow) => (info: ObjectInfo, url: string) => assertWorkflowRequirements(graph, info, url);

  it('gives no job to an endpoint that lacks a model file; the others run them all', async () => {
    const [a] = await fakes(1, 0);
    const b = await startFakeComfyUI(lacksT5);
    cleanups.push(() => b.close());
    const warnings: string[] = [];
    const p = pool([b.url, a!.url], { logger: { info() {}, warn: (m) => warnings.push(m), error() {} } });
    const admission = await p.admit(check(buildTestGraph()));
    expect(admission.admitted).toEqual([a!.url]);
    expect(admission.refused).toHaveLength(1);
    expect(admission.refused[0]!.url).toBe(b.url);
    expect(admission.refused[0]!.error.message).toContain('t5xxl_fp16.safetensors is missing: put it in ComfyUI/models/text_encoders/');
    await Promise.all(Array.from({ length: 4 }, (_, i) => p.run(buildTestGraph({ seed: i }), { promptId: `fit-${i}` })));
    expect(a!.stats.promptsQueued).toBe(4);
    expect(b.stats.promptsQueued).toBe(0);
    expect(warnings).toEqual([]); // the caller words the refusals admit returns
  });

  it('sends a file in a subfolder as each server spells it: sd3.5\\… to a ComfyUI on Windows, sd3.5/… to one on Linux', async () => {
    const listed = { windows: 'sd3.5\\sd3.5_large.safetensors', linux: 'sd3.5/sd3.5_large.safetensors' };
    const [windows, linux] = await Promise.all(
      [listed.windows, listed.linux].map(async (file) => {
        const fake = await startFakeComfyUI({ models: { checkpoints: [file] } });
        cleanups.push(() => fake.close());
        return fake;
      }),
    );
    const graph = (seed: number) => buildTestGraph({ seed, checkpoint: 'sd3.5/sd3.5_large.safetensors' });
    const p = pool([windows!.url, linux!.url]);
    expect((await p.admit(check(graph(0)))).refused).toEqual([]);
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => p.run(graph(i), { promptId: `spelled-${i}` })));
    expect(new Set(results.map((r) => r.endpoint))).toEqual(new Set([windows!.url, linux!.url]));
    // The graph each server ran, as its SaveImage wrote it into the PNG.
    for (const result of results) {
      const ran = JSON.parse(readPngInfo(result.images[0]!.data).text.prompt!) as ApiWorkflow;
      expect(ran['1']!.inputs.ckpt_name).toBe(result.endpoint === windows!.url ? listed.windows : listed.linux);
    }
  });

  it('checks an endpoint that comes up later before its first job, warns once, and keeps its jobs on the others', async () => {
    const [a] = await fakes(1, 30);
    const port = await findFreePort();
    const late = `http://127.0.0.1:${port}`;
    const warnings: string[] = [];
    const p = pool([late, a!.url], { retryDownAfterMs: 50, logger: { info() {}, warn: (m) => warnings.push(m), error() {} } });
    expect(await p.admit(check(buildTestGraph()))).toEqual({ admitted: [a!.url], refused: [] });
    const b = await startFakeComfyUI({ ...lacksT5, port });
    cleanups.push(() => b.close());
    await Promise.all(Array.from({ length: 6 }, (_, i) => p.run(buildTestGraph({ seed: i, steps: 4 }), { promptId: `late-${i}` })));
    expect(b.stats.promptsQueued).toBe(0);
    expect(a!.stats.promptsQueued).toBe(6);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`ComfyUI at ${late} cannot run this workflow`);
    expect(warnings[0]).toContain(`${late} gets no jobs`);
  });
});
