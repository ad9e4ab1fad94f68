import type { PromptProgress } from '@astro-comfyui/comfyui';
import { formatDuration } from '@astro-comfyui/comfyui/workflows';
import { describeJobPhase } from './describe-job-phase.js';

export interface QuietJobTiming {
  /** How long a running job may be quiet before the log says what it is doing. */
  firstMs: number;
  /** How often it is said again while the job stays quiet. */
  everyMs: number;
}

const DEFAULT_TIMING: QuietJobTiming = { firstMs: 10_000, everyMs: 30_000 };

/**
 * Says in the log what a running job is doing when ComfyUI has sent nothing about it for a while. A first
 * image waits minutes while ComfyUI loads the model files, in one node that reports no progress: without
 * this the build log stops at "Generating N images" and looks hung. Steps flowing keep it silent (the
 * step lines say enough). `stop()` ends it; it never keeps a process alive.
 */
export class QuietJobReporter {
  readonly #label: () => string;
  readonly #log: (line: string) => void;
  readonly #timing: QuietJobTiming;
  #phase: string | undefined;
  #phaseSince = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(label: () => string, log: (line: string) => void, timing: QuietJobTiming = DEFAULT_TIMING) {
    this.#label = label;
    this.#log = log;
    this.#timing = timing;
  }

  readonly onProgress = (progress: PromptProgress): void => {
    if (progress.type === 'started') this.#enter('starting');
    else if (progress.type === 'executing') {
      const phase = describeJobPhase(progress.classType);
      if (phase) this.#enter(phase);
    } else if (progress.type === 'step') this.#enter('sampling', `step ${progress.value}/${progress.max}`);
    else if (progress.type === 'downloading') this.#enter('downloading the image');
    else if (progress.type === 'resubmitted') {
      // Sent again (ComfyUI restarted): it waits in a queue, which the queue lines report.
      this.#phase = undefined;
      this.stop();
    }
  };

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #enter(phase: string, detail?: string): void {
    if (phase !== this.#phase) {
      [this.#phase, this.#phaseSince] = [phase, Date.now()];
      this.#arm(this.#timing.firstMs, detail);
    } else if (detail !== undefined) {
      // A step is news the step lines report: quiet counts from it.
      this.#arm(this.#timing.firstMs, detail);
    }
    // Another node of the same phase (the text encoders' loader after the checkpoint's) is no news: a
    // cold load of several files is one wait, said 10 s after it began.
  }

  #arm(delayMs: number, detail: string | undefined): void {
    this.stop();
    this.#timer = setTimeout(() => {
      this.#log(`${this.#label()}: ${this.#phase}${detail ? `, ${detail}` : ''} (${formatDuration(Date.now() - this.#phaseSince)} so far)`);
      this.#arm(this.#timing.everyMs, detail);
    }, delayMs);
    this.#timer.unref();
  }
}
