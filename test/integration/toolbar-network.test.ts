import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { childEnv, copyFixture } from '../helpers/fixture-site.js';

const cleanups = useCleanups();
const probeScript = fileURLToPath(new URL('../fixtures/toolbar-from-another-machine.ts', import.meta.url));

type Answer = { event: string; data: { requestId?: string; message?: string; readOnly?: string | null; posts?: string[] } };
type ProbeResult = Record<'lanBrowser' | 'lanClient' | 'localBrowser', Answer[]> & { relay: { lan: number; local: number; localPost: number } };

/**
 * Runs the probe in a new user + network namespace (unshare -rn) whose `lo` also has 10.99.0.1: the
 * dev server listens on every address there, and a connection from 10.99.0.1 is a machine on the
 * network. Nothing leaves the namespace, and this machine's own network is untouched.
 */
async function probeFromTheNetwork(root: string, options: Record<string, unknown> = {}): Promise<ProbeResult> {
  const result = await execa(
    'unshare',
    ['-rn', 'sh', '-c', 'ip link set lo up && ip addr add 10.99.0.1/32 dev lo && exec "$@"', 'sh', process.execPath, '--import', 'tsx', probeScript, root],
    {
      env: childEnv({ ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify(options) }),
      extendEnv: false,
      reject: false,
      all: true,
      timeout: 120_000,
    },
  );
  expect(result.exitCode, String(result.all)).toBe(0);
  return JSON.parse(String(result.stdout).trim().split('\n').at(-1)!) as ProbeResult;
}

const byEvent = (answers: Answer[], requestId: string) => answers.find((a) => a.data.requestId === requestId);

describe('the dev toolbar over the network (astro dev --host)', () => {
  it('gives machines on the network a read-only panel and refuses their writes; this machine keeps full use', async () => {
    const site = await copyFixture('blog');
    cleanups.push(site.cleanup);
    const post = path.join(site.root, 'src/content/blog/lighthouse.md');
    const before = await readFile(post, 'utf8');

    const { lanBrowser, lanClient, localBrowser, relay } = await probeFromTheNetwork(site.root);

    for (const answers of [lanBrowser, lanClient]) {
      const state = byEvent(answers, 'probe-init-1')!;
      expect(state.event).toBe('astro-comfyui:state');
      expect(state.data.readOnly).toMatch(
        /^This browser is on another machine \(10\.99\.0\.1\)\. Generating, pinning into posts and starting ComfyUI work only in a browser on the machine that runs astro dev, unless astro\.config sets comfyui\(\{ toolbar: \{ allowNetwork: true \} \}\)\.$/,
      );
      for (const id of ['probe-pin-1', 'probe-generate-1', 'probe-start-1']) {
        expect(byEvent(answers, id)).toEqual({ event: 'astro-comfyui:error', data: { requestId: id, message: state.data.readOnly } });
      }
    }
    // The same messages from this machine get past the access check (and fail later, for their own reasons).
    expect(byEvent(localBrowser, 'probe-init-1')!.data.readOnly).toBeNull();
    expect(byEvent(localBrowser, 'probe-pin-1')!.data.message).toMatch(/settings changed|gone from the cache/);
    expect(byEvent(localBrowser, 'probe-start-1')!.data.message).toMatch(/No start command is configured/);
    expect(await readFile(post, 'utf8')).toBe(before);
    // ComfyUI's UI through the dev server is this machine's only: refused to the network, relayed here to
    // the remote ComfyUI (a POST without a prompt gets ComfyUI's own 400, not its origin check's 403).
    expect(relay).toEqual({ lan: 403, local: 200, localPost: 400 });
  });

  it('lets them write when the author opts in with toolbar.allowNetwork', async () => {
    const site = await copyFixture('blog');
    cleanups.push(site.cleanup);
    const { lanBrowser, relay } = await probeFromTheNetwork(site.root, { toolbar: { allowNetwork: true } });
    expect(relay.lan).toBe(200);
    expect(byEvent(lanBrowser, 'probe-init-1')!.data.readOnly).toBeNull();
    expect(byEvent(lanBrowser, 'probe-start-1')!.data.message).toMatch(/No start command is configured/);
  });
});
