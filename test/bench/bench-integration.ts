import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { collectPostImages } from '../../packages/astro-comfyui/src/collect-post-images.js';
import { type ManifestEntry, writeManifestFile } from '../../packages/astro-comfyui/src/manifest.js';
import { resolveOptions } from '../../packages/astro-comfyui/src/options.js';
import { syncImages } from '../../packages/astro-comfyui/src/sync-images.js';
import { silentLogger } from '../../packages/comfyui/src/index.js';
import { startFakeProcess } from '../helpers/start-fake-process.js';

export interface IntegrationResult {
  committed: number;
  images: number;
  endpoints: number;
  gpuMs: number;
  /** From the first job's start to the last one's end, on the servers' clocks. */
  spanMs: number;
  /** images × GPU time ÷ (endpoints × span): 1 means the GPUs never waited for the integration. */
  efficiency: number;
  maxGapMs: number;
  /** The servers' own time per job (the fake's work around its GPU time included). */
  jobMs: number;
  /** The servers' busy time ÷ (endpoints × span): what the integration alone decides. */
  utilisation: number;
}

/**
 * The integration itself, scan → generate → commit, for a site that already has `committed` images in
 * its manifest and `images` new prompts, on `endpoints` fake ComfyUI processes whose "GPU" takes
 * `steps × stepMs` per image. Measures how busy the GPUs are kept.
 */
export async function benchIntegration(committed: number, images = 80, endpoints = 4, steps = 4, stepMs = 125): Promise<IntegrationResult> {
  const root = await mkdtemp(path.join(tmpdir(), 'bench-integration-'));
  const fakes: Array<{ url: string; stop: () => Promise<void> }> = [];
  try {
    await mkdir(path.join(root, 'src/content/blog'), { recursive: true });
    await mkdir(path.join(root, 'src/assets/generated'), { recursive: true });
    for (let i = 0; i < images; i++)
      await writeFile(path.join(root, `src/content/blog/new-${i}.md`), `---\ntitle: New ${i}\nimage: "a new image number ${i}"\n---\n`);
    // A manifest with `committed` entries of earlier posts: what each commit has to merge into.
    const entries: Record<string, ManifestEntry> = {};
    for (let i = 0; i < committed; i++) {
      const key = createHash('sha256').update(`committed ${i}`).digest('hex');
      entries[key] = {
        file: `old-post-${i}-${key.slice(0, 12)}.png`,
        posts: [`src/content/blog/old-post-${i}.md`],
        prompt: `an old image number ${i}`,
        negative: '',
        seed: i,
        width: 1344,
        height: 768,
        workflow: 'sd35:large-turbo@1',
        model: { model: 'large-turbo', checkpoint: 'sd3.5_large_turbo.safetensors', steps: 4, cfg: 1 },
        comfyuiVersion: '0.3.64',
        created: '2026-01-01T00:00:00.000Z',
        durationMs: 4200,
        placeholder: false,
      };
    }
    await writeManifestFile(path.join(root, 'src/assets/generated/images.lock.json'), { version: 2, images: entries });

    const timelines = Array.from({ length: endpoints }, (_, i) => path.join(root, `timeline-${i}.jsonl`));
    for (const timeline of timelines) fakes.push(await startFakeProcess({ FAKE_COMFYUI_STEP_DELAY_MS: String(stepMs), FAKE_COMFYUI_TIMELINE: timeline }));
    const options = resolveOptions(
      { endpoints: fakes.map((f) => f.url), formats: { hero: { width: 64, height: 64 } }, model: { steps }, queueAhead: 1, pollIntervalMs: 1000 },
      root,
      {},
    );
    const { images: requested } = await collectPostImages(options);
    await syncImages(requested, options, { logger: silentLogger });

    const jobs: Array<{ start: number; end: number }> = [];
    const gaps: number[] = [];
    for (const timeline of timelines) {
      const lines = (await readFile(timeline, 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { start: number; end: number })
        .sort((a, b) => a.start - b.start);
      jobs.push(...lines);
      for (let j = 1; j < lines.length; j++) gaps.push(lines[j]!.start - lines[j - 1]!.end);
    }
    const spanMs = Math.max(...jobs.map((j) => j.end)) - Math.min(...jobs.map((j) => j.start));
    const gpuMs = steps * stepMs;
    const busyMs = jobs.reduce((sum, j) => sum + j.end - j.start, 0);
    return {
      committed,
      images,
      endpoints,
      gpuMs,
      spanMs,
      efficiency: (images * gpuMs) / endpoints / spanMs,
      maxGapMs: Math.max(0, ...gaps),
      jobMs: busyMs / jobs.length,
      utilisation: busyMs / endpoints / spanMs,
    };
  } finally {
    await Promise.all(fakes.map((f) => f.stop()));
    await rm(root, { recursive: true, force: true });
  }
}
