import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../../../test/helpers/cleanups.js';
import { startFakeComfyUI } from '../../../test/fake-comfyui/fake-comfyui.js';
import { fakeStartCommand, isProcessAlive } from '../../../test/helpers/fake-launcher.js';
import { findFreePort } from '../../../test/helpers/find-free-port.js';
import { buildTestGraph } from '../../../test/helpers/sd35-graph.js';
import { createComfyUIClient, ensureComfyUI, type ComfyUISupervisor } from '../src/index.js';

const cleanups = useCleanups();

async function supervise(env: Record<string, string> = {}, startTimeoutMs = 30_000) {
  const url = `http://127.0.0.1:${await findFreePort()}`;
  const supervisor = await ensureComfyUI({ url, start: fakeStartCommand(env, startTimeoutMs) });
  cleanups.push(() => supervisor.dispose());
  return supervisor;
}

describe('ensureComfyUI', () => {
  it('uses a ComfyUI that already answers and never stops it', async () => {
    const fake = await startFakeComfyUI();
    cleanups.push(() => fake.close());
    const supervisor = await ensureComfyUI({ url: fake.url, start: fakeStartCommand() });
    expect(supervisor.status()).toMatchObject({ state: 'running', managed: false, pid: undefined, comfyuiVersion: '0.3.64' });
    expect(supervisor.status().devices[0]!.vramTotal).toBeGreaterThan(0);
    await supervisor.dispose();
    expect((await fetch(`${fake.url}/system_stats`)).status).toBe(200);
  });

  it('says how to start ComfyUI when nothing answers and no start command is set', async () => {
    const url = `http://127.0.0.1:${await findFreePort()}`;
    await expect(ensureComfyUI({ url })).rejects.toMatchObject({
      code: 'UNREACHABLE',
      message: expect.stringContaining('python main.py --listen 127.0.0.1 --port'),
    });
  });

  it('says the port is taken by something else instead of starting a ComfyUI that cannot bind it', async () => {
    const { createServer } = await import('node:http');
    const other = createServer((_, res) => res.writeHead(404).end('not here'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => other.close(resolve)));
    const url = `http://127.0.0.1:${(other.address() as { port: number }).port}`;
    const error = await ensureComfyUI({ url, start: fakeStartCommand() }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'START_FAILED' });
    expect((error as Error).message).toMatch(
      /port \d+ is taken by a program that does not answer as ComfyUI does \(ComfyUI at .* answered GET \/system_stats with HTTP 404/,
    );
  });

  it('refuses a start command for a remote URL and a malformed URL', async () => {
    await expect(ensureComfyUI({ url: 'http://gpu-box.lan:8188', start: fakeStartCommand() })).rejects.toThrow(/only works for a local address/);
    await expect(ensureComfyUI({ url: '127.0.0.1:8188' })).rejects.toMatchObject({ code: 'INVALID_OPTIONS' });
  });

  it('starts ComfyUI as a subprocess, runs a job on it, and stops it on dispose', async () => {
    const supervisor = await supervise();
    const { pid, state, managed } = supervisor.status();
    expect({ state, managed }).toEqual({ state: 'running', managed: true });
    expect(supervisor.status().recentLog.join('\n')).toContain('To see the GUI go to:');
    const client = createComfyUIClient({ url: supervisor.url, pollIntervalMs: 25 });
    cleanups.push(() => client.close());
    expect((await client.runPrompt(buildTestGraph())).images).toHaveLength(1);
    await supervisor.dispose();
    expect(isProcessAlive(pid!)).toBe(false);
    await expect(fetch(`${supervisor.url}/system_stats`)).rejects.toThrow();
  });

  it('waits through a slow start within the deadline', async () => {
    const supervisor = await supervise({ FAKE_COMFYUI_START_DELAY_MS: '1500' });
    expect(supervisor.status().state).toBe('running');
  });

  it('fails at the deadline of a start that never finishes, and stops the process', async () => {
    const started = Date.now();
    const error = await supervise({ FAKE_COMFYUI_START_DELAY_MS: '600000' }, 1500).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'START_FAILED', message: expect.stringContaining('did not answer') });
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(isProcessAlive((error as { details: { pid: number } }).details.pid)).toBe(false);
  });

  it('fails at once with the log when ComfyUI exits during start', async () => {
    const started = Date.now();
    const error = await supervise({ FAKE_COMFYUI_FAIL_START: '1' }, 600_000).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'START_FAILED' });
    expect((error as Error).message).toContain('exited with code 1 while starting');
    expect((error as Error).message).toContain("ModuleNotFoundError: No module named 'torch'");
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  it('says what to fix when the start command cannot run: no such folder, no main.py in it (naming the folder a portable build or ComfyUI Desktop needs), no such Python', async () => {
    const url = `http://127.0.0.1:${await findFreePort()}`;
    const startWith = (start: { cwd: string; python?: string }) =>
      ensureComfyUI({ url, start: { startTimeoutMs: 600_000, ...start } }).then(
        () => 'started',
        (error: Error & { code: string }) => `${error.code}: ${error.message}`,
      );
    const folder = await mkdtemp(path.join(tmpdir(), 'not-comfyui-'));
    cleanups.push(() => rm(folder, { recursive: true, force: true }));
    const missing = path.join(folder, 'ComfyUI');
    expect(await startWith({ cwd: missing })).toBe(
      `START_FAILED: Cannot start ComfyUI: its folder ${missing} does not exist. Set start.cwd to the ComfyUI folder (the one with main.py).`,
    );
    expect(await startWith({ cwd: folder })).toBe(
      `START_FAILED: Cannot start ComfyUI: ${folder} has no main.py, so it is not a ComfyUI folder. Set start.cwd to the folder you cloned ComfyUI into (the one with main.py).`,
    );
    // The top folders of the two installs that keep ComfyUI's code elsewhere: the one to give is named.
    const portable = path.join(folder, 'ComfyUI_windows_portable');
    await mkdir(path.join(portable, 'ComfyUI'), { recursive: true });
    await mkdir(path.join(portable, 'python_embeded'));
    await writeFile(path.join(portable, 'ComfyUI', 'main.py'), '');
    await writeFile(path.join(portable, 'python_embeded', 'python.exe'), '');
    expect(await startWith({ cwd: portable })).toContain(
      `${portable} has no main.py, so it is not a ComfyUI folder. Its ComfyUI subfolder has one (ComfyUI's portable build): set start.cwd to ${path.join(portable, 'ComfyUI')}, and start.python to "../python_embeded/python.exe".`,
    );
    const desktop = path.join(folder, 'Documents', 'ComfyUI');
    await mkdir(path.join(desktop, 'models', 'checkpoints'), { recursive: true });
    await mkdir(path.join(desktop, '.venv'));
    expect(await startWith({ cwd: desktop })).toContain(
      'It looks like the folder of ComfyUI Desktop, whose app runs ComfyUI itself: start the app instead, remove start, and set COMFYUI_URL=http://127.0.0.1:8000, the port it serves on.',
    );
    await writeFile(path.join(folder, 'main.py'), '');
    const noPython = await startWith({ cwd: folder, python: 'python-that-is-not-installed' });
    expect(noPython).toContain('START_FAILED: ComfyUI exited with code 127 while starting');
    expect(noPython).toContain('python-that-is-not-installed was not found. Set start.python to the Python that runs ComfyUI');
  });

  it("says what each of PyTorch's no-GPU errors asks for before --cpu, and runs on the CPU with --cpu", async () => {
    const causes = {
      'no-driver': ['RuntimeError: Found no NVIDIA driver on your system.', 'finds no NVIDIA driver: install the driver if this machine has an NVIDIA GPU'],
      'cpu-build': ['AssertionError: Torch not compiled with CUDA enabled', 'a build without GPU support'],
      hidden: ['RuntimeError: No CUDA GPUs are available', 'check CUDA_VISIBLE_DEVICES'],
    };
    const errors = await Promise.all(
      Object.keys(causes).map((cause) =>
        supervise({ FAKE_COMFYUI_NO_GPU: cause }).then(
          () => new Error('started'),
          (e: unknown) => e as Error,
        ),
      ),
    );
    for (const [i, [torchError, advice]] of Object.values(causes).entries()) {
      expect(errors[i]).toMatchObject({ code: 'START_FAILED' });
      // The log's last lines, then the advice for that cause, then --cpu for a machine with no GPU at all.
      expect(errors[i]!.message).toContain(torchError);
      expect(errors[i]!.message).toContain(advice);
      expect(errors[i]!.message).toMatch(/On a machine with no GPU that PyTorch can use, add "--cpu" to the start command's extraArgs/);
      for (const [, otherAdvice] of Object.values(causes).filter((_, j) => j !== i)) expect(errors[i]!.message).not.toContain(otherAdvice);
    }
    const url = `http://127.0.0.1:${await findFreePort()}`;
    const supervisor = await ensureComfyUI({ url, start: { ...fakeStartCommand({ FAKE_COMFYUI_NO_GPU: '1' }), extraArgs: ['--cpu'] } });
    cleanups.push(() => supervisor.dispose());
    expect(supervisor.status().devices[0]!.name).toBe('cpu');
  });

  it('restarts ComfyUI killed mid-job, and the job still completes', async () => {
    const supervisor: ComfyUISupervisor = await supervise({ FAKE_COMFYUI_STEP_DELAY_MS: '10' });
    const firstPid = supervisor.status().pid!;
    const client = createComfyUIClient({ url: supervisor.url, pollIntervalMs: 50 });
    cleanups.push(() => client.close());
    let killed = false;
    const result = await client.runPrompt(buildTestGraph({ steps: 40 }), {
      promptId: 'survives-a-crash',
      onProgress: (p) => {
        if (p.type === 'step' && !killed) {
          killed = true;
          process.kill(firstPid, 'SIGKILL');
        }
      },
    });
    expect(killed).toBe(true);
    expect(result.images).toHaveLength(1);
    expect(supervisor.status().state).toBe('running');
    expect(supervisor.status().pid).not.toBe(firstPid);
  });

  it.each(['SIGINT', 'SIGKILL'] as const)('stops the ComfyUI it started when its own process gets %s', async (signal) => {
    const url = `http://127.0.0.1:${await findFreePort()}`;
    const script = fileURLToPath(new URL('./fixtures/supervise-until-signal.ts', import.meta.url));
    const parent = execa(process.execPath, ['--import', 'tsx', script, url], { buffer: false, reject: false });
    const comfyPid = await new Promise<number>((resolve, reject) => {
      parent.stdout!.on('data', (chunk: Buffer) => {
        const match = /comfyui-pid:(\d+)/.exec(chunk.toString());
        if (match) resolve(Number(match[1]));
      });
      parent.then((r) => reject(new Error(`exited early: ${r.exitCode}`)), reject);
    });
    expect(isProcessAlive(comfyPid)).toBe(true);
    expect((await fetch(`${url}/system_stats`)).status).toBe(200);
    // SIGKILL runs no handler in the parent: only the watchdog between it and ComfyUI can stop it.
    parent.kill(signal);
    await parent;
    for (let i = 0; i < 200 && isProcessAlive(comfyPid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(isProcessAlive(comfyPid)).toBe(false);
    await expect(fetch(`${url}/system_stats`)).rejects.toThrow();
  });
});
