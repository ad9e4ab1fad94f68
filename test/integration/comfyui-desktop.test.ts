import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { childEnv, copyFixture } from '../helpers/fixture-site.js';

const cleanups = useCleanups();
const script = fileURLToPath(new URL('../fixtures/comfyui-desktop-port.ts', import.meta.url));
type Said = { exitCode: number; all: string };
type Dev = {
  log: string;
  answers: Array<{ event: string; data: { requestId?: string; message?: string; endpoints?: Array<Record<string, unknown>> } }>;
  advanced: string;
};

describe('a ComfyUI Desktop on its own port', () => {
  it('is named, with the COMFYUI_URL to set, by status, builds, dev and its toolbar when nothing answers at the default address; another server on that port is not', async () => {
    const site = await copyFixture('blog');
    cleanups.push(site.cleanup);
    // A user and network namespace of its own (unshare -rn): ports 8000 and 8188 are free there whatever
    // this machine runs, and nothing leaves it.
    const run = await execa('unshare', ['-rn', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', process.execPath, '--import', 'tsx', script, site.root], {
      env: childEnv({}),
      extendEnv: false,
      reject: false,
      all: true,
      timeout: 180_000,
    });
    expect(run.exitCode, String(run.all)).toBe(0);
    const { dev, ...said } = JSON.parse(String(run.stdout).trim().split('\n').at(-1)!) as Record<string, Said> & { dev: Dev };
    const pointer =
      "A ComfyUI answers at http://127.0.0.1:8000, the port ComfyUI Desktop uses: set COMFYUI_URL=http://127.0.0.1:8000 (in the shell or the site's .env file) to use it.";

    expect(said.status!.all).toMatch(/http:\/\/127\.0\.0\.1:8188: down — ComfyUI is not reachable at http:\/\/127\.0\.0\.1:8188/);
    expect(said.status!.all).toContain(`  ${pointer}`);
    expect(said.generate!.exitCode).toBe(1);
    expect(said.generate!.all).toContain('not generated yet and no ComfyUI answers:\n- http://127.0.0.1:8188: ComfyUI is not reachable');
    expect(said.generate!.all.split('\n').map((line) => line.trim())).toContain(`hint: ${pointer}`);
    // Said once: in the advice, not again among the reasons.
    expect(said.generate!.all.split('answers at http://127.0.0.1:8000').length - 1).toBe(1);
    expect(said.placeholders!.exitCode).toBe(0);
    expect(said.placeholders!.all).toMatch(
      /PLACEHOLDER IMAGES: .*no ComfyUI answers:\n- http:\/\/127\.0\.0\.1:8188: .*\nA ComfyUI answers at http:\/\/127\.0\.0\.1:8000/s,
    );
    // astro dev says it in its log, the Advanced tab beside the stopped endpoint, and Generate in its error.
    expect(dev.log).toContain(pointer);
    const status = dev.answers.find((a) => a.data.requestId === 'status-1' && a.event === 'astro-comfyui:status-result')!;
    expect(status.data.endpoints).toEqual([expect.objectContaining({ url: 'http://127.0.0.1:8188', state: 'stopped', elsewhere: pointer })]);
    expect(dev.advanced).toBe(`ComfyUI at http://127.0.0.1:8188 is not running. ${pointer}`);
    const generated = dev.answers.find((a) => a.data.requestId === 'generate-1')!;
    expect(generated.event).toBe('astro-comfyui:error');
    expect(generated.data.message).toMatch(
      /^ComfyUI is not running: ComfyUI is not reachable at http:\/\/127\.0\.0\.1:8188 .* A ComfyUI answers at http:\/\/127\.0\.0\.1:8000/,
    );

    expect(said.followed!.exitCode, said.followed!.all).toBe(0);
    expect(said.followed!.all).toMatch(/Generating \d+ images? with ComfyUI \(http:\/\/127\.0\.0\.1:8000\)/);

    for (const other of [said.otherStatus!, said.otherGenerate!]) {
      expect(other.all).toContain('ComfyUI is not reachable at http://127.0.0.1:8188');
      expect(other.all).not.toContain('8000');
    }
    expect(said.otherGenerate!.all).toContain('Start ComfyUI (or set start: { cwd } so it is started for you)');
  });
});
