import { ComfyUIClient } from './comfyui-client.js';
import { ComfyUIError, isComfyUIError } from './comfyui-error.js';
import { DEFAULT_JOB_DEADLINE_MS } from './run-prompt.js';
import { formatDuration } from './format-duration.js';
import { respellForServer } from './respell-for-server.js';
import { ComfyUISupervisor, type StartCommand } from './comfyui-supervisor.js';
import type { PromptProgress, RunPromptOptions, RunPromptResult } from './run-prompt.js';
import type { ApiWorkflow, Logger, ObjectInfo } from './types.js';
import { silentLogger } from './types.js';

export interface PoolEndpoint {
  url: string;
  /** Start ComfyUI here when it does not answer (local endpoints only). */
  start?: StartCommand;
  /** A supervisor owned by the caller (e.g. for a whole dev session); the pool uses it but never disposes it. */
  supervisor?: ComfyUISupervisor;
}

export interface ComfyUIPoolOptions {
  endpoints: Array<string | PoolEndpoint>;
  /**
   * Jobs sent to an endpoint beyond the one it runs, so the GPU never waits for the next upload.
   * At most `1 + queueAhead` jobs are in flight per endpoint. Default 1.
   */
  queueAhead?: number;
  /** How long an endpoint may stay unreachable mid-job before its jobs move elsewhere, in ms. Default 10000 with several endpoints, 60000 with one. */
  failoverAfterMs?: number;
  /** How long a failed endpoint rests before it is tried again, in ms. Default 30000. */
  retryDownAfterMs?: number;
  /** Default per-job deadline in ms. Default 30 minutes. */
  jobDeadlineMs?: number;
  pollIntervalMs?: number;
  timeoutMs?: number;
  logger?: Logger;
}

export interface PoolJobOptions {
  /** Kept across retries on other endpoints, so a job is never generated twice. */
  promptId: string;
  /** How the pool's log lines name the job (what it makes, e.g. a post's image). Default: its prompt id. */
  label?: string;
  onProgress?: (progress: PromptProgress & { endpoint: string }) => void;
  signal?: AbortSignal;
  deadlineMs?: number;
  /** The size the graph asks for: each image must be a whole PNG of it (see `RunPromptOptions.expectImage`). */
  expectImage?: RunPromptOptions['expectImage'];
}

export interface PoolJobResult extends RunPromptResult {
  endpoint: string;
  /** The version of the ComfyUI that made the images, for the record (null when it did not say). */
  comfyuiVersion: string | null;
}

/** What one endpoint reports now (`ComfyUIPool.describe`). */
export interface EndpointReport {
  url: string;
  up: boolean;
  comfyuiVersion: string | null;
  pytorchVersion: string | null;
  devices: Array<{ name: string; vramTotal: number; vramFree: number }>;
  /** Prompts running or waiting on it. */
  queue: number;
  /** Why it does not answer. */
  error: string | null;
}

/**
 * Decides from an endpoint's `/object_info` whether it can run the pool's jobs; throws (e.g. with
 * `assertWorkflowRequirements`) to leave it out.
 */
export type EndpointCheck = (info: ObjectInfo, url: string) => void;

/** What `ComfyUIPool.admit` found: the endpoints that may run jobs, and why the others may not. */
export interface Admission {
  admitted: string[];
  refused: Array<{ url: string; error: Error }>;
}

export interface EndpointStatus {
  url: string;
  up: boolean;
  inFlight: number;
  completed: number;
  lastError: string | undefined;
}

interface Endpoint {
  url: string;
  client: ComfyUIClient;
  supervisor: ComfyUISupervisor | undefined;
  ownsSupervisor: boolean;
  ready: Promise<void> | null;
  /** Whether it passed the admission check (`admit`) since it last came up; pending while checked. */
  admitted: Promise<boolean> | null;
  /** Its `/object_info` from that check: the jobs sent to it name files as it spells them. */
  objectInfo: ObjectInfo | undefined;
  inFlight: number;
  completed: number;
  downUntil: number;
  lastError: string | undefined;
  /** The ComfyUI version it reported, once known. */
  version: string | undefined;
  /** It made an image since it last failed: a job waiting elsewhere may move to it (#moveWaitingJobs). */
  proven: boolean;
  /** Its queue is being looked at for #moveWaitingJobs, or will be again when this timer fires. */
  probing: boolean;
  reprobe: NodeJS.Timeout | null;
}

interface Job {
  workflow: ApiWorkflow;
  options: PoolJobOptions;
  /** When it was handed over, and how long it may take from then (the deadline messages state this). */
  queuedAt: number;
  deadlineMs: number;
  deadline: number;
  resolve: (result: PoolJobResult) => void;
  reject: (error: unknown) => void;
  /** While an endpoint has it: whether it waits in that server's queue behind other work, and how to take it back. */
  placed?: { endpoint: Endpoint; waiting: boolean; withdraw: AbortController } | undefined;
  /** Where it was taken back from and for (#moveWaitingJobs): it goes there, and stays there. */
  moved?: { from: Endpoint; to: Endpoint };
}

/** Errors that say the endpoint, not the job, is the problem: the job moves to another endpoint. */
const ENDPOINT_FAILURES = new Set(['UNREACHABLE', 'TIMEOUT', 'START_FAILED', 'CRASHED']);

/**
 * An endpoint failure, also when the job's deadline ran out while its endpoint was unreachable: the job
 * then goes back to the queue, which reports every endpoint's state instead of a bare timeout.
 */
function isEndpointFailure(error: unknown): boolean {
  if (!isComfyUIError(error)) return false;
  if (ENDPOINT_FAILURES.has(error.code)) return true;
  return error.code === 'DEADLINE_EXCEEDED' && isComfyUIError(error.cause) && ENDPOINT_FAILURES.has(error.cause.code);
}

/**
 * Spreads jobs over several ComfyUI endpoints: a local queue, at most `1 + queueAhead` jobs in flight per
 * endpoint, least-loaded first; an endpoint that fails rests and its jobs are retried on another with
 * the same prompt_id.
 */
export class ComfyUIPool {
  readonly #endpoints: Endpoint[];
  /** Jobs waiting for an endpoint, oldest first. */
  readonly #pending = new Set<Job>();
  /** Jobs whose endpoint failed: they go before the waiting ones. */
  readonly #retries: Job[] = [];
  /** Jobs an endpoint has now. */
  readonly #placed = new Set<Job>();
  #earliestDeadline = Number.POSITIVE_INFINITY;
  readonly #options: Required<Pick<ComfyUIPoolOptions, 'queueAhead' | 'failoverAfterMs' | 'retryDownAfterMs' | 'jobDeadlineMs'>>;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #check: EndpointCheck | undefined;

  constructor(options: ComfyUIPoolOptions) {
    if (!Array.isArray(options.endpoints) || options.endpoints.length === 0) {
      throw new ComfyUIError('INVALID_OPTIONS', 'The pool needs at least one ComfyUI endpoint, e.g. "http://127.0.0.1:8188".');
    }
    const queueAhead = options.queueAhead ?? 1;
    if (!Number.isInteger(queueAhead) || queueAhead < 0)
      throw new ComfyUIError('INVALID_OPTIONS', `queueAhead must be a whole number ≥ 0, got ${String(queueAhead)}.`);
    this.#logger = options.logger ?? silentLogger;
    this.#options = {
      queueAhead,
      failoverAfterMs: options.failoverAfterMs ?? (options.endpoints.length > 1 ? 10_000 : 60_000),
      retryDownAfterMs: options.retryDownAfterMs ?? 30_000,
      jobDeadlineMs: options.jobDeadlineMs ?? DEFAULT_JOB_DEADLINE_MS,
    };
    const seen = new Set<string>();
    this.#endpoints = options.endpoints.map((entry) => {
      const endpoint = typeof entry === 'string' ? { url: entry } : entry;
      const client = new ComfyUIClient({ url: endpoint.url, logger: this.#logger, pollIntervalMs: options.pollIntervalMs, timeoutMs: options.timeoutMs });
      if (seen.has(client.url)) throw new ComfyUIError('INVALID_OPTIONS', `The endpoint ${client.url} is listed twice.`);
      seen.add(client.url);
      return {
        url: client.url,
        client,
        supervisor:
          endpoint.supervisor ?? (endpoint.start ? new ComfyUISupervisor({ url: endpoint.url, start: endpoint.start, logger: this.#logger }) : undefined),
        ownsSupervisor: !endpoint.supervisor,
        ready: null,
        admitted: null,
        objectInfo: undefined,
        inFlight: 0,
        completed: 0,
        downUntil: 0,
        lastError: undefined,
        version: undefined,
        proven: false,
        probing: false,
        reprobe: null,
      };
    });
  }

  /** Queues a job and resolves with its images once some endpoint has run it. */
  run(workflow: ApiWorkflow, options: PoolJobOptions): Promise<PoolJobResult> {
    if (this.#closed) return Promise.reject(new ComfyUIError('ABORTED', 'The ComfyUI pool is closed.'));
    return new Promise((resolve, reject) => {
      const queuedAt = Date.now();
      const deadlineMs = options.deadlineMs ?? this.#options.jobDeadlineMs;
      const deadline = queuedAt + deadlineMs;
      const onAbort = () => this.#cancelPending(job);
      // The listener goes when the job settles: a long-lived signal (dev) must not collect one per job.
      const settle = () => options.signal?.removeEventListener('abort', onAbort);
      const job: Job = {
        workflow,
        options,
        queuedAt,
        deadlineMs,
        deadline,
        resolve: (result) => {
          settle();
          resolve(result);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      };
      options.signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.add(job);
      this.#earliestDeadline = Math.min(this.#earliestDeadline, deadline);
      this.#pump();
    });
  }

  status(): EndpointStatus[] {
    const now = Date.now();
    return this.#endpoints.map((e) => ({ url: e.url, up: e.downUntil <= now, inFlight: e.inFlight, completed: e.completed, lastError: e.lastError }));
  }

  /** Makes sure every endpoint answers (starting those with a start command); returns how many do. */
  async connect(): Promise<number> {
    const results = await Promise.allSettled(
      this.#endpoints.map(async (e) => {
        if (e.supervisor) return this.#ensureReady(e);
        e.version = (await e.client.getSystemStats({ timeoutMs: 10_000 })).system.comfyui_version;
      }),
    );
    for (const [i, r] of results.entries()) if (r.status === 'rejected') this.#markDown(this.#endpoints[i]!, r.reason);
    return results.filter((r) => r.status === 'fulfilled').length;
  }

  /** `/object_info` of one of the pool's endpoints; `timeoutMs` replaces the pool's for this call. */
  objectInfo(url: string, options: { timeoutMs?: number; signal?: AbortSignal } = {}): Promise<ObjectInfo> {
    const endpoint = this.#endpoints.find((e) => e.url === url);
    if (!endpoint) return Promise.reject(new ComfyUIError('INVALID_OPTIONS', `${url} is not an endpoint of this pool.`));
    return endpoint.client.getObjectInfo(options);
  }

  /**
   * From now on an endpoint runs jobs only once `check` accepts its `/object_info`: a machine that lacks
   * a model file or a node type gets no job (with a warning) instead of failing its share of them. The
   * endpoints that answer are checked now; the others when they first come up. A refused endpoint rests
   * like a failed one and is checked again after it, so a file copied in meanwhile is found.
   */
  async admit(check: EndpointCheck): Promise<Admission> {
    this.#check = check;
    for (const endpoint of this.#endpoints) endpoint.admitted = null;
    const now = Date.now();
    const admission: Admission = { admitted: [], refused: [] };
    await Promise.all(
      this.#endpoints
        .filter((e) => e.downUntil <= now)
        .map(async (endpoint) => {
          try {
            // The caller words these refusals (and fails when no endpoint is left): no warning here.
            if (await this.#isAdmitted(endpoint, false)) admission.admitted.push(endpoint.url);
            else admission.refused.push({ url: endpoint.url, error: new Error(endpoint.lastError) });
          } catch (error) {
            this.#markDown(endpoint, error); // it stopped answering: neither admitted nor refused
          }
        }),
    );
    return admission;
  }

  /** What every endpoint reports now: versions, devices and queue, or why it does not answer. */
  describe(): Promise<EndpointReport[]> {
    return Promise.all(
      this.#endpoints.map(async (endpoint): Promise<EndpointReport> => {
        try {
          const [stats, queue] = await Promise.all([endpoint.client.getSystemStats(), endpoint.client.getQueue()]);
          endpoint.version = stats.system.comfyui_version;
          return {
            url: endpoint.url,
            up: true,
            comfyuiVersion: stats.system.comfyui_version ?? null,
            pytorchVersion: stats.system.pytorch_version ?? null,
            devices: (stats.devices ?? []).map((d) => ({ name: d.name, vramTotal: d.vram_total, vramFree: d.vram_free })),
            queue: queue.queue_running.length + queue.queue_pending.length,
            error: null,
          };
        } catch (error) {
          return { url: endpoint.url, up: false, comfyuiVersion: null, pytorchVersion: null, devices: [], queue: 0, error: (error as Error).message };
        }
      }),
    );
  }

  async #versionOf(endpoint: Endpoint): Promise<string | undefined> {
    if (endpoint.supervisor?.status().comfyuiVersion) return endpoint.supervisor.status().comfyuiVersion;
    try {
      return (await endpoint.client.getSystemStats({ timeoutMs: 5000 })).system.comfyui_version;
    } catch {
      return undefined;
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    for (const endpoint of this.#endpoints) if (endpoint.reprobe) clearTimeout(endpoint.reprobe);
    const waiting = [...this.#retries.splice(0), ...this.#pending];
    this.#pending.clear();
    for (const job of waiting) job.reject(closedError(job));
    await Promise.all(
      this.#endpoints.map(async (e) => {
        await e.client.close();
        if (e.ownsSupervisor) await e.supervisor?.dispose();
      }),
    );
  }

  #pump(): void {
    if (this.#closed) return;
    // Scanning every waiting job is O(n): do it only when some deadline is due, not on every pump.
    if (Date.now() >= this.#earliestDeadline) this.#expireJobs();
    while (this.#retries.length + this.#pending.size > 0) {
      const endpoint = this.#pickEndpoint((this.#retries[0] ?? this.#pending.values().next().value)?.moved);
      if (!endpoint) break;
      const job = this.#retries.shift() ?? this.#takeFirstPending();
      void this.#runOn(endpoint, job);
    }
    if (this.#retries.length + this.#pending.size === 0) this.#moveWaitingJobs();
    this.#scheduleRecheck();
  }

  /**
   * With nothing left to hand out, an endpoint that has nothing to do takes a job that waits in another
   * server's queue, behind a slower GPU's current job or other people's work: the last images of a run are
   * made by the machines that are free instead of waiting there. Only a server whose queue is empty takes
   * one (one shared with other people may be busy without this pool's jobs). runPrompt deletes the job
   * from the queue it waits in (WITHDRAWN) and #runOn hands it on; a job that started meanwhile stays.
   */
  #moveWaitingJobs(): void {
    const now = Date.now();
    for (const endpoint of this.#endpoints) {
      if (!endpoint.proven || endpoint.inFlight > 0 || endpoint.downUntil > now || endpoint.probing || endpoint.reprobe) continue;
      if (!this.#waitingJobFor(endpoint)) continue;
      endpoint.probing = true;
      void this.#moveWaitingJobTo(endpoint).finally(() => {
        endpoint.probing = false;
      });
    }
  }

  async #moveWaitingJobTo(endpoint: Endpoint): Promise<void> {
    try {
      const queue = await endpoint.client.getQueue({ timeoutMs: 5000 });
      if (queue.queue_running.length + queue.queue_pending.length > 0) {
        // Busy with other people's work, which no event of this pool reports the end of: look again.
        endpoint.reprobe = setTimeout(() => {
          endpoint.reprobe = null;
          this.#moveWaitingJobs();
        }, endpoint.client.pollIntervalMs);
        endpoint.reprobe.unref();
        return;
      }
    } catch {
      return; // it will be marked down by the next job that tries it, if it is
    }
    // It may have been given a job, or gone, while its queue was looked at.
    if (this.#closed || endpoint.inFlight > 0 || endpoint.downUntil > Date.now()) return;
    const job = this.#waitingJobFor(endpoint);
    if (!job?.placed) return;
    // Once only: a job never moves to and fro between servers that other people's work keeps busy.
    job.moved = { from: job.placed.endpoint, to: endpoint };
    job.placed.withdraw.abort();
  }

  /** A job that waits in another server's queue and has not moved yet. */
  #waitingJobFor(endpoint: Endpoint): Job | undefined {
    for (const job of this.#placed) if (job.placed?.waiting && !job.moved && job.placed.endpoint !== endpoint) return job;
    return undefined;
  }

  #expireJobs(): void {
    const now = Date.now();
    this.#earliestDeadline = Number.POSITIVE_INFINITY;
    for (const job of [...this.#retries, ...this.#pending]) {
      if (job.deadline > now) {
        this.#earliestDeadline = Math.min(this.#earliestDeadline, job.deadline);
        continue;
      }
      this.#remove(job);
      job.reject(this.#notRunInTime(job));
    }
  }

  #notRunInTime(job: Job, lastTry = ''): ComfyUIError {
    return new ComfyUIError(
      'ALL_ENDPOINTS_DOWN',
      `No ComfyUI endpoint could run ${job.options.promptId} before its deadline (${formatDuration(job.deadlineMs)}).${lastTry} Endpoints: ${this.#describeEndpoints()}`,
    );
  }

  /** The oldest waiting job: a Set keeps insertion order, so this is O(1). */
  #takeFirstPending(): Job {
    const job = this.#pending.values().next().value!;
    this.#pending.delete(job);
    return job;
  }

  /**
   * The least-loaded endpoint that can take a job now; for a job taken back from one server's queue, the
   * one it was taken for, or else another than the one it left, when there is one.
   */
  #pickEndpoint(moved?: { from: Endpoint; to: Endpoint }): Endpoint | undefined {
    const now = Date.now();
    const limit = 1 + this.#options.queueAhead;
    const free = this.#endpoints.filter((e) => e.downUntil <= now && e.inFlight < limit).sort((a, b) => a.inFlight - b.inFlight);
    if (!moved) return free[0];
    return free.find((e) => e === moved.to) ?? free.find((e) => e !== moved.from) ?? free[0];
  }

  async #runOn(endpoint: Endpoint, job: Job): Promise<void> {
    endpoint.inFlight++;
    const placed = { endpoint, waiting: false, withdraw: new AbortController() };
    job.placed = placed;
    this.#placed.add(job);
    // Whether this endpoint took the job, or was found holding it: every such answer is reported as progress.
    let taken = false;
    try {
      await this.#ensureReady(endpoint);
      if (!(await this.#isAdmitted(endpoint))) {
        this.#retries.unshift(job); // not this job's fault: it goes first to the next endpoint
        return;
      }
      const workflow = endpoint.objectInfo ? respellForServer(job.workflow, endpoint.objectInfo) : job.workflow;
      const result = await endpoint.client.runPrompt(workflow, {
        promptId: job.options.promptId,
        signal: job.options.signal,
        deadlineMs: job.deadlineMs,
        queuedAt: job.queuedAt,
        unreachableGraceMs: this.#options.failoverAfterMs,
        withdraw: placed.withdraw.signal,
        onProgress: (progress) => {
          taken = true;
          // Position 0 runs; from 1 on it waits behind other work on that server.
          const waiting = progress.type === 'queued' && progress.position > 0;
          const newlyWaiting = waiting && !placed.waiting;
          placed.waiting = waiting;
          if (newlyWaiting) this.#moveWaitingJobs();
          job.options.onProgress?.({ ...progress, endpoint: endpoint.url });
        },
        ...(job.options.expectImage ? { expectImage: job.options.expectImage } : {}),
      });
      endpoint.completed++;
      endpoint.proven = true;
      endpoint.version ??= await this.#versionOf(endpoint);
      job.resolve({ ...result, endpoint: endpoint.url, comfyuiVersion: endpoint.version ?? null });
    } catch (error) {
      if (isComfyUIError(error, 'WITHDRAWN')) {
        if (this.#closed) job.reject(closedError(job));
        else {
          this.#logger.info(
            `${job.options.label ?? job.options.promptId} was still waiting in the queue of ${endpoint.url}; it moves to an endpoint that has nothing to do.`,
          );
          this.#retries.unshift(job);
        }
      } else if (isEndpointFailure(error) && !job.options.signal?.aborted && !this.#closed) {
        this.#markDown(endpoint, error);
        this.#logger.warn(
          `${endpoint.url} failed (${(error as Error).message.split('\n')[0]}); retrying ${job.options.label ?? job.options.promptId} on another endpoint.`,
        );
        this.#retries.push(job);
      } else if (isComfyUIError(error, 'DEADLINE_EXCEEDED') && !taken) {
        // The deadline ran out while this endpoint's answer was awaited (a slow connect under load, a hung
        // server): the job never ran, which is what a job still waiting in the queue is told.
        job.reject(this.#notRunInTime(job, ` The last try, on ${endpoint.url}, was still waiting for its answer.`));
      } else {
        job.reject(error);
      }
    } finally {
      endpoint.inFlight--;
      job.placed = undefined;
      this.#placed.delete(job);
      this.#pump();
    }
  }

  #ensureReady(endpoint: Endpoint): Promise<void> {
    if (!endpoint.supervisor) return Promise.resolve();
    endpoint.ready ??= endpoint.supervisor.ensureRunning().catch((error: unknown) => {
      endpoint.ready = null;
      throw error;
    });
    return endpoint.ready;
  }

  /** Runs the admission check once per time the endpoint comes up; a refusal marks it down, with a warning. */
  #isAdmitted(endpoint: Endpoint, warn = true): Promise<boolean> {
    const check = this.#check;
    if (!check) return Promise.resolve(true);
    endpoint.admitted ??= (async () => {
      const info = await endpoint.client.getObjectInfo();
      try {
        check(info, endpoint.url);
        endpoint.objectInfo = info;
        return true;
      } catch (error) {
        const message = (error as Error).message;
        // Once per reason: a refused endpoint is checked again after each rest.
        if (warn && message !== endpoint.lastError) this.#logger.warn(`${message}\nUntil then, ${endpoint.url} gets no jobs; the other endpoints run them.`);
        this.#markDown(endpoint, error);
        return false;
      }
    })().catch((error: unknown) => {
      endpoint.admitted = null;
      throw error;
    });
    return endpoint.admitted;
  }

  #markDown(endpoint: Endpoint, error: unknown): void {
    endpoint.downUntil = Date.now() + this.#options.retryDownAfterMs;
    endpoint.proven = false;
    // The whole message: a start failure's cause is in the log lines after its first line.
    endpoint.lastError = (error as Error).message;
    endpoint.ready = null;
    endpoint.admitted = null;
  }

  #scheduleRecheck(): void {
    if (this.#timer || this.#retries.length + this.#pending.size === 0 || this.#closed) return;
    const now = Date.now();
    const wakeAt = Math.min(...this.#endpoints.map((e) => (e.downUntil > now ? e.downUntil : Infinity)), this.#earliestDeadline);
    if (!Number.isFinite(wakeAt)) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        this.#pump();
      },
      Math.max(10, wakeAt - now),
    );
  }

  #cancelPending(job: Job): void {
    if (!this.#remove(job)) return; // already running: runPrompt handles the abort on the server
    job.reject(new ComfyUIError('ABORTED', `Job ${job.options.promptId} was aborted before it started.`));
  }

  #remove(job: Job): boolean {
    if (this.#pending.delete(job)) return true;
    const index = this.#retries.indexOf(job);
    if (index === -1) return false;
    this.#retries.splice(index, 1);
    return true;
  }

  #describeEndpoints(): string {
    return this.status()
      .map((s) => `${s.url} ${s.up ? 'up' : `down (${s.lastError ?? 'unknown error'})`}`)
      .join('; ');
  }
}

export function createComfyUIPool(options: ComfyUIPoolOptions): ComfyUIPool {
  return new ComfyUIPool(options);
}

/** Why a job the pool still had when it closed ends. */
function closedError(job: Job): ComfyUIError {
  return new ComfyUIError('ABORTED', `Job ${job.options.promptId} was cancelled: the pool closed.`);
}
