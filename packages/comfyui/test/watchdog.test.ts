import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { asWindowsFlags } from '../../../test/helpers/as-windows.js';
import { useCleanups } from '../../../test/helpers/cleanups.js';
import { fakeLauncherPath, isProcessAlive } from '../../../test/helpers/fake-launcher.js';
import { waitUntil } from '../../../test/helpers/fixture-site.js';
import { findFreePort } from '../../../test/helpers/find-free-port.js';
import { watchdogScript } from '../src/comfyui-watchdog.js';

const cleanups = useCleanups();
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

/** A Windows folder (`SystemRoot`) whose System32\taskkill.exe is the test's stand-in, and its log. */
async function makeSystemRoot() {
  const root = await mkdtemp(path.join(tmpdir(), 'astro-comfyui-windows-'));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  await mkdir(path.join(root, 'System32'));
  const taskkill = path.join(root, 'System32', 'taskkill.exe');
  await writeFile(taskkill, `#!/bin/sh\nexec "${process.execPath}" --import tsx "${fixture('fake-taskkill.ts')}" "$@"\n`, { mode: 0o755 });
  return { root, log: path.join(root, 'taskkill.log') };
}

describe('the watchdog between the supervisor and ComfyUI', () => {
  it('on Windows, which has no process groups, ends ComfyUI with taskkill /T /F once its supervisor is gone', async () => {
    const windows = await makeSystemRoot();
    const port = await findFreePort();
    const script = watchdogScript(process.execPath, ['--import', 'tsx', fakeLauncherPath, '--port', String(port)]);
    // Only the watchdog meets Windows' rules (as-windows.ts); the ComfyUI stand-in it starts runs as usual.
    const watchdog = execa(process.execPath, [...asWindowsFlags, '-e', script], {
      env: { SystemRoot: windows.root, FAKE_TASKKILL_LOG: windows.log },
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      buffer: false,
      reject: false,
    });
    cleanups.push(async () => {
      watchdog.kill('SIGKILL');
      await watchdog;
    });
    const comfyPid = await new Promise<number>((resolve, reject) => {
      watchdog.stdio[3]!.once('data', (chunk: Buffer) => resolve(Number.parseInt(chunk.toString(), 10)));
      void watchdog.then((result) => reject(new Error(`the watchdog exited early: ${result.exitCode}`)));
    });
    cleanups.push(async () => {
      if (isProcessAlive(comfyPid)) process.kill(comfyPid, 'SIGKILL');
    });
    const answers = () =>
      fetch(`http://127.0.0.1:${port}/system_stats`).then(
        (response) => response.ok || undefined,
        () => undefined,
      );
    await waitUntil(answers, 15_000, 'the ComfyUI stand-in to answer');

    // What the supervisor's death does to the watchdog: the end of its input.
    watchdog.stdin!.end();
    // It exits with ComfyUI (here by ComfyUI's SIGKILL, which stands in for TerminateProcess).
    let exited = false;
    void watchdog.then(() => (exited = true));
    await waitUntil(async () => exited || undefined, 15_000, 'ComfyUI and the watchdog to exit once the supervisor went');
    expect(isProcessAlive(comfyPid)).toBe(false);
    await expect(fetch(`http://127.0.0.1:${port}/system_stats`)).rejects.toThrow();
    expect(await readFile(windows.log, 'utf8')).toBe(`/pid ${comfyPid} /T /F\n`);
  });
});
