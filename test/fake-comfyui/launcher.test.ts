import { execa } from 'execa';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { findFreePort } from '../helpers/find-free-port.js';

const launcher = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('fake ComfyUI launcher (python main.py stand-in)', () => {
  it('prints the ready line, answers on the port and exits on SIGTERM', async () => {
    const port = await findFreePort();
    const child = execa(process.execPath, ['--import', 'tsx', launcher, '--listen', '127.0.0.1', '--port', String(port)], {
      buffer: false,
    });
    const ready = await new Promise<string>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => {
        const line = chunk
          .toString()
          .split('\n')
          .find((l) => l.startsWith('To see the GUI go to: '));
        if (line) resolve(line);
      });
      child.then((r) => reject(new Error(`exited early with ${r.exitCode}`)), reject);
    });
    expect(ready).toBe(`To see the GUI go to: http://127.0.0.1:${port}`);
    expect((await fetch(`http://127.0.0.1:${port}/system_stats`)).status).toBe(200);
    child.kill('SIGTERM');
    const result = await child;
    expect(result.exitCode).toBe(0);
  });

  it('fails during start with a traceback and exit code 1 when told to', async () => {
    const result = await execa(process.execPath, ['--import', 'tsx', launcher, '--port', '1'], {
      env: { FAKE_COMFYUI_FAIL_START: '1' },
      reject: false,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("ModuleNotFoundError: No module named 'torch'");
  });

  it('exits with the real message when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const result = await execa(process.execPath, ['--import', 'tsx', launcher, '--port', String(port)], { reject: false });
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain('address already in use');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
