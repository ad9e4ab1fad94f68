import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createComfyUIPool } from '../../packages/comfyui/src/index.js';
import { startFakeProcess } from '../helpers/start-fake-process.js';
import { buildTestGraph } from '../helpers/sd35-graph.js';

export interface PipelineResult {
  endpoints: number;
  images: number;
  gpuMs: number;
  wallMs: number;
  efficiency: number;
  gapMedianMs: number;
  gapP95Ms: number;
  /** Mean time the server spent per job (simulated GPU time plus the fake's own work). */
  busyMs: number;
  /** Server busy time ÷ (endpoints × wall time). */
  utilization: number;
  /** Jobs the pool took back from one server's queue for an idle one. */
  moved: number;
}

/**
 * Runs `images` jobs through the pool against `endpoints` fake ComfyUI processes whose "GPU" takes
 * `steps × stepMs` per image (`stepMs` per endpoint when a list: GPUs of different speeds), and measures
 * wall time and the server-side idle gap between jobs. Efficiency compares the wall time with the ideal:
 * every GPU busy until the last image, `images ÷ Σ (1 ÷ its time per image)`.
 */
export async function benchPipeline(endpoints: number, images: number, steps = 4, stepMs: number | number[] = 125): Promise<PipelineResult> {
  const stepsMs = Array.from({ length: endpoints }, (_, i) => (Array.isArray(stepMs) ? stepMs[i]! : stepMs));
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-pipeline-'));
  const fakes: Array<{ url: string; stop: () => Promise<void> }> = [];
  try {
    // Processes on port 0 that print their address: no other process can take a port chosen in advance.
    for (let i = 0; i < endpoints; i++) {
      fakes.push(await startFakeProcess({ FAKE_COMFYUI_STEP_DELAY_MS: String(stepsMs[i]), FAKE_COMFYUI_TIMELINE: path.join(dir, `timeline-${i}.jsonl`) }));
    }
    let moved = 0;
    const logger = { info: (message: string) => void (message.includes('moves to an endpoint') && moved++), warn() {}, error() {} };
    const pool = createComfyUIPool({ endpoints: fakes.map((f) => f.url), queueAhead: 1, pollIntervalMs: 1000, logger });
    const started = performance.now();
    await Promise.all(
      Array.from({ length: images }, (_, i) => pool.run(buildTestGraph({ seed: i, steps, width: 64, height: 64 }), { promptId: `bench-${i}` })),
    );
    const wallMs = performance.now() - started;
    await pool.close();
    const gaps: number[] = [];
    let busy = 0;
    for (let i = 0; i < endpoints; i++) {
      const lines = (await readFile(path.join(dir, `timeline-${i}.jsonl`), 'utf8'))
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { start: number; end: number });
      lines.sort((a, b) => a.start - b.start);
      for (const line of lines) busy += line.end - line.start;
      for (let j = 1; j < lines.length; j++) gaps.push(lines[j]!.start - lines[j - 1]!.end);
    }
    gaps.sort((a, b) => a - b);
    const gpuMs = steps * stepsMs[0]!;
    const idealMs = images / stepsMs.reduce((rate, ms) => rate + 1 / (steps * ms), 0);
    return {
      endpoints,
      images,
      gpuMs,
      wallMs,
      efficiency: idealMs / wallMs,
      gapMedianMs: gaps[Math.floor(gaps.length / 2)] ?? 0,
      gapP95Ms: gaps[Math.floor(gaps.length * 0.95)] ?? 0,
      busyMs: busy / images,
      utilization: busy / endpoints / wallMs,
      moved,
    };
  } finally {
    await Promise.all(fakes.map((f) => f.stop()));
    await rm(dir, { recursive: true, force: true });
  }
}
