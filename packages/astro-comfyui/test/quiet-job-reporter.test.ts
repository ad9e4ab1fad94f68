import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { describeJobPhase } from '../src/describe-job-phase.js';
import { QuietJobReporter } from '../src/quiet-job-reporter.js';

const promptId = 'p';

describe('QuietJobReporter', () => {
  let lines: string[];
  let reporter: QuietJobReporter;
  beforeEach(() => {
    vi.useFakeTimers();
    lines = [];
    reporter = new QuietJobReporter(
      () => '[1/2] post.md › image',
      (line) => lines.push(line),
      { firstMs: 10_000, everyMs: 30_000 },
    );
  });
  afterEach(() => {
    reporter.stop();
    vi.useRealTimers();
  });

  it('says what a quiet job does after 10 s, then every 30 s, timed from the start of that phase', () => {
    reporter.onProgress({ type: 'started', promptId });
    reporter.onProgress({ type: 'executing', promptId, node: '1', classType: 'CheckpointLoaderSimple' });
    vi.advanceTimersByTime(9_999);
    expect(lines).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(lines).toEqual(['[1/2] post.md › image: loading the model files (10.0 s so far)']);
    vi.advanceTimersByTime(30_000);
    expect(lines.at(-1)).toBe('[1/2] post.md › image: loading the model files (40.0 s so far)');
    expect(lines).toHaveLength(2);
  });

  it('takes the loaders of one cold load as one wait, said 10 s after it began', () => {
    // In ComfyUI's order: the checkpoint's loader, ModelSamplingSD3 (no time), the text encoders' loader.
    reporter.onProgress({ type: 'executing', promptId, node: '1', classType: 'CheckpointLoaderSimple' });
    vi.advanceTimersByTime(6_000);
    reporter.onProgress({ type: 'executing', promptId, node: '6', classType: 'ModelSamplingSD3' });
    reporter.onProgress({ type: 'executing', promptId, node: '2', classType: 'TripleCLIPLoader' });
    vi.advanceTimersByTime(4_000);
    expect(lines).toEqual(['[1/2] post.md › image: loading the model files (10.0 s so far)']);
  });

  it('stays silent while steps come, and names the step a slow one is at', () => {
    reporter.onProgress({ type: 'executing', promptId, node: '8', classType: 'KSampler' });
    for (let step = 1; step <= 20; step++) {
      vi.advanceTimersByTime(2_000);
      reporter.onProgress({ type: 'step', promptId, node: '8', value: step, max: 28 });
    }
    expect(lines).toEqual([]);
    vi.advanceTimersByTime(10_000);
    expect(lines).toEqual(['[1/2] post.md › image: sampling, step 20/28 (50.0 s so far)']);
  });

  it('says nothing once stopped, nor for a job sent again that waits in a queue', () => {
    reporter.onProgress({ type: 'executing', promptId, node: '9', classType: 'VAEDecode' });
    reporter.onProgress({ type: 'resubmitted', promptId, reason: 'ComfyUI restarted' });
    vi.advanceTimersByTime(60_000);
    reporter.onProgress({ type: 'executing', promptId, node: '9', classType: 'VAEDecode' });
    reporter.stop();
    vi.advanceTimersByTime(60_000);
    expect(lines).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('describeJobPhase', () => {
  it("names the SD3.5 graphs' nodes by what they do, and an author's own by its class", () => {
    expect(
      [
        'CheckpointLoaderSimple',
        'TripleCLIPLoader',
        'CLIPLoader',
        'CLIPTextEncode',
        'KSampler',
        'VAEDecode',
        'SaveImage',
        'ImageScaleBy',
        undefined,
        'ModelSamplingSD3',
        'EmptySD3LatentImage',
        'ConditioningZeroOut',
      ].map(describeJobPhase),
    ).toEqual([
      'loading the model files',
      'loading the model files',
      'loading the model files',
      'encoding the prompt',
      'sampling',
      'decoding the image',
      'saving the image',
      'running ImageScaleBy',
      'running',
      undefined,
      undefined,
      undefined,
    ]);
  });
});
