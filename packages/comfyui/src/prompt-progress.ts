import type { PromptProgress } from './run-prompt.js';
import type { ComfyUIMessage } from './types.js';

type NodeState = { value?: unknown; max?: unknown; state?: unknown; node_id?: unknown };

/**
 * Turns what is known about one prompt (its WebSocket messages and what polling finds) into progress
 * reports: each fact once and in order, started before steps and nothing after downloading began. It
 * also keeps what the run loop asks: whether a finish was heard, and whether the socket is talking.
 */
export class PromptProgressTracker {
  /** A finish message was heard; the history entry follows within moments. */
  finished = false;
  /** Nodes that executed (not served from ComfyUI's cache). */
  executedNodes = 0;
  /** Messages heard about the prompt: while the socket talks, /queue and /history have nothing new. */
  heard = 0;
  readonly #promptId: string;
  readonly #report: (progress: PromptProgress) => void;
  readonly #onDone: () => void;
  #started = false;
  #downloading = false;
  #lastStep = '';
  #lastPosition: number | undefined;

  /** `onDone` is called when the history entry can be fetched (`executing` with node null). */
  constructor(promptId: string, report: (progress: PromptProgress) => void, onDone: () => void) {
    this.#promptId = promptId;
    this.#report = report;
    this.#onDone = onDone;
  }

  readonly onMessage = (message: ComfyUIMessage): void => {
    this.heard++;
    const data = message.data;
    switch (message.type) {
      case 'execution_start':
        this.started();
        return;
      case 'execution_cached':
        if (!this.#downloading) this.#report({ type: 'cached', promptId: this.#promptId, nodes: (data.nodes as string[]) ?? [] });
        return;
      case 'executing':
        if (data.node === null) {
          this.finished = true;
          this.#onDone();
        } else if (!this.#downloading) {
          this.executedNodes++;
          this.started();
          this.#report({ type: 'executing', promptId: this.#promptId, node: String(data.node) });
        }
        return;
      case 'progress':
        this.#step(String(data.node), Number(data.value), Number(data.max));
        return;
      case 'progress_state':
        // The whole state of every node so far: a socket that joined mid-run still learns the step.
        for (const node of Object.values((data.nodes ?? {}) as Record<string, NodeState>)) {
          if (node?.state === 'running' && Number(node.max) > 1) this.#step(String(node.node_id), Number(node.value), Number(node.max));
        }
        return;
      case 'execution_success':
      case 'execution_error':
      case 'execution_interrupted':
        // Finished, but ComfyUI writes the history entry just before `executing {node: null}`
        // (main.py prompt_worker): the loop is woken by that message, not by this one.
        this.finished = true;
        return;
    }
  };

  /** Whether the server began to run it (since it was last submitted). */
  get hasStarted(): boolean {
    return this.#started;
  }

  started(): void {
    if (this.#started || this.#downloading) return;
    this.#started = true;
    this.#report({ type: 'started', promptId: this.#promptId });
  }

  submitted(promptId: string): void {
    this.#lastPosition = -1;
    this.#report({ type: 'queued', promptId, position: -1 });
  }

  /** A resubmitted job starts over: its start and steps are news again. */
  resubmitted(promptId: string, reason: string): void {
    this.#started = false;
    this.#lastStep = '';
    this.#lastPosition = undefined;
    this.#report({ type: 'resubmitted', promptId, reason });
  }

  /** Position 0 is running: that is `started`, not a queue position, and is not repeated per poll. */
  queued(promptId: string, position: number): void {
    if (position === 0) this.started();
    else if (position !== this.#lastPosition) this.#report({ type: 'queued', promptId, position });
    this.#lastPosition = position;
  }

  downloading(promptId: string, count: number): void {
    this.#downloading = true;
    this.#report({ type: 'downloading', promptId, count });
  }

  /** `progress` and `progress_state` (newer servers) both carry each step: it is reported once. */
  #step(node: string, value: number, max: number): void {
    if (this.#downloading || `${node}:${value}/${max}` === this.#lastStep) return;
    this.#lastStep = `${node}:${value}/${max}`;
    this.started();
    this.#report({ type: 'step', promptId: this.#promptId, node, value, max });
  }
}
