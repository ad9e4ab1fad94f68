import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { readFile, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { WebSocketServer, type WebSocket } from 'ws';
import { encodePng } from './encode-png.js';
import { createFrontendRoutes } from './frontend-routes.js';
import { empty, json, readJson, reply } from './http-answers.js';
import { executePrompt, InterruptedError, type CacheEntry } from './execute-prompt.js';
import { defaultCheckpointsWithTextEncoders, defaultModelFiles, listTextEncoderFiles, type ModelFiles } from './model-files.js';
import { createNodeDefinitions, describeNode, type ComboFormat } from './node-definitions.js';
import { PromptQueue, type QueueItem } from './prompt-queue.js';
import { validatePrompt, type ApiPrompt } from './validate-prompt.js';

export interface FakeComfyUIOptions {
  /** Interface to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port; 0 picks a free one. Default 0. */
  port?: number;
  /** Installed model files by folder; folders not given keep the defaults. */
  models?: Partial<ModelFiles>;
  /** Checkpoints that carry their own text encoders (others give CLIP = None). */
  checkpointsWithTextEncoders?: string[];
  /** How `/object_info` describes combo inputs. Default `recorded` (each node as ComfyUI 0.3.64 did). */
  comboFormat?: ComboFormat;
  /** Delay per sampler step, per model load and per decoded/saved image. Default 0. */
  stepDelayMs?: number;
  loadDelayMs?: number;
  imageDelayMs?: number;
  /** Where SaveImage writes; a temp dir (removed on close) when not given. */
  outputDirectory?: string;
  /** Like `--enable-cors-header`: turns the loopback origin check off. */
  enableCorsHeader?: boolean;
  /** Like `--disable-metadata`: no `prompt`/`workflow` PNG text chunks. */
  disableMetadata?: boolean;
  /**
   * Re-send `executed` with the cached UI output for cached output nodes, as 0.3.64 does (recorded).
   * Default true; false gives older servers' silence, which clients must survive too.
   */
  cachedExecutedMessages?: boolean;
  /** Send `progress_state` around every node and step, as 0.3.64 does. Default true; false for older servers. */
  progressState?: boolean;
  /** Older servers leave cached output nodes out of `/history` outputs. Default false (newer behaviour). */
  legacyHistoryOutputs?: boolean;
  /**
   * Queue every prompt under an id of the server's own, whatever `prompt_id` the client sent, as servers
   * did before they took the client's (and as a proxy that rewrites it would). Default false.
   */
  ignoreClientPromptId?: boolean;
  comfyuiVersion?: string;
  /** Like `--cpu`: runs on the CPU, and `/system_stats` lists the CPU as the device. */
  cpu?: boolean;
  /** The built web UI (comfyui-frontend-package's `static` folder) to serve at `/`, as ComfyUI does. */
  frontendDirectory?: string;
  /** Receives one line per request and per prompt, like ComfyUI's console. */
  log?: (line: string) => void;
}

export interface FakeFaults {
  /**
   * Fail executions of nodes matching this id or class_type with `execution_error`; with `when`, only in
   * prompts for which it returns true (e.g. one post's prompt text).
   */
  failNode(match: string, message?: string, exceptionType?: string, when?: (prompt: ApiPrompt) => boolean): void;
  clearFailures(): void;
  /** Freeze execution (no messages, no progress) until `stallExecution(false)`. */
  stallExecution(stalled: boolean): void;
  /**
   * Hold HTTP answers until `stallHttp(false)` (the socket stays open); a route such as `/object_info`
   * holds only the answers to it, as a server slow to list its nodes does.
   */
  stallHttp(stalled: boolean | string): void;
  /** Close every WebSocket abruptly; the server keeps running and accepts new ones. */
  dropWebSockets(): void;
  /** Refuse WebSocket upgrades (HTTP keeps working). */
  refuseWebSockets(refused: boolean): void;
  /**
   * Answer the next `count` `/view` downloads (default: all until called with null) with a broken or
   * hostile body instead of the file; see `ViewFault`.
   */
  breakView(fault: ViewFault | null, count?: number): void;
}

/**
 * How `/view` misbehaves: `html` an error page with 200; `half` the first half of the PNG as a complete
 * answer; `huge-claim` the PNG with its header rewritten to 50000x50000; `wrong-size` a valid 64x64 PNG;
 * `oversized` a declared 3 GiB body; `endless` a chunked body that never ends (stops at 200 MiB);
 * `reset` headers and half the body, then the connection is reset; `trickle` headers, then a byte a second.
 */
export type ViewFault = 'html' | 'half' | 'huge-claim' | 'wrong-size' | 'oversized' | 'endless' | 'reset' | 'trickle';

export interface FakeStats {
  /** Every HTTP request and WebSocket upgrade received (to prove a build did not contact ComfyUI). */
  httpRequests: number;
  /** Prompts accepted by `POST /prompt`. */
  promptsQueued: number;
  /** Prompts whose execution started. */
  promptsStarted: number;
  /** Nodes actually executed (not served from cache). */
  nodesExecuted: number;
  /** KSampler runs: the expensive part a real GPU would do. */
  samplerRuns: number;
}

export interface FakeComfyUI {
  url: string;
  port: number;
  outputDirectory: string;
  stats: FakeStats;
  faults: FakeFaults;
  /** Emits `queued`, `started` and `done` with the prompt_id, and every WebSocket message type with its data. */
  events: EventEmitter;
  /**
   * Like copying model files into its folders while it runs: listed from the next `/object_info` on, with
   * no restart (ComfyUI's folder listing cache is checked against each folder's mtime).
   */
  addModelFiles(files: Partial<ModelFiles>): void;
  /** Stops like a killed process: sockets reset, port closed, running prompt lost. */
  crash(): Promise<void>;
  close(): Promise<void>;
}

/** Starts an in-process fake ComfyUI that follows the real server's routes, messages and queue. */
export async function startFakeComfyUI(options: FakeComfyUIOptions = {}): Promise<FakeComfyUI> {
  const models: ModelFiles = { ...defaultModelFiles, ...options.models } as ModelFiles;
  let definitions = createNodeDefinitions(models);
  const comboFormat = options.comboFormat ?? 'recorded';
  const ownsOutput = !options.outputDirectory;
  // Made when the first image is saved, as the temp and input folders are: a fake that is killed before
  // that (the supervisor tests kill theirs) leaves nothing in the system's temporary folder.
  const outputDirectory = path.resolve(options.outputDirectory ?? path.join(tmpdir(), `fake-comfyui-${randomUUID()}`));
  const tempDirectory = path.join(outputDirectory, '..', `${path.basename(outputDirectory)}-temp`);
  const inputDirectory = path.join(outputDirectory, '..', `${path.basename(outputDirectory)}-input`);
  const log = options.log ?? (() => {});
  const events = new EventEmitter();
  const stats: FakeStats = { httpRequests: 0, promptsQueued: 0, promptsStarted: 0, nodesExecuted: 0, samplerRuns: 0 };
  const sockets = new Map<string, WebSocket>();
  const connections = new Set<Socket>();
  const cache = new Map<string, CacheEntry>();
  const failures: Array<{ match: string; message: string; exceptionType: string; when?: (prompt: ApiPrompt) => boolean }> = [];
  const heldRequests: Array<() => void> = [];
  let closed = false;
  let interruptRequested = false;
  let currentClientId: string | null = null;
  let lastNodeId: string | null = null;
  let promptNumber = 0;
  let stallRelease: (() => void) | null = null;
  let stallGate: Promise<void> | null = null;
  let httpStalled: boolean | string = false;
  let samplerStartedAt = 0;
  let websocketsRefused = false;
  let viewFault: { fault: ViewFault; count: number } | null = null;

  const send = (type: string, data: Record<string, unknown>, clientId: string | null) => {
    const frame = JSON.stringify({ type, data });
    const targets = clientId === null ? [...sockets.values()] : [sockets.get(clientId)].filter((s) => s !== undefined);
    for (const ws of targets) if (ws.readyState === ws.OPEN) ws.send(frame);
  };
  const queueInfo = () => ({ exec_info: { queue_remaining: queue.remaining } });
  const queue = new PromptQueue(() => send('status', { status: queueInfo() }, null));
  const frontend = createFrontendRoutes(options.frontendDirectory && path.resolve(options.frontendDirectory));

  const server = createServer((req, res) => {
    stats.httpRequests++;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = url.pathname.replace(/^\/api(?=\/)/, '');
    if (httpStalled === true || httpStalled === route) {
      heldRequests.push(() => void handle(req, res, url, route));
      return;
    }
    void handle(req, res, url, route);
  });
  server.on('connection', (socket) => {
    connections.add(socket);
    socket.on('close', () => connections.delete(socket));
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    stats.httpRequests++;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = url.pathname.replace(/^\/api(?=\/)/, '');
    if (route !== '/ws' || websocketsRefused || !checkOrigin(req)) {
      socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      // ComfyUI reuses the session of a returning clientId and replaces its old socket.
      const sid = url.searchParams.get('clientId') || randomUUID().replaceAll('-', '');
      sockets.set(sid, ws);
      ws.on('close', () => {
        if (sockets.get(sid) === ws) sockets.delete(sid);
      });
      ws.on('error', () => {});
      ws.send(JSON.stringify({ type: 'status', data: { status: queueInfo(), sid } }));
      if (currentClientId === sid && lastNodeId !== null) {
        ws.send(JSON.stringify({ type: 'executing', data: { node: lastNodeId } }));
      }
    });
  });

  function checkOrigin(req: IncomingMessage): boolean {
    if (options.enableCorsHeader) return true;
    const host = req.headers.host?.toLowerCase();
    const origin = req.headers.origin;
    if (!host || !origin) return true;
    let originUrl: URL;
    let hostUrl: URL;
    try {
      originUrl = new URL(origin.toLowerCase());
      hostUrl = new URL(`http://${host}`);
    } catch {
      return true;
    }
    const hostname = hostUrl.hostname.replace(/^\[|\]$/g, '');
    const loopback = hostname === 'localhost' || hostname.startsWith('127.') || hostname === '::1';
    // Like server.py: when either side lacks a port, compare host names only.
    const originHasPort = originUrl.port !== '';
    const hostHasPort = hostUrl.port !== '';
    const hostSide = originHasPort ? hostUrl.host : hostUrl.hostname;
    const originSide = hostHasPort ? originUrl.host : originUrl.hostname;
    return !(loopback && hostSide !== originSide);
  }

  /** One request; `route` is the URL's path without the optional `/api` prefix, as ComfyUI serves both. */
  async function handle(req: IncomingMessage, res: ServerResponse, url: URL, route: string): Promise<void> {
    log(`${req.method} ${url.pathname}${url.search}`);
    if (!checkOrigin(req)) return empty(res, 403);
    if (req.method === 'OPTIONS') return reply(res, 200, '');
    try {
      await routeRequest(req.method ?? 'GET', route, url, req, res);
    } catch (error) {
      if (error instanceof SyntaxError) return reply(res, 500, '500 Internal Server Error\n\nServer got itself in trouble', 'text/plain');
      throw error;
    }
  }

  async function routeRequest(method: string, route: string, url: URL, req: IncomingMessage, res: ServerResponse) {
    const key = `${method} ${route}`;
    if (await frontend(method, route, url, req, res)) return;
    if (key === 'GET /') return reply(res, 200, '<!doctype html><title>ComfyUI</title><div id="comfy">ComfyUI (fake)</div>', 'text/html');
    if (key === 'GET /system_stats') return json(res, 200, systemStats());
    if (key === 'GET /object_info') {
      return json(res, 200, Object.fromEntries(Object.values(definitions).map((d) => [d.name, describeNode(d, comboFormat)])));
    }
    if (method === 'GET' && route.startsWith('/object_info/')) {
      const definition = definitions[decodeURIComponent(route.slice('/object_info/'.length))];
      return json(res, 200, definition ? { [definition.name]: describeNode(definition, comboFormat) } : {});
    }
    // `clip` is no folder key of its own in 0.3.64 (text_encoders covers models/clip): 404, as recorded.
    if (key === 'GET /models')
      return json(
        res,
        200,
        Object.keys(models).filter((folder) => folder !== 'clip'),
      );
    if (method === 'GET' && route.startsWith('/models/')) {
      const folder = decodeURIComponent(route.slice('/models/'.length));
      const files = folder === 'clip' ? undefined : models[folder];
      return files ? json(res, 200, files) : empty(res, 404);
    }
    if (key === 'GET /embeddings' || key === 'GET /extensions') return json(res, 200, []);
    if (key === 'GET /prompt') return json(res, 200, queueInfo());
    if (key === 'POST /prompt') return postPrompt(await readJson(req), res);
    if (key === 'GET /queue') {
      return json(res, 200, { queue_running: queue.running ? [queue.running] : [], queue_pending: queue.pending });
    }
    if (key === 'POST /queue') {
      const body = await readJson(req);
      if (body.clear) queue.clearPending();
      if (Array.isArray(body.delete)) for (const id of body.delete) queue.deletePending(String(id));
      return reply(res, 200, '');
    }
    if (key === 'POST /interrupt') {
      const body = await readJson(req).catch(() => ({}) as Record<string, unknown>);
      // A targeted interrupt only stops the prompt if it is the one running.
      if (!body.prompt_id || queue.running?.[1] === body.prompt_id) interruptRequested = queue.running !== null;
      return reply(res, 200, '');
    }
    if (key === 'POST /free') {
      await readJson(req);
      return reply(res, 200, '');
    }
    if (key === 'GET /history') {
      const maxItems = url.searchParams.get('max_items');
      const offset = url.searchParams.get('offset');
      return json(res, 200, queue.listHistory(maxItems === null ? undefined : Number(maxItems), offset === null ? -1 : Number(offset)));
    }
    if (method === 'GET' && route.startsWith('/history/')) {
      const id = decodeURIComponent(route.slice('/history/'.length));
      const entry = queue.history.get(id);
      return json(res, 200, entry ? { [id]: entry } : {});
    }
    if (key === 'POST /history') {
      const body = await readJson(req);
      if (body.clear) queue.history.clear();
      if (Array.isArray(body.delete)) for (const id of body.delete) queue.history.delete(String(id));
      return reply(res, 200, '');
    }
    if (key === 'GET /view') return view(url, res);
    return reply(res, 404, '404: Not Found', 'text/plain');
  }

  function postPrompt(body: Record<string, unknown>, res: ServerResponse) {
    let number: number;
    if ('number' in body) {
      number = Number(body.number);
    } else {
      number = body.front ? -promptNumber : promptNumber;
      promptNumber++;
    }
    if (!('prompt' in body)) {
      const error = { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} };
      return json(res, 400, { error, node_errors: {} });
    }
    const promptId = 'prompt_id' in body && !options.ignoreClientPromptId ? String(body.prompt_id) : randomUUID();
    const prompt = body.prompt as Record<string, unknown>;
    const targets = Array.isArray(body.partial_execution_targets) ? body.partial_execution_targets.map(String) : undefined;
    const result = validatePrompt(prompt, definitions, targets);
    const extraData = { ...((body.extra_data as Record<string, unknown>) ?? {}) };
    if ('client_id' in body) extraData.client_id = body.client_id;
    if (!result.ok) {
      log(`invalid prompt: ${JSON.stringify(result.error)}`);
      return json(res, 400, { error: result.error, node_errors: result.nodeErrors });
    }
    stats.promptsQueued++;
    queue.put([number, promptId, prompt as ApiPrompt, extraData, result.outputs]);
    events.emit('queued', promptId);
    return json(res, 200, { prompt_id: promptId, number, node_errors: result.nodeErrors });
  }

  async function view(url: URL, res: ServerResponse) {
    const filename = url.searchParams.get('filename');
    if (filename === null) return empty(res, 404);
    if (!filename || filename.startsWith('/') || filename.includes('..')) return empty(res, 400);
    const type = url.searchParams.get('type') ?? 'output';
    const base = { output: outputDirectory, temp: tempDirectory, input: inputDirectory }[type];
    if (!base) return empty(res, 400);
    let folder = base;
    const subfolder = url.searchParams.get('subfolder');
    if (subfolder !== null) {
      folder = path.resolve(base, subfolder);
      if (folder !== base && !folder.startsWith(base + path.sep)) return empty(res, 403);
    }
    const file = path.join(folder, path.basename(filename));
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) return empty(res, 404);
    const bytes = await readFile(file);
    if (viewFault && viewFault.count > 0) {
      const { fault } = viewFault;
      if (--viewFault.count === 0) viewFault = null;
      return serveBrokenView(fault, bytes, res);
    }
    res.writeHead(200, {
      'Content-Type': file.endsWith('.png') ? 'image/png' : 'application/octet-stream',
      'Content-Disposition': `filename="${path.basename(filename)}"`,
      'Content-Length': bytes.length,
    });
    res.end(bytes);
  }

  function serveBrokenView(fault: ViewFault, png: Buffer, res: ServerResponse) {
    const send = (body: Buffer, type = 'image/png') => {
      res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length });
      res.end(body);
    };
    if (fault === 'html') return send(Buffer.from('<!doctype html><title>Login</title><p>Sign in to continue</p>'), 'text/html');
    if (fault === 'half') return send(png.subarray(0, Math.floor(png.length / 2)));
    if (fault === 'wrong-size') return send(encodePng(64, 64, new Uint8Array(64 * 64 * 3)));
    if (fault === 'huge-claim') {
      const copy = Buffer.from(png);
      copy.writeUInt32BE(50_000, 16);
      copy.writeUInt32BE(50_000, 20);
      copy.writeUInt32BE(crc32(copy.subarray(12, 29)), 29);
      return send(copy);
    }
    if (fault === 'oversized') {
      res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': 3 * 1024 ** 3 });
      res.write(png);
      return;
    }
    res.writeHead(200, { 'Content-Type': 'image/png', ...(fault === 'endless' ? {} : { 'Content-Length': png.length }) });
    if (fault === 'reset') {
      res.write(png.subarray(0, Math.floor(png.length / 2)), () => res.socket?.destroy());
      return;
    }
    // endless: 1 MiB chunks until the client stops reading; trickle: one byte a second.
    const chunk = fault === 'endless' ? Buffer.alloc(1024 * 1024) : png.subarray(0, 1);
    let sent = 0;
    const timer = setInterval(
      () => {
        if (res.destroyed || closed || sent >= (fault === 'endless' ? 200 : png.length)) {
          clearInterval(timer);
          if (!res.destroyed) res.end();
          return;
        }
        res.write(fault === 'endless' ? chunk : png.subarray(sent, sent + 1));
        sent++;
      },
      fault === 'endless' ? 1 : 1000,
    );
    res.on('close', () => clearInterval(timer));
  }

  function systemStats() {
    return {
      system: {
        os: 'posix',
        ram_total: 25769803776,
        ram_free: 20000000000,
        comfyui_version: options.comfyuiVersion ?? '0.3.64',
        required_frontend_version: '1.27.10',
        python_version: '3.12.3 (main, Nov  6 2025, 13:44:16) [GCC 13.3.0]',
        pytorch_version: '2.9.0+cu128',
        embedded_python: false,
        argv: ['main.py', '--port', String(port)],
      },
      // With --cpu, server.py reports the CPU device, with RAM as its memory.
      devices: [
        options.cpu
          ? {
              name: 'cpu',
              type: 'cpu',
              index: null,
              vram_total: 25769803776,
              vram_free: 20000000000,
              torch_vram_total: 25769803776,
              torch_vram_free: 20000000000,
            }
          : {
              name: 'cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync',
              type: 'cuda',
              index: 0,
              vram_total: 25393692672,
              vram_free: 24000000000,
              torch_vram_total: 0,
              torch_vram_free: 0,
            },
      ],
    };
  }

  // A stopped server ends its waits at once: close() must not wait out a long simulated image.
  const sleepers = new Set<() => void>();
  const sleep = async (ms: number) => {
    if (ms <= 0 || closed) return;
    await new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        sleepers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      sleepers.add(wake);
    });
  };
  const checkpoint = async () => {
    while (stallGate) await stallGate;
    if (closed) throw new InterruptedError('server stopped');
    if (interruptRequested) throw new InterruptedError('Processing interrupted');
  };

  async function work(): Promise<void> {
    for (;;) {
      const item = await queue.take(() => closed);
      if (!item) return;
      await runItem(item);
    }
  }

  async function runItem(item: QueueItem): Promise<void> {
    const [, promptId, prompt, extraData, outputs] = item;
    const clientId = typeof extraData.client_id === 'string' ? extraData.client_id : null;
    currentClientId = clientId;
    interruptRequested = false;
    stats.promptsStarted++;
    events.emit('started', promptId);
    log(`got prompt ${promptId}`);
    const started = Date.now();
    const outcome = await executePrompt(promptId, prompt, outputs, cache, {
      send: (type, data) => {
        if (closed) return;
        if (type === 'executing') {
          lastNodeId = data.node as string;
          stats.nodesExecuted++;
          if (prompt[data.node as string]?.class_type === 'KSampler') stats.samplerRuns++;
        }
        // execution_interrupted is broadcast when no client submitted the prompt; the rest are not sent.
        if (clientId !== null || type === 'execution_interrupted') send(type, data, clientId);
        events.emit(type, { ...data, prompt_id: promptId });
      },
      checkpoint,
      failureFor: (nodeId, classType) => failures.find((f) => (f.match === nodeId || f.match === classType) && (!f.when || f.when(prompt))),
      cachedExecutedMessages: options.cachedExecutedMessages ?? true,
      progressState: options.progressState ?? true,
      context: {
        extraPngInfo: extraData.extra_pnginfo as Record<string, unknown> | undefined,
        outputDirectory,
        tempDirectory,
        checkpointsWithTextEncoders: options.checkpointsWithTextEncoders ?? defaultCheckpointsWithTextEncoders,
        textEncoderFiles: listTextEncoderFiles(models),
        disableMetadata: options.disableMetadata ?? false,
        // Steps end on a fixed schedule from the first one, so N steps take N × delay like a GPU would,
        // instead of drifting by a timer's lateness on every step.
        step: (value) => {
          const delay = options.stepDelayMs ?? 0;
          if (value === 1) samplerStartedAt = performance.now();
          return sleep(samplerStartedAt + value * delay - performance.now());
        },
        pause: async (kind) => {
          await checkpoint();
          await sleep(kind === 'load' ? (options.loadDelayMs ?? 0) : (options.imageDelayMs ?? 0));
        },
      },
    });
    if (closed) return;
    lastNodeId = null;
    queue.finish({
      outputs: options.legacyHistoryOutputs ? outcome.executedUiOutputs : outcome.uiOutputs,
      status: { status_str: outcome.success ? 'success' : 'error', completed: outcome.success, messages: outcome.messages },
      meta: outcome.meta,
    });
    log(`Prompt executed in ${((Date.now() - started) / 1000).toFixed(2)} seconds`);
    if (clientId !== null) send('executing', { node: null, prompt_id: promptId }, clientId);
    events.emit('done', promptId);
  }

  const faults: FakeFaults = {
    failNode(match, message = 'fake failure injected by the test', exceptionType = 'RuntimeError', when) {
      failures.push({ match, message, exceptionType, when });
    },
    clearFailures() {
      failures.length = 0;
    },
    stallExecution(stalled) {
      if (stalled && !stallGate) {
        stallGate = new Promise((resolve) => (stallRelease = resolve));
      } else if (!stalled && stallGate) {
        stallGate = null;
        stallRelease?.();
      }
    },
    stallHttp(stalled) {
      httpStalled = stalled;
      if (!stalled) for (const run of heldRequests.splice(0)) run();
    },
    dropWebSockets() {
      for (const ws of sockets.values()) ws.terminate();
      sockets.clear();
    },
    refuseWebSockets(refused) {
      websocketsRefused = refused;
    },
    breakView(fault, count = Number.POSITIVE_INFINITY) {
      viewFault = fault ? { fault, count } : null;
    },
  };

  let stopped: Promise<void> | null = null;
  const stop = (graceful: boolean) => {
    stopped ??= (async () => {
      closed = true;
      queue.wake();
      for (const wake of sleepers) wake();
      faults.stallExecution(false);
      for (const ws of wss.clients) graceful ? ws.close(1001) : ws.terminate();
      for (const socket of connections) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      wss.close();
      await worker;
      if (ownsOutput) {
        await Promise.all([outputDirectory, tempDirectory, inputDirectory].map((d) => rm(d, { recursive: true, force: true })));
      }
    })();
    return stopped;
  };

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';
  const worker = work();

  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    outputDirectory,
    stats,
    faults,
    events,
    addModelFiles: (files) => {
      for (const [folder, names] of Object.entries(files)) models[folder] = [...new Set([...(models[folder] ?? []), ...(names ?? [])])];
      definitions = createNodeDefinitions(models);
    },
    crash: () => stop(false),
    close: () => stop(true),
  };
}
