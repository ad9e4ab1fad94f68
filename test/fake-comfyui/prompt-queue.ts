import type { ApiPrompt } from './validate-prompt.js';

/** `[number, prompt_id, prompt, extra_data, outputs_to_execute]`, exactly as `/queue` and `/history` show it. */
export type QueueItem = [number, string, ApiPrompt, Record<string, unknown>, string[]];

export interface HistoryEntry {
  prompt: QueueItem;
  outputs: Record<string, unknown>;
  status: { status_str: 'success' | 'error'; completed: boolean; messages: Array<[string, Record<string, unknown>]> };
  meta: Record<string, unknown>;
}

const MAXIMUM_HISTORY_SIZE = 10000;

/** ComfyUI's PromptQueue: a heap ordered by number, one running item, and a bounded history map. */
export class PromptQueue {
  pending: QueueItem[] = [];
  running: QueueItem | null = null;
  readonly history = new Map<string, HistoryEntry>();
  #waiters: Array<() => void> = [];

  constructor(private readonly onUpdate: () => void) {}

  get remaining(): number {
    return this.pending.length + (this.running ? 1 : 0);
  }

  put(item: QueueItem): void {
    this.pending.push(item);
    this.pending.sort((a, b) => a[0] - b[0] || a[1].localeCompare(b[1]));
    this.onUpdate();
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Resolves with the next item once there is one; the item is then running. */
  async take(isClosed: () => boolean): Promise<QueueItem | null> {
    while (this.pending.length === 0) {
      if (isClosed()) return null;
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
    if (isClosed()) return null;
    this.running = this.pending.shift()!;
    this.onUpdate();
    return this.running;
  }

  /** Wakes a waiting `take()` so the worker can notice that the server closed. */
  wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  finish(entry: Omit<HistoryEntry, 'prompt'>): void {
    const item = this.running!;
    this.running = null;
    if (this.history.size > MAXIMUM_HISTORY_SIZE) this.history.delete(this.history.keys().next().value!);
    this.history.set(item[1], { prompt: item, ...entry });
    this.onUpdate();
  }

  clearPending(): void {
    this.pending = [];
    this.onUpdate();
  }

  deletePending(promptId: string): void {
    const index = this.pending.findIndex((item) => item[1] === promptId);
    if (index === -1) return;
    this.pending.splice(index, 1);
    this.onUpdate();
  }

  /** `GET /history` with ComfyUI's `max_items`/`offset` semantics (the newest `max_items` by default). */
  listHistory(maxItems?: number, offset = -1): Record<string, HistoryEntry> {
    const entries = [...this.history.entries()];
    let start = offset;
    if (start < 0 && maxItems !== undefined) start = entries.length - maxItems;
    const out: Record<string, HistoryEntry> = {};
    entries.forEach(([id, entry], i) => {
      if (i >= start && (maxItems === undefined || Object.keys(out).length < maxItems)) out[id] = entry;
    });
    return out;
  }
}
