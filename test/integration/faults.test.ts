import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { readPngInfo } from '../fake-comfyui/encode-png.js';
import { startFakeComfyUI, type FakeComfyUI } from '../fake-comfyui/fake-comfyui.js';
import { fakeStartCommand } from '../helpers/fake-launcher.js';
import { acquireLock } from '../../packages/astro-comfyui/src/acquire-lock.js';
import { copyFixture, replaceInFile, runAstro, runCli, waitUntil } from '../helpers/fixture-site.js';
import { findFreePort } from '../helpers/find-free-port.js';
import { waitForEvent } from '../helpers/wait-for-event.js';
import { buildTestGraph } from '../helpers/sd35-graph.js';
import { deadPid } from '../helpers/dead-pid.js';

const cleanups = useCleanups();

async function site() {
  const copy = await copyFixture('blog');
  cleanups.push(copy.cleanup);
  return copy.root;
}

async function fake(options: Parameters<typeof startFakeComfyUI>[0] = {}): Promise<FakeComfyUI> {
  const server = await startFakeComfyUI(options);
  cleanups.push(() => server.close());
  return server;
}

const generated = (root: string) => path.join(root, 'src/assets/generated');
const manifestOf = async (root: string) =>
  JSON.parse(await readFile(path.join(generated(root), 'images.lock.json'), 'utf8')) as { images: Record<string, { file: string; placeholder: boolean }> };

/** Every image of the manifest exists once, is a whole PNG, and nothing else is in the folder. */
async function expectConsistent(root: string, count: number) {
  const manifest = await manifestOf(root);
  const files = (await readdir(generated(root))).filter((f) => f !== 'images.lock.json');
  expect(Object.keys(manifest.images)).toHaveLength(count);
  expect(files.sort()).toEqual(
    Object.values(manifest.images)
      .map((e) => e.file)
      .sort(),
  );
  for (const file of files) expect(readPngInfo(await readFile(path.join(generated(root), file))).width).toBeGreaterThan(0);
}

function build(root: string, env: Record<string, string>, args: string[] = []) {
  return runAstro(root, ['build', ...args], env);
}

function expectExitedByItself(result: { timedOut: boolean; isTerminated: boolean }) {
  expect(result.timedOut).toBe(false);
}

describe('fault suite', () => {
  it('a self-started ComfyUI that crashes mid-build is restarted and lost jobs are resubmitted under the same prompt_id', async () => {
    const root = await site();
    const journal = path.join(root, 'journal.txt');
    const start = fakeStartCommand({
      FAKE_COMFYUI_STEP_DELAY_MS: '20',
      FAKE_COMFYUI_JOURNAL: journal,
      FAKE_COMFYUI_CRASH_ONCE_FILE: path.join(root, 'crashed-once'),
    });
    const result = await build(root, {
      COMFYUI_URL: `http://127.0.0.1:${await findFreePort()}`,
      ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ start }),
    });
    expectExitedByItself(result);
    expect(result.exitCode, String(result.all)).toBe(0);
    expect(result.all).toContain('ComfyUI at http://127.0.0.1');
    expect(result.all).toContain('stopped unexpectedly');
    expect(result.all).toContain('Restarting ComfyUI');
    await expectConsistent(root, 4);
    const lines = (await readFile(journal, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => l.split(' ') as [string, string]);
    const pids = [...new Set(lines.map(([pid]) => pid))];
    expect(pids).toHaveLength(2);
    const beforeCrash = lines.filter(([pid]) => pid === pids[0]).map(([, id]) => id);
    const afterCrash = lines.filter(([pid]) => pid === pids[1]).map(([, id]) => id);
    // The job that was running when ComfyUI died is submitted again with its prompt_id.
    expect(afterCrash).toContain(beforeCrash[0]);
    expect(new Set(afterCrash).size).toBe(afterCrash.length);
  });

  it('a remote endpoint that dies mid-build leaves its jobs to the second endpoint', async () => {
    const root = await site();
    const [a, b] = [await fake({ stepDelayMs: 20 }), await fake({ stepDelayMs: 20 })];
    const crashed = waitForEvent(a.events, 'progress').then(() => a.crash());
    const result = await build(root, { COMFYUI_URL: `${a.url},${b.url}`, ASTRO_COMFYUI_TEST_OPTIONS: '{"pollIntervalMs":50}' });
    await crashed;
    expectExitedByItself(result);
    expect(result.exitCode, String(result.all)).toBe(0);
    // The log names what moved by its post, not by a prompt id.
    expect(result.all).toMatch(new RegExp(`${a.url} failed \\(.*\\); retrying src/content/blog/[\\w-]+\\.md › images?(\\[\\d\\])? on another endpoint\\.`));
    await expectConsistent(root, 4);
    expect(b.stats.promptsQueued).toBeGreaterThanOrEqual(3);
  });

  it('a GPU machine that lacks a model file gets no jobs, with a warning naming the file; the others make every image', async () => {
    const root = await site();
    const lacksT5 = { models: { text_encoders: ['clip_g.safetensors', 'clip_l.safetensors', 't5xxl_fp8_e4m3fn.safetensors'] } };
    const [a, b] = [await fake(lacksT5), await fake()];
    const result = await build(root, { COMFYUI_URL: `${a.url},${b.url}` });
    expect(result.exitCode, String(result.all)).toBe(0);
    expect(result.all).toContain(`ComfyUI at ${a.url} cannot run this workflow:`);
    expect(result.all).toContain(
      't5xxl_fp16.safetensors is missing: put it in ComfyUI/models/text_encoders/ (used by TripleCLIPLoader clip_name3); that folder has t5xxl_fp8_e4m3fn.safetensors.',
    );
    expect(result.all).toContain(`The other endpoints (${b.url}) make the images of this run meanwhile.`);
    // With the settings that would use the T5 file it has instead.
    const useFp8 =
      'Or use the SD3.5 files it has: set model.textEncoders: ["clip_l.safetensors", "clip_g.safetensors", "t5xxl_fp8_e4m3fn.safetensors"] in the astro-comfyui options.';
    expect(result.all).toContain(useFp8);
    await expectConsistent(root, 4);
    expect(a.stats.promptsQueued).toBe(0);
    expect(b.stats.promptsQueued).toBe(4);
    // `status` says the same per machine: what the first lacks, nothing for the second.
    const status = await runCli(root, ['status'], { COMFYUI_URL: `${a.url},${b.url}` });
    expect(status.stdout).toMatch(
      new RegExp(
        `${a.url}: up — [^\\n]*\\n    - t5xxl_fp16\\.safetensors is missing: put it in ComfyUI/models/text_encoders/ \\(used by TripleCLIPLoader clip_name3\\); that folder has t5xxl_fp8_e4m3fn\\.safetensors\\.\\n    Or use the SD3\\.5 files it has: [^\\n]*\\n  ${b.url}: up — [^\\n]*\\n[^ ]`,
      ),
    );
    expect(status.stdout).toContain(`    ${useFp8}\n`);

    // When no machine can run the graphs, nothing is sent and one error says what each one lacks.
    const other = await site();
    const c = await fake({ models: { checkpoints: ['sd3.5_medium.safetensors'] } });
    const failed = await build(other, { COMFYUI_URL: `${a.url},${c.url}` });
    expectExitedByItself(failed);
    expect(failed.exitCode).toBe(1);
    expect(failed.all).toContain(`ComfyUI at ${a.url} cannot run this workflow:\n- t5xxl_fp16.safetensors is missing`);
    expect(failed.all).toContain(
      `ComfyUI at ${c.url} cannot run this workflow:\n- sd3.5_large_turbo.safetensors is missing: put it in ComfyUI/models/checkpoints/`,
    );
    expect(failed.all).toContain('Install the files listed, or set model.checkpoint / model.textEncoders');
    // Each machine would need other settings (fp8 T5 on one, Medium on the other): no one setting is named.
    expect(failed.all).not.toContain('Or use the SD3.5 files');
    expect(a.stats.promptsQueued + c.stats.promptsQueued).toBe(0);
    expect(await readdir(generated(other)).catch(() => [])).toEqual([]);
    expect(failed.all).toContain('Or set onMissing: "placeholder" to build with marked placeholders meanwhile.');

    // With placeholders asked for, the site builds with them, and the log still says what to install;
    // `generate`, asked for the images themselves, still fails.
    const withPlaceholders = { COMFYUI_URL: `${a.url},${c.url}`, ASTRO_COMFYUI_TEST_OPTIONS: '{"onMissing":"placeholder"}' };
    const generate = await runCli(other, ['generate'], withPlaceholders);
    expect(generate.exitCode).toBe(1);
    expect(generate.stderr).toContain(`ComfyUI at ${c.url} cannot run this workflow:\n- sd3.5_large_turbo.safetensors is missing`);
    expect(generate.stderr).toMatch(/hint: Install the files listed, or set model\.checkpoint \/ model\.textEncoders [^\n]*files you have\.$/m);
    expect(await readdir(generated(other)).catch(() => [])).toEqual([]);
    const placeholders = await build(other, withPlaceholders);
    expect(placeholders.exitCode, String(placeholders.all)).toBe(0);
    expect(placeholders.all).toMatch(
      /PLACEHOLDER IMAGES: 4 image\(s\) are placeholders because no ComfyUI has what they need:\n[^\n]*cannot run this workflow:\n- [^\n]* is missing/,
    );
    expect(placeholders.all).toContain(`ComfyUI at ${c.url} cannot run this workflow:\n- sd3.5_large_turbo.safetensors is missing`);
    expect(placeholders.all).toContain('Install the files listed, or set model.checkpoint / model.textEncoders');
    expect(placeholders.all).toContain('replaced by real images on the next build with a ComfyUI that has what they need.');
    expect(Object.values((await manifestOf(other)).images).map((e) => e.placeholder)).toEqual([true, true, true, true]);
    expect(a.stats.promptsQueued + c.stats.promptsQueued).toBe(0);
    await rm(generated(other), { recursive: true });

    // A site with no prompt yet: `status` still says what the machine lacks for the configured model.
    await rm(path.join(other, 'src/content/blog'), { recursive: true });
    const empty = await runCli(other, ['status'], { COMFYUI_URL: c.url });
    expect(empty.stdout).toContain(`${c.url}: up — ComfyUI 0.3.64`);
    expect(empty.stdout).toContain(
      '    - sd3.5_large_turbo.safetensors is missing: put it in ComfyUI/models/checkpoints/ (used by CheckpointLoaderSimple ckpt_name); that folder has sd3.5_medium.safetensors.\n' +
        '    Or use the SD3.5 files it has: set model.preset: "medium" (which uses sd3.5_medium.safetensors) in the astro-comfyui options.\n',
    );
  });

  it('status says when a machine did not list its nodes in time, instead of reporting that it lacks nothing; the others are checked meanwhile', async () => {
    const root = await site();
    const slow = await fake();
    slow.faults.stallHttp('/object_info');
    const fast = await fake({
      // The slow machine answers as soon as the other one is asked: only a status that checks both at
      // once (not one after the other's timeout) gets both answers.
      log: (line) => {
        if (/^GET (\/api)?\/object_info$/.test(line)) slow.faults.stallHttp(false);
      },
    });
    const both = await runCli(root, ['status'], { COMFYUI_URL: `${slow.url},${fast.url}` });
    expect(both.stdout).toMatch(new RegExp(`  ${slow.url}: up — [^\\n]*\\n  ${fast.url}: up — [^\\n]*\\nPosts: `));

    slow.faults.stallHttp('/object_info');
    const status = await runCli(root, ['status'], { COMFYUI_URL: slow.url });
    expect(status.stdout).toContain(`${slow.url}: up — ComfyUI 0.3.64`);
    expect(status.stdout).toContain(
      `    ? not checked whether it has what this site's images need: ComfyUI at ${slow.url} did not answer GET /object_info within 5000 ms. It may be overloaded or hung; check its console. Run status again.\n`,
    );
    slow.faults.stallHttp(false);
  });

  it("says when a shared ComfyUI is busy with other people's jobs, instead of going silent until they end", async () => {
    const root = await site();
    const server = await fake({ stepDelayMs: 10 });
    server.faults.stallExecution(true);
    // Someone else's two jobs: one running (held), one waiting.
    for (const seed of [1, 2]) {
      const queued = await fetch(`${server.url}/prompt`, {
        method: 'POST',
        body: JSON.stringify({ prompt: buildTestGraph({ seed }), client_id: 'a-colleague' }),
      });
      expect(queued.status).toBe(200);
    }
    const building = build(root, { COMFYUI_URL: server.url });
    let output = '';
    building.all!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitUntil(
      async () => /waiting in the queue of http:\/\/127\.0\.0\.1:\d+, [23] jobs ahead \(not all from this build\)/.test(output) || undefined,
      30_000,
      'the queue notice',
    );
    server.faults.stallExecution(false);
    const result = await building;
    expect(result.exitCode, String(result.all)).toBe(0);
    await expectConsistent(root, 4);
  });

  it('finds results through /history when the WebSocket is refused or dropped', async () => {
    const root = await site();
    const server = await fake({ stepDelayMs: 10 });
    server.faults.refuseWebSockets(true);
    const refused = await build(root, { COMFYUI_URL: server.url });
    expect(refused.exitCode, String(refused.all)).toBe(0);
    await expectConsistent(root, 4);

    const post = path.join(root, 'src/content/blog/harbour.md');
    await replaceInFile(post, 'fishing boats', 'a ferry');
    server.faults.refuseWebSockets(false);
    const dropped = waitForEvent(server.events, 'progress').then(() => server.faults.dropWebSockets());
    const result = await build(root, { COMFYUI_URL: server.url });
    await dropped;
    expect(result.exitCode, String(result.all)).toBe(0);
    expect(result.all).toContain('1 generated');
  });

  it('a stalled job fails at the deadline with an error naming the post, and the build exits', async () => {
    const root = await site();
    const server = await fake();
    server.faults.stallExecution(true);
    const result = await build(root, { COMFYUI_URL: server.url, ASTRO_COMFYUI_TEST_OPTIONS: '{"imageDeadlineMs":1500,"concurrency":4}' });
    expectExitedByItself(result);
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toMatch(/src\/content\/blog\/\w+\.md › image[^\n]*did not finish within 1\.5 s/);
    expect(result.all).toContain('images could not be generated');
    expect(result.all).toContain('raise imageDeadlineMs in the astro-comfyui options (now 1.5 s)');
    server.faults.stallExecution(false);
  });

  it('says what a job does while ComfyUI is quiet about it: the first image waits while the model files load', async () => {
    const root = await site();
    // SD3.5's two loaders (the checkpoint, then the three text encoders), 5.5 s each: one quiet wait of 11 s.
    const server = await fake({ loadDelayMs: 5_500 });
    const result = await build(root, { COMFYUI_URL: server.url });
    expect(result.exitCode, String(result.all)).toBe(0);
    expect(result.all).toMatch(/\[1\/4\] src\/content\/blog\/\w+\.md › images?(\[\d\])?: loading the model files \(10\.\d s so far\)\n/);
    // Once loaded, ComfyUI keeps them: no other image waits for them, nor says so.
    expect(String(result.all).match(/loading the model files/g)).toHaveLength(1);
  });

  it('an execution_error names post, prompt and node, and the other images are kept', async () => {
    const root = await site();
    const server = await fake();
    server.faults.failNode('VAEDecode', 'CUDA out of memory. Tried to allocate 2.00 GiB', 'torch.OutOfMemoryError', (prompt) =>
      JSON.stringify(prompt).includes('fishing boats'),
    );
    const result = await build(root, { COMFYUI_URL: server.url });
    expectExitedByItself(result);
    expect(result.exitCode).not.toBe(0);
    expect(result.all).toContain('1 of 4 images could not be generated');
    expect(result.all).toContain('src/content/blog/harbour.md › image ("a small harbour with fishing boats")');
    expect(result.all).toContain('failed to run VAEDecode');
    expect(result.all).toContain('The GPU ran out of memory');
    await expectConsistent(root, 3);

    server.faults.clearFailures();
    const again = await build(root, { COMFYUI_URL: server.url });
    expect(again.exitCode, String(again.all)).toBe(0);
    expect(again.all).toContain('4 images: 3 committed, 1 generated');
  });

  it('SIGINT mid-generation stops the build without partial files; the next build reuses the job that was running', async () => {
    const root = await site();
    const server = await fake({ stepDelayMs: 200 });
    const started = waitForEvent<{ prompt_id: string }>(server.events, 'progress');
    const child = build(root, { COMFYUI_URL: server.url, ASTRO_COMFYUI_TEST_OPTIONS: '{"concurrency":1,"queueAhead":0}' });
    const { prompt_id: running } = await started;
    const done = waitForEvent<string>(server.events, 'done', (id) => id === running);
    child.kill('SIGINT');
    const result = await child;
    // The GPU finishes the job it was running; its result stays in ComfyUI's history under the prompt_id.
    await done;
    expectExitedByItself(result);
    expect(result.exitCode === 0).toBe(false);
    const files = await readdir(generated(root)).catch(() => [] as string[]);
    expect(files.filter((f) => f.includes('.tmp'))).toEqual([]);
    if (files.includes('images.lock.json')) await manifestOf(root);
    const sampled = server.stats.samplerRuns;
    const next = await build(root, { COMFYUI_URL: server.url });
    expect(next.exitCode, String(next.all)).toBe(0);
    await expectConsistent(root, 4);
    expect(server.stats.samplerRuns - sampled).toBe(3);
  });

  it('temp files that a killed build left among the images are removed by the next build, not those of one still writing', async () => {
    const root = await site();
    const server = await fake();
    await mkdir(generated(root), { recursive: true });
    // As SIGKILL or a power cut leaves them mid-write; and one of a build on this machine that still runs.
    const killed = await deadPid();
    const running = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 120_000)']);
    cleanups.push(async () => void running.kill());
    const left = [`lighthouse-0123456789ab.png.${killed}.0a1b2c3d.tmp`, `images.lock.json.${killed}.4e5f6a7b.tmp`];
    const writing = `harbour-0123456789ab.png.${running.pid}.8c9d0e1f.tmp`;
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    for (const name of [...left, writing]) {
      await writeFile(path.join(generated(root), name), 'half a file');
      await utimes(path.join(generated(root), name), twoMinutesAgo, twoMinutesAgo);
    }

    const result = await build(root, { COMFYUI_URL: server.url });
    expect(result.exitCode, String(result.all)).toBe(0);
    expect(result.all).toContain('Removed 2 temp files that a run killed while writing left in src/assets/generated:');
    for (const name of left) expect(result.all).toContain(`- ${name}`);
    await rm(path.join(generated(root), writing));
    await expectConsistent(root, 4);
  });

  it('two builds at once keep the manifest intact and never generate a key twice', async () => {
    const root = await site();
    const server = await fake({ stepDelayMs: 20 });
    const env = { COMFYUI_URL: server.url };
    const [one, two] = await Promise.all([
      build(root, env, ['--outDir', path.join(root, 'dist-one')]),
      build(root, env, ['--outDir', path.join(root, 'dist-two')]),
    ]);
    expect(one.exitCode, String(one.all)).toBe(0);
    expect(two.exitCode, String(two.all)).toBe(0);
    await expectConsistent(root, 4);
    expect(server.stats.promptsQueued).toBe(4);
    for (const dist of ['dist-one', 'dist-two']) {
      expect(await readFile(path.join(root, dist, 'lighthouse/index.html'), 'utf8')).toContain('<picture>');
    }
  });

  it('an image another build made while this one waited for it is shown and recorded, before that build wrote its manifest', async () => {
    const root = await site();
    const server = await fake();
    const first = await build(root, { COMFYUI_URL: server.url });
    expect(first.exitCode, String(first.all)).toBe(0);
    // Set the scene of the other build: it holds the image's lock, and its file is not there yet.
    const manifest = await manifestOf(root);
    const [key, entry] = Object.entries(manifest.images).find(([, e]) => e.file.startsWith('lighthouse-'))!;
    const file = path.join(generated(root), entry.file);
    const png = await readFile(file);
    delete manifest.images[key];
    await writeFile(path.join(generated(root), 'images.lock.json'), JSON.stringify(manifest, null, 2));
    await rm(file);
    const release = await acquireLock(path.join(root, 'node_modules/.cache/astro-comfyui', `${key}.lock`), { what: 'the other build' });
    cleanups.push(release);

    const second = runAstro(root, ['build'], { COMFYUI_URL: server.url }, { buffer: false });
    let output = '';
    second.all?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    await waitUntil(async () => (output.includes('Waiting:') ? true : undefined), 60_000, 'the build to wait for the lock');
    // The other build writes its image (with its entry inside) and releases the lock, its manifest not yet flushed.
    await writeFile(file, png);
    await release();
    const result = await second;
    expect(result.exitCode, output).toBe(0);
    expect(server.stats.promptsQueued).toBe(4);
    expect((await manifestOf(root)).images[key]?.file).toBe(entry.file);
    expect(await readFile(path.join(root, 'dist/lighthouse/index.html'), 'utf8')).toContain('<picture>');
  });

  it('posts with spaces and unicode in the path and prompts full of quotes, newlines, emoji and JSON build correctly', async () => {
    const root = await site();
    const server = await fake();
    const prompt = 'a sign that says "{"json": [1, 2]}" — café 🦊\nsecond line: #not-a-comment';
    // JSON strings are valid YAML double-quoted scalars: this is how an author would escape it.
    await writeFile(
      path.join(root, 'src/content/blog/Ünïcode post with spaces.md'),
      `---\ntitle: Unicode\nimage: { prompt: ${JSON.stringify(prompt)}, format: square }\n---\nBody\n`,
    );
    const result = await build(root, { COMFYUI_URL: server.url });
    expect(result.exitCode, String(result.all)).toBe(0);
    const manifest = await manifestOf(root);
    const entry = Object.values(manifest.images).find((e) => e.file.startsWith('unicode-post-with-spaces-'))!;
    expect(entry).toBeDefined();
    const png = readPngInfo(await readFile(path.join(generated(root), entry.file)));
    const sent = JSON.parse(png.text.prompt!) as Record<string, { class_type: string; inputs: { text?: string } }>;
    const positive = Object.values(sent).find((n) => n.class_type === 'CLIPTextEncode' && n.inputs.text?.includes('café'))!;
    expect(positive.inputs.text).toBe(prompt);
  });

  it('rejects unknown formats, and huge or zero sizes, with the option named', async () => {
    const root = await site();
    for (const [options, message] of [
      ['{"formats":{"hero":{"width":0,"height":144}}}', 'formats.hero.width'],
      ['{"formats":{"hero":{"width":20000,"height":144}}}', 'formats.hero.width'],
      ['{"defaultFormat":"gigantic"}', 'unknown format "gigantic"'],
    ] as const) {
      const result = await build(root, { COMFYUI_URL: 'http://127.0.0.1:9', ASTRO_COMFYUI_TEST_OPTIONS: options });
      expect(result.exitCode).not.toBe(0);
      expect(result.all).toContain(message);
    }
  });
});
