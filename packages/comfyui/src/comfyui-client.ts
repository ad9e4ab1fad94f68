import { randomUUID } from 'node:crypto';
import { Agent, request } from 'undici';
import { type AnswerReader, readHistory, readModelList, readObjectInfo, readQueuedPrompt, readQueueState, readSystemStats } from './comfyui-answers.js';
import { MAX_DOWNLOAD_BYTES } from './check-png.js';
import { ComfyUIError, isComfyUIError } from './comfyui-error.js';
import { ComfyUIEvents } from './comfyui-events.js';
import { describeValidationError } from './describe-validation-error.js';
import { isLocalComfyUIUrl, splitComfyUIUrl } from './parse-comfyui-url.js';
import { runPrompt, type RunPromptOptions, type RunPromptResult } from './run-prompt.js';
import type { ApiWorkflow, HistoryEntry, ImageRef, Logger, ObjectInfo, QueuePromptResult, QueueState, SystemStats } from './types.js';
import { silentLogger } from './types.js';

export interface ComfyUIClientOptions {
  /** Base URL of the ComfyUI server, e.g. `http://127.0.0.1:8188`. */
  url: string;
  /** Timeout of each HTTP call in ms. Default 30000. `/view` downloads get four times as long. */
  timeoutMs?: number;
  /** WebSocket client id; the server sends this client's execution messages only to it. Default: random. */
  clientId?: string;
  /** How often a running prompt's `/queue` and `/history/{id}` are checked, in ms. Default 1000. */
  pollIntervalMs?: number;
  logger?: Logger;
}

interface CallOptions {
  signal?: AbortSignal;
  timeoutMs?: number;
}

/** Largest JSON answer accepted (a big `/object_info` is a few MB). */
const MAX_JSON_BYTES = 64 * 1024 * 1024;
/** How many of ComfyUI's model folders a message names (ComfyUI 0.3.64 has about 25). */
const MODEL_FOLDERS_SHOWN = 40;

/** A typed HTTP + WebSocket client of one ComfyUI server. `close()` releases every socket and timer. */
export class ComfyUIClient {
  readonly url: string;
  readonly clientId: string;
  readonly pollIntervalMs: number;
  readonly logger: Logger;
  readonly events: ComfyUIEvents;
  readonly #timeoutMs: number;
  readonly #agent: Agent;
  /** Sent with every call: the sign-in of a proxy in front of ComfyUI, when the URL carries one. */
  readonly #headers: Record<string, string>;
  #closed = false;

  constructor(options: ComfyUIClientOptions) {
    const address = splitComfyUIUrl(options.url);
    this.url = address.url;
    this.#headers = address.authorization ? { authorization: address.authorization } : {};
    this.#timeoutMs = validatePositive(options.timeoutMs ?? 30_000, 'timeoutMs');
    this.pollIntervalMs = validatePositive(options.pollIntervalMs ?? 1000, 'pollIntervalMs');
    this.clientId = options.clientId ?? randomUUID();
    this.logger = options.logger ?? silentLogger;
    // keep-alive sockets are unref'd by undici, and close() destroys them.
    this.#agent = new Agent({ connect: { timeout: this.#timeoutMs }, keepAliveTimeout: 4000 });
    this.events = new ComfyUIEvents({ url: this.url, headers: this.#headers, clientId: this.clientId, dispatcher: this.#agent, logger: this.logger });
  }

  getSystemStats(options?: CallOptions): Promise<SystemStats> {
    return this.#json('/system_stats', readSystemStats, options);
  }

  getObjectInfo(options?: CallOptions): Promise<ObjectInfo> {
    return this.#json('/object_info', readObjectInfo, options);
  }

  /** The file names in one of ComfyUI's model folders (`checkpoints`, `text_encoders`, …). */
  async listModels(folder: string, options?: CallOptions): Promise<string[]> {
    try {
      return await this.#json(`/models/${encodeURIComponent(folder)}`, readModelList, options);
    } catch (error) {
      // ComfyUI answers a folder it does not know with a bare 404; its list of folders tells a misspelt
      // folder from a server that is not ComfyUI at all (which keeps the generic 404 message).
      if (!isComfyUIError(error) || error.details.status !== 404) throw error;
      const folders = await this.#json('/models', readModelList, options).catch(() => undefined);
      if (!folders) throw error;
      // Quoted as JSON: names from the server are shown with their control characters escaped, and only so many.
      const shown = folders.slice(0, MODEL_FOLDERS_SHOWN).map((name) => JSON.stringify(name.slice(0, 100)));
      throw new ComfyUIError(
        'HTTP_ERROR',
        `ComfyUI at ${this.url} has no model folder ${JSON.stringify(folder)}. Its folders: ${shown.join(', ')}${folders.length > shown.length ? ', …' : ''}.`,
        { url: this.url, details: { ...error.details, folders }, cause: error },
      );
    }
  }

  /** Queues a graph. A client-chosen `promptId` is taken as is; ComfyUI does not deduplicate ids. */
  async queuePrompt(prompt: ApiWorkflow, options: CallOptions & { promptId?: string; extraData?: Record<string, unknown> } = {}): Promise<QueuePromptResult> {
    const body = {
      prompt,
      client_id: this.clientId,
      ...(options.promptId ? { prompt_id: options.promptId } : {}),
      ...(options.extraData ? { extra_data: options.extraData } : {}),
    };
    const res = await this.#send('POST', '/prompt', body, options);
    const text = res.body.toString('utf8');
    if (res.statusCode === 400) {
      const parsed = safeParse(text) as { error?: { type?: string; message?: string }; node_errors?: Record<string, unknown> } | undefined;
      throw new ComfyUIError('VALIDATION_FAILED', describeValidationError(this.url, prompt, parsed), {
        url: this.url,
        details: { error: parsed?.error, nodeErrors: parsed?.node_errors ?? {} },
      });
    }
    if (res.statusCode !== 200) throw this.#httpError('POST', '/prompt', res);
    return this.#read('POST', '/prompt', text, readQueuedPrompt);
  }

  getQueue(options?: CallOptions): Promise<QueueState> {
    return this.#json('/queue', readQueueState, options);
  }

  /** One history entry, or `undefined` while it is queued, running or unknown (ComfyUI answers `{}`). */
  async getHistory(promptId: string, options?: CallOptions): Promise<HistoryEntry | undefined> {
    const all = await this.#json(`/history/${encodeURIComponent(promptId)}`, readHistory, options);
    return Object.hasOwn(all, promptId) ? all[promptId] : undefined;
  }

  async deleteHistory(promptIds: string[], options?: CallOptions): Promise<void> {
    await this.#ok('POST', '/history', { delete: promptIds }, options);
  }

  async deleteQueued(promptIds: string[], options?: CallOptions): Promise<void> {
    await this.#ok('POST', '/queue', { delete: promptIds }, options);
  }

  /** Interrupts the running prompt; with `promptId`, only if that prompt is the one running. */
  async interrupt(promptId?: string, options?: CallOptions): Promise<void> {
    await this.#ok('POST', '/interrupt', promptId ? { prompt_id: promptId } : {}, options);
  }

  async freeMemory(options?: CallOptions & { unloadModels?: boolean }): Promise<void> {
    await this.#ok('POST', '/free', { unload_models: options?.unloadModels ?? true, free_memory: true }, options);
  }

  /** Downloads an output file through `/view`; a body larger than `maxBytes` (default 64 MiB) is refused. */
  async view(image: ImageRef, options: CallOptions & { maxBytes?: number } = {}): Promise<Buffer> {
    const query = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type });
    const path = `/view?${query}`;
    const res = await this.#send('GET', path, undefined, { timeoutMs: this.#timeoutMs * 4, ...options }, options.maxBytes ?? MAX_DOWNLOAD_BYTES);
    if (res.statusCode !== 200) throw this.#httpError('GET', path, res);
    return res.body;
  }

  /** Submits (or finds) a prompt, follows it to the end and downloads its images. See `runPrompt`. */
  runPrompt(prompt: ApiWorkflow, options: RunPromptOptions = {}): Promise<RunPromptResult> {
    return runPrompt(this, prompt, options);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Closes the WebSocket and every HTTP connection: a script using the client can then exit by itself. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.events.close();
    // Bun's runtime answers `import 'undici'` with its own stand-in, whose Agent has no methods (its
    // requests go through fetch and the per-call signal, and hold no sockets of ours to destroy).
    if (typeof this.#agent.destroy === 'function') await this.#agent.destroy();
  }

  /** A GET whose JSON answer `read` checks. */
  async #json<T>(path: string, read: AnswerReader<T>, options?: CallOptions): Promise<T> {
    const res = await this.#send('GET', path, undefined, options);
    const text = res.body.toString('utf8');
    if (res.statusCode !== 200) throw this.#httpError('GET', path, res);
    return this.#read('GET', path, text, read);
  }

  /** An answer as `read` checks it: any other text or shape is an error naming the call, never a TypeError later. */
  #read<T>(method: string, path: string, text: string, read: AnswerReader<T>): T {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (cause) {
      throw new ComfyUIError(
        'HTTP_ERROR',
        `ComfyUI at ${this.url} answered ${method} ${path} with something that is not JSON. Check that the URL points at ComfyUI.`,
        { url: this.url, cause },
      );
    }
    try {
      return read(value);
    } catch (cause) {
      throw new ComfyUIError(
        'HTTP_ERROR',
        `ComfyUI at ${this.url} answered ${method} ${path} with JSON that ComfyUI does not send (${(cause as Error).message}). Check that the URL points at ComfyUI.`,
        { url: this.url, cause },
      );
    }
  }

  async #ok(method: string, path: string, body: unknown, options?: CallOptions): Promise<void> {
    const res = await this.#send(method, path, body, options);
    if (res.statusCode !== 200) throw this.#httpError(method, path, res);
  }

  /**
   * One HTTP call, body read whole (at most `limit` bytes). A reset or a stall after the headers is
   * the same UNREACHABLE / TIMEOUT error as one before them, so callers retry or fail over alike.
   */
  async #send(method: string, path: string, body: unknown, options: CallOptions = {}, limit = MAX_JSON_BYTES): Promise<Answer> {
    if (this.#closed) throw new ComfyUIError('ABORTED', `The ComfyUI client for ${this.url} is closed.`, { url: this.url });
    const timeoutMs = options.timeoutMs ?? this.#timeoutMs;
    const timeout = AbortSignal.timeout(timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const tooLarge = () =>
      new ComfyUIError('BAD_OUTPUT', `ComfyUI at ${this.url} answered ${method} ${path} with more than ${formatBytes(limit)}; refused.`, {
        url: this.url,
        details: { limit },
      });
    try {
      const res = await request(`${this.url}${path}`, {
        method: method as 'GET' | 'POST',
        dispatcher: this.#agent,
        signal,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
        ...(body === undefined
          ? { headers: this.#headers }
          : { body: JSON.stringify(body), headers: { ...this.#headers, 'content-type': 'application/json' } }),
      });
      if (Number(res.headers['content-length']) > limit) {
        res.body.destroy();
        throw tooLarge();
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > limit) {
          res.body.destroy();
          throw tooLarge();
        }
        chunks.push(chunk as Buffer);
      }
      const location = res.headers.location;
      return { statusCode: res.statusCode, body: Buffer.concat(chunks, size), ...(typeof location === 'string' ? { location } : {}) };
    } catch (cause) {
      if (isComfyUIError(cause)) throw cause;
      if (options.signal?.aborted) {
        throw new ComfyUIError('ABORTED', `${method} ${path} to ComfyUI at ${this.url} was aborted.`, { url: this.url, cause });
      }
      throw this.#transportError(method, path, cause, timeout, timeoutMs);
    }
  }

  #transportError(method: string, path: string, cause: unknown, timeout: AbortSignal, timeoutMs: number): ComfyUIError {
    const code = (cause as { code?: string }).code ?? '';
    if (timeout.aborted || (code.startsWith('UND_ERR_') && /TIMEOUT/.test(code))) {
      return new ComfyUIError(
        'TIMEOUT',
        `ComfyUI at ${this.url} did not answer ${method} ${path} within ${timeoutMs} ms. ${isLocalComfyUIUrl(this.url) ? 'It may be overloaded or hung; check its console.' : SILENT_MACHINE}`,
        { url: this.url, cause },
      );
    }
    const why = describeCause(cause);
    if (UNTRUSTED_CERTIFICATE.test(why)) {
      // It answered: starting it or checking the network would not help.
      return new ComfyUIError(
        'UNREACHABLE',
        `ComfyUI at ${this.url} presented a TLS certificate this machine does not trust (${why} during ${method} ${path}). If your own CA signed it, start with NODE_EXTRA_CA_CERTS=/path/to/ca.pem; if it has expired or names another host, renew it.`,
        { url: this.url, cause },
      );
    }
    // Refused by another machine that is on: nothing listens there on that port. ComfyUI answers only
    // its own machine unless started with --listen, the usual cause when the URL names another one.
    const direct = why === 'ECONNREFUSED' && !isLocalComfyUIUrl(this.url) && new URL(this.url).pathname === '/';
    const advice = direct
      ? 'Start ComfyUI on that machine with --listen 0.0.0.0 (without it, ComfyUI answers only its own machine), and check the port.'
      : 'Start ComfyUI, or check the URL and that the machine is on the network.';
    return new ComfyUIError('UNREACHABLE', `ComfyUI is not reachable at ${this.url} (${why} during ${method} ${path}). ${advice}`, { url: this.url, cause });
  }

  #httpError(method: string, path: string, res: Answer): ComfyUIError {
    const status = res.statusCode;
    const details = { status, path, body: res.body.toString('utf8', 0, 500) };
    // ComfyUI itself never answers these: a proxy in front of it (nginx, a tunnel) says that ComfyUI is down
    // or restarting behind it, which callers wait out or fail over from like a refused connection.
    if (status === 502 || status === 503 || status === 504) {
      return new ComfyUIError(
        'UNREACHABLE',
        `ComfyUI is not reachable at ${this.url}: the proxy in front of it answered ${method} ${path} with HTTP ${status}. Start ComfyUI behind it, or check the proxy.`,
        { url: this.url, details },
      );
    }
    const hint =
      status === 401
        ? this.#headers.authorization
          ? ' The server in front of ComfyUI refused the user and password in the URL.'
          : ' The server in front of ComfyUI asks for a sign-in: put its user and password in the URL (https://user:password@host/…).'
        : status === 403
          ? ' ComfyUI refuses requests whose Origin does not match its host; call it from Node, not from a browser page.'
          : status === 404
            ? ' This ComfyUI may be too old or the URL may not point at ComfyUI.'
            : status >= 300 && status < 400 && res.location
              ? ` It redirects to ${redirectTarget(res.location, this.url, path)}: use that as the ComfyUI URL (redirects are not followed, so a sign-in never goes elsewhere).`
              : '';
    return new ComfyUIError('HTTP_ERROR', `ComfyUI at ${this.url} answered ${method} ${path} with HTTP ${status}.${hint}`, { url: this.url, details });
  }
}

/** An answer of one HTTP call, its body read whole. */
interface Answer {
  statusCode: number;
  body: Buffer;
  location?: string;
}

/** Where a redirect of `path` leads, for a message: the ComfyUI URL it implies, without a user or password. */
function redirectTarget(location: string, url: string, path: string): string {
  try {
    const target = new URL(location, `${url}${path}`);
    target.username = '';
    target.password = '';
    const href = target.href.endsWith(path) ? target.href.slice(0, -path.length) : target.href;
    return href.slice(0, 300);
  } catch {
    return 'an address that is not a URL';
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${Math.round(bytes / 1024 / 1024)} MiB` : `${bytes} bytes`;
}

export function createComfyUIClient(options: ComfyUIClientOptions): ComfyUIClient {
  return new ComfyUIClient(options);
}

/** Node's codes for a certificate it refuses: self-signed, unknown issuer, expired, another host's. */
const UNTRUSTED_CERTIFICATE = /CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)/;

/**
 * Why another machine says nothing: most often the network (a firewall drops what a refusal would have
 * told), not ComfyUI itself, whose server answers while it generates.
 */
const SILENT_MACHINE =
  "The machine may be off or on another network, or a firewall drops the connection (on a Windows GPU machine, allow ComfyUI's port in Windows Defender Firewall); or ComfyUI there is overloaded or hung (check its console).";

function describeCause(cause: unknown): string {
  const error = cause as { code?: string; cause?: { code?: string }; message?: string };
  return error.code ?? error.cause?.code ?? error.message ?? String(cause);
}

function safeParse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function validatePositive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new ComfyUIError('INVALID_OPTIONS', `${name} must be a positive number of milliseconds, got ${String(value)}.`);
  }
  return value;
}
