import { randomUUID } from 'node:crypto';
import { ComfyUIError, isComfyUIError } from './comfyui-error.js';
import { isLeaveRunning } from './leave-running.js';
import { checkPng, type PngInfo } from './check-png.js';
import { describeExecutionFailure } from './describe-execution-failure.js';
import { formatDuration } from './format-duration.js';
import { PromptProgressTracker } from './prompt-progress.js';
import type { ApiWorkflow, ComfyUIMessage, HistoryEntry, ImageRef, QueuePromptResult, QueueState } from './types.js';

interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** What `runPrompt` needs of a client (ComfyUIClient has it); it does not depend on the class. */
export interface PromptClient {
  readonly url: string;
  readonly pollIntervalMs: number;
  readonly events: { subscribe(promptId: string, listener: (message: ComfyUIMessage) => void): () => void };
  queuePrompt(prompt: ApiWorkflow, options: CallOptions & { promptId?: string; extraData?: Record<string, unknown> }): Promise<QueuePromptResult>;
  getQueue(options?: CallOptions): Promise<QueueState>;
  getHistory(promptId: string, options?: CallOptions): Promise<HistoryEntry | undefined>;
  deleteHistory(promptIds: string[], options?: CallOptions): Promise<void>;
  deleteQueued(promptIds: string[], options?: CallOptions): Promise<void>;
  interrupt(promptId?: string, options?: CallOptions): Promise<void>;
  view(image: ImageRef, options?: CallOptions & { maxBytes?: number }): Promise<Buffer>;
}

export type PromptProgress =
  | { type: 'queued'; promptId: string; position: number }
  | { type: 'started'; promptId: string }
  | { type: 'cached'; promptId: string; nodes: string[] }
  /**
   * ComfyUI began a node: `classType` is its class_type in the graph (absent for a node ComfyUI made
   * from another), so a caller can say what runs (loading the model files can take minutes).
   */
  | { type: 'executing'; promptId: string; node: string; classType?: string }
  | { type: 'step'; promptId: string; node: string; value: number; max: number }
  | { type: 'resubmitted'; promptId: string; reason: string }
  | { type: 'downloading'; promptId: string; count: number };

export interface RunPromptOptions {
  /** The prompt_id to use. Derive it from what determines the image so a rerun finds the earlier job. Default: random. */
  promptId?: string;
  onProgress?: (progress: PromptProgress) => void;
  signal?: AbortSignal;
  /** How long the whole run may take, in ms. Default 30 minutes. */
  deadlineMs?: number;
  /**
   * When the job was handed over (ms since the epoch), if earlier than this call: the deadline counts
   * from then, so time spent waiting for an endpoint is part of it. Default: now.
   */
  queuedAt?: number;
  /** How long ComfyUI may stay unreachable during a run (a restart, a network blip) before giving up. Default 60000. */
  unreachableGraceMs?: number;
  extraData?: Record<string, unknown>;
  /**
   * Asks for the job back while it still waits in the server's queue (the pool gives it to an endpoint
   * with nothing to do): it is deleted from that queue and the run fails with WITHDRAWN. A job that
   * started meanwhile is not stopped: its run goes on as if nothing was asked.
   */
  withdraw?: AbortSignal;
  /** Keep the `/history` entry instead of deleting it after download. Default false. */
  keepHistory?: boolean;
  /**
   * The size the graph asks for. Each downloaded image must then be a whole, decodable PNG of this
   * size; anything else (an HTML page, half a file, another size) fails the run as BAD_OUTPUT.
   */
  expectImage?: PngInfo;
}

export interface GeneratedImage extends ImageRef {
  nodeId: string;
  data: Buffer;
}

export interface RunPromptResult {
  promptId: string;
  images: GeneratedImage[];
  /** True when ComfyUI served every node from its cache (an identical rerun). */
  fullyCached: boolean;
  durationMs: number;
  history: HistoryEntry;
}

const MAX_RESUBMITS = 3;
/** How long one image may take by default, queueing included. */
export const DEFAULT_JOB_DEADLINE_MS = 30 * 60_000;

/**
 * Submits a graph, or finds it when an earlier attempt with the same prompt_id is still queued or done,
 * follows its progress over the WebSocket, decides completion from `/history/{id}` (a fully cached run
 * emits no `executed`), downloads the images and deletes the history entry. On abort or deadline it
 * removes the job from the queue and interrupts it if it is running (unless the abort reason is
 * LeaveRunning: a running job then finishes, for the next run with its prompt id to collect).
 */
export async function runPrompt(client: PromptClient, prompt: ApiWorkflow, options: RunPromptOptions = {}): Promise<RunPromptResult> {
  const promptId = options.promptId ?? randomUUID();
  const started = Date.now();
  const deadlineMs = options.deadlineMs ?? DEFAULT_JOB_DEADLINE_MS;
  const graceMs = options.unreachableGraceMs ?? 60_000;
  const deadline = AbortSignal.timeout(Math.max(1, (options.queuedAt ?? started) + deadlineMs - started));
  const signal = options.signal ? AbortSignal.any([options.signal, deadline]) : deadline;
  const report = (progress: PromptProgress) =>
    options.onProgress?.(
      // The node id comes from ComfyUI: only a node of this graph (its own key, never a prototype's) names a class.
      progress.type === 'executing' && Object.hasOwn(prompt, progress.node) ? { ...progress, classType: prompt[progress.node]!.class_type } : progress,
    );

  let wake: (() => void) | null = null;
  const progress = new PromptProgressTracker(promptId, report, () => wake?.());
  const onMessage = progress.onMessage;
  const unsubscribe = client.events.subscribe(promptId, onMessage);
  // Set when a second prompt id is followed for the resave rerun.
  let unsubscribeExtra: (() => void) | undefined;
  let removeWithdrawListener: (() => void) | undefined;

  const fail = (error: unknown): never => {
    if (options.signal?.aborted) {
      throw new ComfyUIError('ABORTED', `Generation ${promptId} on ${client.url} was aborted.`, { url: client.url, cause: error });
    }
    if (deadline.aborted) {
      throw new ComfyUIError(
        'DEADLINE_EXCEEDED',
        `Generation ${promptId} on ${client.url} did not finish within ${formatDuration(deadlineMs)}. Raise the deadline, or check ComfyUI's console for a stuck job.`,
        { url: client.url, cause: error },
      );
    }
    throw error;
  };

  try {
    let graph = prompt;
    let currentId = promptId;
    let resubmits = 0;
    let unreachableSince: number | null = null;
    let justSubmitted = false;
    // SaveImage is run once more, under a fresh prefix, when a finished job's image cannot be had.
    let resaved = false;

    // A reset or a stall (before or after the headers) is waited out for up to `graceMs`; anything else fails.
    const waitOutTransientFault = async (error: unknown) => {
      if (!isComfyUIError(error, 'UNREACHABLE') && !isComfyUIError(error, 'TIMEOUT')) throw error;
      unreachableSince ??= Date.now();
      if (Date.now() - unreachableSince > graceMs) throw error;
      await pause(client.pollIntervalMs, signal, (w) => (wake = w));
    };

    const submit = async (reason?: string) => {
      if (reason) progress.resubmitted(currentId, reason);
      const queued = await client.queuePrompt(graph, { promptId: currentId, signal, extraData: options.extraData });
      if (queued.prompt_id !== currentId) {
        // Followed under our id, it would seem lost, and be submitted again and again: take it back instead.
        await cancelOnServer(client, queued.prompt_id, true);
        throw new ComfyUIError(
          'UNSUPPORTED_SERVER',
          `ComfyUI at ${client.url} queued the job as "${queued.prompt_id.slice(0, 100)}", not under the prompt id it was given (${currentId}): it does not keep the ids clients choose, which jobs are found by after a restart or a retry. Update ComfyUI (0.3.64 keeps them), or remove what rewrites the id (a proxy or a custom node).`,
          { url: client.url, details: { promptId: currentId, queuedAs: queued.prompt_id } },
        );
      }
      progress.submitted(currentId);
      // Just accepted: it is queued, no need to ask the server until the socket falls silent.
      justSubmitted = true;
    };

    // A fresh filename prefix is a changed input of SaveImage only: it executes again and saves the image
    // anew, and what is upstream comes from ComfyUI's cache if it still holds it (by default it keeps only
    // the last prompt's results; otherwise the sampler runs again, with the same seed).
    const resave = async (reason: string) => {
      resaved = true;
      await client.deleteHistory([currentId], { signal }).catch(() => {});
      graph = withFreshSavePrefix(graph);
      currentId = `${promptId}-resave`;
      progress.finished = false;
      unsubscribeExtra = client.events.subscribe(currentId, onMessage);
      await submit(reason);
    };

    // Wakes the wait for the queue, so a withdrawal is tried at once, not at the next poll.
    const onWithdraw = () => wake?.();
    options.withdraw?.addEventListener('abort', onWithdraw, { once: true });
    removeWithdrawListener = () => options.withdraw?.removeEventListener('abort', onWithdraw);
    let withdrawTried = false;

    const existing = await locate(client, currentId, signal);
    if (existing.state === 'done' && !isSuccess(existing.entry)) {
      // A failed earlier attempt with this id: start afresh instead of reporting an old failure.
      await client.deleteHistory([currentId], { signal });
      await submit();
    } else if (existing.state === 'missing') {
      await submit();
    }

    for (;;) {
      if (options.withdraw?.aborted && !withdrawTried && !progress.hasStarted && !resaved) {
        withdrawTried = true;
        if (await withdrawFromQueue(client, currentId, signal)) {
          throw new ComfyUIError('WITHDRAWN', `Generation ${currentId} was taken back from the queue of ComfyUI at ${client.url} before it started.`, {
            url: client.url,
          });
        }
      }
      let located: Awaited<ReturnType<typeof locate>>;
      try {
        if (justSubmitted) {
          justSubmitted = false;
          located = { state: 'queued', position: -1 };
        } else if (progress.finished) {
          // The socket said it finished: its history entry is the one thing to fetch.
          const entry = await client.getHistory(currentId, { signal });
          located = entry ? { state: 'done', entry } : await locate(client, currentId, signal);
        } else {
          located = await locate(client, currentId, signal);
        }
        // A finished job still has to be downloaded: only a job still on the server resets the grace period.
        if (located.state !== 'done') unreachableSince = null;
      } catch (error) {
        await waitOutTransientFault(error);
        continue;
      }

      if (located.state === 'queued') {
        // Position 0 is running: that is `started`, not a queue position, and is not repeated per poll.
        progress.queued(currentId, located.position);
        // After a finish message the history entry follows within moments; look again sooner. While the
        // socket reports on the job, polling would learn nothing: ask again once it has been silent.
        for (let before = -1; before !== progress.heard && !progress.finished; ) {
          before = progress.heard;
          await pause(client.pollIntervalMs, signal, (w) => (wake = w));
        }
        if (progress.finished) await pause(Math.min(50, client.pollIntervalMs), signal, (w) => (wake = w));
        continue;
      }
      if (located.state === 'missing') {
        // Neither queued nor in history: the server restarted or someone cleared the queue.
        if (progress.finished) {
          progress.finished = false;
          await pause(Math.min(50, client.pollIntervalMs), signal, (w) => (wake = w));
          continue;
        }
        if (++resubmits > MAX_RESUBMITS) {
          throw new ComfyUIError(
            'EXECUTION_FAILED',
            `Generation ${currentId} disappeared from ComfyUI at ${client.url} ${MAX_RESUBMITS} times (restarts or cleared queue).`,
            { url: client.url },
          );
        }
        await submit('the job was lost on the server');
        continue;
      }

      const entry = located.entry;
      if (!isSuccess(entry)) throw describeExecutionFailure(client.url, currentId, entry);
      const refs = collectImages(entry);
      if (refs.length === 0) {
        // Older servers leave fully cached output nodes out of history: rerun with a fresh filename prefix
        // so only SaveImage executes again (everything upstream stays cached).
        if (resaved || !hasSaveImage(graph)) {
          throw new ComfyUIError('NO_OUTPUT', `ComfyUI at ${client.url} finished ${currentId} without saving any image. The workflow needs a SaveImage node.`, {
            url: client.url,
          });
        }
        await resave('the server returned no outputs for a cached run');
        continue;
      }

      progress.downloading(currentId, refs.length);
      const images: GeneratedImage[] = [];
      try {
        for (const ref of refs) images.push({ ...ref, data: await download(client, currentId, ref, signal, options.expectImage) });
      } catch (error) {
        if (isComfyUIError(error, 'HTTP_ERROR') && error.details?.status === 404) {
          // Saved, then removed from the output folder (cleaned by hand or by a script) before this download,
          // as when a build was interrupted and the job finished meanwhile: the entry names a file that is gone.
          if (resaved || !hasSaveImage(graph)) throw missingOutput(client.url, currentId, error, resaved);
          await resave("its image was gone from ComfyUI's output folder");
          continue;
        }
        // The entry stays in history until downloaded: look it up again and download afresh.
        await waitOutTransientFault(error);
        continue;
      }
      if (!options.keepHistory) await client.deleteHistory([currentId], { signal }).catch(() => {});
      return {
        promptId: currentId,
        images,
        fullyCached: progress.executedNodes === 0 && isFullyCached(entry, graph),
        durationMs: Date.now() - started,
        history: entry,
      };
    }
  } catch (error) {
    // Past its deadline a job is stopped; stopped by its caller, one that runs may be left to finish.
    if (signal.aborted) await cancelOnServer(client, promptId, deadline.aborted || !isLeaveRunning(options.signal?.reason));
    return fail(error);
  } finally {
    unsubscribe();
    unsubscribeExtra?.();
    removeWithdrawListener?.();
  }
}

/**
 * Deletes a job from the server's queue and tells whether that took it back: ComfyUI deletes only jobs
 * that wait (server.py `POST /queue` → PromptQueue.delete_queue_item), so one that started meanwhile
 * runs on and is found running or done. When unsure (the server did not answer), the job stays.
 */
async function withdrawFromQueue(client: PromptClient, promptId: string, signal: AbortSignal): Promise<boolean> {
  try {
    await client.deleteQueued([promptId], { signal });
    return (await locate(client, promptId, signal)).state === 'missing';
  } catch {
    return false;
  }
}

/** Downloads one output and checks it: a ComfyUI answer is untrusted input like any other. */
async function download(client: PromptClient, promptId: string, ref: ImageRef, signal: AbortSignal, expected: PngInfo | undefined): Promise<Buffer> {
  const name = `${ref.subfolder ? `${ref.subfolder}/` : ''}${ref.filename}`;
  const bad = (why: string, cause?: unknown) =>
    new ComfyUIError(
      'BAD_OUTPUT',
      `ComfyUI at ${client.url} returned an unusable image "${name.slice(0, 200)}" for ${promptId}: ${why}. Check that ComfyUI's output folder is healthy and that the workflow saves a PNG of the requested size.`,
      { url: client.url, cause, details: { ref } },
    );
  if (!isSafeRef(ref)) throw bad("its name or folder is not a plain path inside ComfyUI's output");
  const data = await client.view(ref, { signal });
  if (expected || ref.filename.toLowerCase().endsWith('.png')) {
    try {
      checkPng(data, expected);
    } catch (error) {
      throw bad((error as Error).message, error);
    }
  }
  return data;
}

/** A history entry names files by filename + subfolder + type; each must stay inside ComfyUI's folders. */
function isSafeRef(ref: ImageRef): boolean {
  const plain = (part: string) => part !== '' && part !== '.' && part !== '..' && !/[\\\0]/.test(part);
  return (
    typeof ref.filename === 'string' &&
    plain(ref.filename) &&
    !ref.filename.includes('/') &&
    typeof ref.subfolder === 'string' &&
    (ref.subfolder === '' || (!ref.subfolder.startsWith('/') && ref.subfolder.split('/').every(plain))) &&
    ['output', 'temp', 'input'].includes(ref.type)
  );
}

type Located = { state: 'queued'; position: number } | { state: 'done'; entry: HistoryEntry } | { state: 'missing' };

/** Queue first, then history: items only move from queue to history, so this order never misses one. */
async function locate(client: PromptClient, promptId: string, signal: AbortSignal): Promise<Located> {
  const queue = await client.getQueue({ signal });
  if (queue.queue_running.some((item) => item[1] === promptId)) return { state: 'queued', position: 0 };
  const position = queue.queue_pending.findIndex((item) => item[1] === promptId);
  if (position >= 0) return { state: 'queued', position: position + 1 };
  const entry = await client.getHistory(promptId, { signal });
  return entry ? { state: 'done', entry } : { state: 'missing' };
}

/** Deletes the job from the queue if it waits there, and interrupts it if it runs and `interrupt` says so. */
async function cancelOnServer(client: PromptClient, promptId: string, interrupt: boolean): Promise<void> {
  const ids = [promptId, `${promptId}-resave`];
  const quick = { timeoutMs: 5000 };
  try {
    await client.deleteQueued(ids, quick);
    if (!interrupt) return;
    const queue = await client.getQueue(quick);
    // Only interrupt when it is ours that runs: older servers ignore prompt_id and stop whatever runs.
    if (queue.queue_running.some((item) => ids.includes(item[1]))) await client.interrupt(promptId, quick);
  } catch {
    // Best effort: the server may be gone, which also cancels the job.
  }
}

function isSuccess(entry: HistoryEntry): boolean {
  // Very old servers wrote no status; their history entries exist only for finished prompts.
  return !entry.status || entry.status.status_str === 'success';
}

function isFullyCached(entry: HistoryEntry, graph: ApiWorkflow): boolean {
  const cached = entry.status?.messages.find(([type]) => type === 'execution_cached')?.[1]?.nodes;
  return Array.isArray(cached) && cached.length === Object.keys(graph).length;
}

function collectImages(entry: HistoryEntry): Array<ImageRef & { nodeId: string }> {
  const all = Object.entries(entry.outputs ?? {})
    .sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))
    .flatMap(([nodeId, output]) => (output.images ?? []).map((image) => ({ ...image, nodeId })));
  const saved = all.filter((image) => image.type === 'output');
  return saved.length > 0 ? saved : all;
}

function missingOutput(url: string, promptId: string, cause: ComfyUIError, resaved: boolean): ComfyUIError {
  const path = String(cause.details?.path ?? '');
  const name = new URLSearchParams(path.slice(path.indexOf('?') + 1)).get('filename') ?? 'its image';
  const tried = resaved ? 'even after saving it again' : 'and the workflow has no SaveImage node to save it again';
  return new ComfyUIError(
    'BAD_OUTPUT',
    `ComfyUI at ${url} finished ${promptId}, but ${name.slice(0, 200)} is not in its output folder (GET /view answered 404), ${tried}. Check that nothing removes files from ComfyUI's output folder while it runs.`,
    { url, cause },
  );
}

function hasSaveImage(graph: ApiWorkflow): boolean {
  return Object.values(graph).some((node) => node.class_type === 'SaveImage');
}

function withFreshSavePrefix(graph: ApiWorkflow): ApiWorkflow {
  const copy = structuredClone(graph);
  const nonce = randomUUID().slice(0, 8);
  for (const node of Object.values(copy)) {
    if (node.class_type === 'SaveImage') node.inputs.filename_prefix = `${String(node.inputs.filename_prefix ?? 'ComfyUI')}_${nonce}`;
  }
  return copy;
}

/** Sleeps until the interval passes, a message wakes the loop, or the signal aborts. */
function pause(ms: number, signal: AbortSignal, setWake: (wake: (() => void) | null) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      setWake(null);
      resolve();
    };
    const onAbort = () => {
      clearTimeout(timer);
      setWake(null);
      reject(signal.reason);
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', onAbort, { once: true });
    setWake(done);
  });
}
