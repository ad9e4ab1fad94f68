import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./fixtures/interruptible.mjs', import.meta.url));

/** The fixture as a real process; `output` fills as it writes, `exited` resolves with its code or signal. */
function start(pauseMs: number) {
  const child = spawn(process.execPath, [script, String(pauseMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  const seen = async (text: string) => {
    while (!output.includes(text)) await new Promise((resolve) => setTimeout(resolve, 20));
  };
  return { child, exited, seen, output: () => output };
}

describe('runInterruptibly', () => {
  it('lets a first Ctrl-C stop the work cleanly, and gives Ctrl-C back to Node once the work is done', async () => {
    const run = start(200);
    await run.seen('ready');
    run.child.kill('SIGINT');
    await run.seen('done');
    expect(run.output()).toContain("warn: Stopping: taking back the jobs still waiting in ComfyUI's queue");
    // A job that runs is left to finish, for the next run to collect.
    expect(run.output()).toContain('reason: LeaveRunning');
    expect(run.output()).toContain('stopped cleanly');
    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: null, signal: 'SIGINT' });
    expect(run.output()).not.toContain('still alive');
  });

  it('quits at once with 130 on a second Ctrl-C while the stop takes long', async () => {
    const run = start(60_000);
    await run.seen('ready');
    run.child.kill('SIGINT');
    await run.seen('Stopping');
    run.child.kill('SIGINT');
    expect(await run.exited).toEqual({ code: 130, signal: null });
    expect(run.output()).not.toContain('stopped cleanly');
  });
});
