import { updateManifest, type ManifestEntry } from './manifest.js';

/**
 * Commits manifest entries in batches: a build that generates many images rewrites the manifest once
 * per batch (under the lock, merged with what other builds wrote) instead of once per image, which at
 * 20,000 committed images cost more than the GPU time. Nothing is lost if the process dies before a
 * flush: each image file carries its own entry and is re-adopted by the next run.
 */
export class ManifestWriter {
  readonly #file: string;
  readonly #lockDir: string;
  readonly #delayMs: number;
  readonly #onWait: ((message: string) => void) | undefined;
  #pending = new Map<string, ManifestEntry>();
  #timer: NodeJS.Timeout | null = null;
  #flushing: Promise<void> = Promise.resolve();

  constructor(file: string, lockDir: string, options: { delayMs?: number; onWait?: (message: string) => void } = {}) {
    this.#file = file;
    this.#lockDir = lockDir;
    this.#delayMs = options.delayMs ?? 1000;
    this.#onWait = options.onWait;
  }

  /** Queues an entry; it is written within `delayMs`, or by `flush()`. */
  add(key: string, entry: ManifestEntry): void {
    const queued = this.#pending.get(key);
    this.#pending.set(key, queued ? { ...entry, posts: [...new Set([...queued.posts, ...entry.posts])].sort() } : entry);
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      void this.flush().catch(() => {});
    }, this.#delayMs);
  }

  /** Writes every queued entry; resolves once they are in the manifest. */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    // One write at a time, in order: a flush waits for the one before it.
    this.#flushing = this.#flushing.catch(() => {}).then(() => this.#write());
    return this.#flushing;
  }

  async #write(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    try {
      await updateManifest(
        this.#file,
        this.#lockDir,
        (manifest) => {
          for (const [key, entry] of batch) {
            const previous = manifest.images[key];
            manifest.images[key] = { ...entry, posts: [...new Set([...(previous?.posts ?? []), ...entry.posts])].sort() };
          }
        },
        this.#onWait,
      );
    } catch (error) {
      // Queued again, behind what came meanwhile: the next flush writes them or reports its own failure.
      const later = this.#pending;
      this.#pending = batch;
      for (const [key, entry] of later) this.add(key, entry);
      throw error;
    }
  }
}
