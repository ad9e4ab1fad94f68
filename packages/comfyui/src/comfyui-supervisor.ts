import { createInterface } from 'node:readline';
import type { ResultPromise } from 'execa';
import { checkStartCommand } from './check-start-command.js';
import { ComfyUIClient } from './comfyui-client.js';
import { ComfyUIError, isComfyUIError } from './comfyui-error.js';
import { formatDuration } from './format-duration.js';
import { isLocalComfyUIUrl, splitComfyUIUrl } from './parse-comfyui-url.js';
import { watchdogScript } from './comfyui-watchdog.js';
import { stopOnParentExit } from './stop-on-parent-exit.js';
import type { Logger } from './types.js';
import { silentLogger } from './types.js';

export interface StartCommand {
  /** The ComfyUI folder (the one with main.py). */
  cwd: string;
  /** Python executable, e.g. a venv's `bin/python` (a relative path is taken from `cwd`). @default "python" */
  python?: string;
  /** Arguments before ComfyUI's own flags. @default ["main.py"] */
  args?: string[];
  /** Extra ComfyUI flags such as `--lowvram` or `--cpu`; `--listen`, `--port` and `--disable-auto-launch` are added. */
  extraArgs?: string[];
  /** Environment variables for ComfyUI. */
  env?: Record<string, string>;
  /** How long the start may take, in ms (custom nodes can take minutes). @default 600000 */
  startTimeoutMs?: number;
  /** Start ComfyUI again after it crashes, if it had started once. @default true */
  restartOnCrash?: boolean;
  /** Restarts allowed in the supervisor's lifetime (the build or dev server). @default 3 */
  maxRestarts?: number;
}

export interface EnsureComfyUIOptions {
  /** Where ComfyUI answers (or will answer once started). */
  url: string;
  /** How to start ComfyUI when nothing answers at `url`. Without it an unreachable URL is an error. */
  start?: StartCommand;
  logger?: Logger;
  /** Receives every line ComfyUI prints. Default: the logger's `debug`. */
  onLog?: (line: string) => void;
}

export type ComfyUIState = 'stopped' | 'starting' | 'running' | 'crashed';

export interface ComfyUIStatus {
  state: ComfyUIState;
  url: string;
  /** True when this supervisor started the process (and will stop it). */
  managed: boolean;
  pid: number | undefined;
  comfyuiVersion: string | undefined;
  pytorchVersion: string | undefined;
  devices: Array<{ name: string; vramTotal: number; vramFree: number }>;
  /** The last lines ComfyUI printed (managed processes only). */
  recentLog: string[];
  error: string | undefined;
}

const LOG_LINES_KEPT = 40;
/** Custom nodes can take minutes to load: the default time a start may take. */
export const DEFAULT_START_TIMEOUT_MS = 10 * 60_000;
/** Restarts after crashes allowed in a supervisor's lifetime, by default. */
export const DEFAULT_MAX_RESTARTS = 3;

/**
 * Owns the relationship with one ComfyUI: uses it if it already answers, otherwise starts it with execa,
 * waits until the process is alive and `/system_stats` answers, restarts it after a crash, and stops the
 * whole process tree on dispose and when this process exits. It never kills a ComfyUI it did not start.
 */
export class ComfyUISupervisor {
  readonly url: string;
  readonly #options: EnsureComfyUIOptions;
  readonly #logger: Logger;
  readonly #client: ComfyUIClient;
  #state: ComfyUIState = 'stopped';
  #managed = false;
  #child: ResultPromise | null = null;
  #log: string[] = [];
  #everStarted = false;
  #restarts = 0;
  #disposed = false;
  #starting: Promise<void> | null = null;
  #stats: Pick<ComfyUIStatus, 'comfyuiVersion' | 'pytorchVersion' | 'devices'> = { comfyuiVersion: undefined, pytorchVersion: undefined, devices: [] };
  #error: string | undefined;
  #releaseExitHook: (() => void) | null = null;
  /** ComfyUI's own pid, as the watchdog reports it. */
  #comfyPid: number | undefined;

  constructor(options: EnsureComfyUIOptions) {
    const url = new URL(splitComfyUIUrl(options.url).url);
    if (options.start) {
      if (!isLocalComfyUIUrl(options.url)) {
        throw new ComfyUIError(
          'INVALID_OPTIONS',
          `Cannot start ComfyUI for ${url.href}: a start command only works for a local address such as http://127.0.0.1:8188. Remove "start" to use the remote server as it is.`,
        );
      }
      if (!options.start.cwd) throw new ComfyUIError('INVALID_OPTIONS', 'start.cwd must be the ComfyUI directory (the one with main.py).');
    }
    this.url = url.href.replace(/\/$/, '');
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
    this.#client = new ComfyUIClient({ url: options.url, timeoutMs: 3000 });
  }

  /** Resolves once ComfyUI answers: already running, or started by this supervisor. */
  async ensureRunning(): Promise<void> {
    if (this.#disposed) throw new ComfyUIError('ABORTED', `The supervisor of ${this.url} was disposed.`, { url: this.url });
    if (this.#state === 'running' && (await this.#answers())) return;
    if (this.#starting) return this.#starting;
    if (!this.#child && (await this.#answers())) {
      this.#setState('running');
      return;
    }
    if (this.#options.start && !this.#child) await this.#assertPortFree();
    if (!this.#options.start) {
      throw new ComfyUIError(
        'UNREACHABLE',
        `ComfyUI is not reachable at ${this.url}. Start it (python main.py --listen 127.0.0.1 --port ${new URL(this.url).port || 80}), fix the URL, or configure a start command so it is started for you.`,
        { url: this.url },
      );
    }
    this.#starting = this.#start().finally(() => (this.#starting = null));
    return this.#starting;
  }

  status(): ComfyUIStatus {
    return {
      state: this.#state,
      url: this.url,
      managed: this.#managed,
      pid: this.#child ? (this.#comfyPid ?? this.#child.pid) : undefined,
      ...this.#stats,
      recentLog: [...this.#log],
      error: this.#error,
    };
  }

  /** Stops a ComfyUI this supervisor started; `ensureRunning()` can start it again. */
  async stop(): Promise<void> {
    if (!this.#child) return;
    await this.#stopChild();
    this.#setState('stopped');
  }

  /** Stops the process tree if this supervisor started it; leaves a ComfyUI it found running alone. */
  async dispose(): Promise<void> {
    if (this.#disposed) return;
    this.#disposed = true;
    await this.#stopChild();
    this.#releaseExitHook?.();
    this.#releaseExitHook = null;
    await this.#client.close();
  }

  async #answers(): Promise<boolean> {
    try {
      const stats = await this.#client.getSystemStats();
      this.#stats = {
        comfyuiVersion: stats.system.comfyui_version,
        pytorchVersion: stats.system.pytorch_version,
        devices: (stats.devices ?? []).map((d) => ({ name: d.name, vramTotal: d.vram_total, vramFree: d.vram_free })),
      };
      return true;
    } catch {
      return false;
    }
  }

  /** Something that is not ComfyUI on the port would make ComfyUI fail to bind: say so before starting. */
  async #assertPortFree(): Promise<void> {
    try {
      await this.#client.getSystemStats();
    } catch (error) {
      if (isComfyUIError(error, 'UNREACHABLE')) return;
      const { port } = new URL(this.url);
      throw new ComfyUIError(
        'START_FAILED',
        `Cannot start ComfyUI at ${this.url}: port ${port} is taken by a program that does not answer as ComfyUI does (${(error as Error).message}). Stop that program, or put ComfyUI on a free port in the endpoint URL.`,
        { url: this.url, cause: error },
      );
    }
  }

  async #start(): Promise<void> {
    const start = this.#options.start!;
    const url = new URL(this.url);
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const args = [...(start.args ?? ['main.py']), '--listen', host, '--port', port, '--disable-auto-launch', ...(start.extraArgs ?? [])];
    const python = start.python ?? 'python';
    await checkStartCommand(start, this.url);
    // Loaded here, not at the top: most runs never start ComfyUI (a remote GPU machine, a ComfyUI that
    // already answers, a CI build), and execa's ~300 modules cost every CLI run and build ~0.1 s.
    const { execa } = await import('execa');
    this.#log = [];
    this.#error = undefined;
    this.#setState('starting');
    this.#logger.info(`Starting ComfyUI: ${python} ${args.join(' ')} (in ${start.cwd})`);
    // Through the watchdog, in its own process group: stopping the group stops ComfyUI and its workers,
    // and the watchdog stops them when this process dies without running any handler (SIGKILL, OOM).
    // Windows has no process groups: there execa's killDescendants ends the tree with taskkill /T.
    const child = execa(process.execPath, ['-e', watchdogScript(python, args)], {
      cwd: start.cwd,
      env: start.env,
      detached: true,
      killDescendants: true,
      forceKillAfterDelay: 5000,
      cleanup: false,
      buffer: false,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
      reject: false,
    });
    this.#child = child;
    this.#comfyPid = undefined;
    child.stdio[3]?.on('data', (chunk: Buffer) => {
      this.#comfyPid ??= Number.parseInt(chunk.toString(), 10) || undefined;
    });
    this.#managed = true;
    this.#releaseExitHook ??= stopOnParentExit(() => this.#child?.kill('SIGTERM'));
    for (const stream of [child.stdout, child.stderr]) {
      if (!stream) continue;
      createInterface({ input: stream }).on('line', (line) => this.#record(line));
    }
    let exited: { code: number | undefined; signal: string | undefined } | null = null;
    const exit = child.then((result) => {
      exited = { code: result.exitCode, signal: result.signal };
      // The watchdog itself could not run (no exit code, no signal): say why, as it printed nothing.
      if (result.exitCode === undefined && !result.signal && result.shortMessage) this.#record(result.shortMessage);
      return exited;
    });
    void exit.then(() => this.#onExit(child));

    const deadline = Date.now() + (start.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS);
    let lastNotice = Date.now();
    for (;;) {
      if (exited) {
        const { code, signal } = exited as { code: number | undefined; signal: string | undefined };
        const tail = this.#log.slice(-15).join('\n');
        this.#error = `exited with ${signal ?? `code ${code}`} during start`;
        this.#setState('crashed');
        throw new ComfyUIError(
          'START_FAILED',
          `ComfyUI exited with ${signal ?? `code ${code}`} while starting (${python} ${args.join(' ')} in ${start.cwd}). Last lines of its log:\n${tail || '(nothing printed)'}${describeStartFailure(this.#log, python)}`,
          {
            url: this.url,
            details: { pid: this.#comfyPid ?? child.pid, exitCode: code, signal, log: [...this.#log] },
          },
        );
      }
      if (this.#disposed) throw new ComfyUIError('ABORTED', `Start of ComfyUI at ${this.url} was cancelled.`, { url: this.url });
      if (await this.#answers()) break;
      if (Date.now() > deadline) {
        const pid = this.#comfyPid ?? child.pid;
        await this.#stopChild();
        this.#error = 'did not answer before the start deadline';
        this.#setState('crashed');
        throw new ComfyUIError(
          'START_FAILED',
          `ComfyUI did not answer at ${this.url} within ${formatDuration(start.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS)} of starting. Raise start.startTimeoutMs if it is loading many custom nodes. Last lines of its log:\n${this.#log.slice(-15).join('\n')}`,
          {
            url: this.url,
            details: { pid, log: [...this.#log] },
          },
        );
      }
      if (Date.now() - lastNotice > 15_000) {
        lastNotice = Date.now();
        this.#logger.info(`Waiting for ComfyUI at ${this.url} to start… (${this.#log.at(-1) ?? 'no output yet'})`);
      }
      await Promise.race([new Promise((resolve) => setTimeout(resolve, 200)), exit]);
    }
    this.#everStarted = true;
    this.#setState('running');
    this.#logger.info(`ComfyUI ${this.#stats.comfyuiVersion ?? ''} is running at ${this.url}.`);
  }

  #onExit(child: ResultPromise): void {
    if (this.#child !== child) return;
    this.#child = null;
    if (this.#disposed || this.#state === 'starting' || this.#state === 'stopped') return;
    this.#error = 'ComfyUI exited unexpectedly';
    this.#setState('crashed');
    const tail = this.#log.slice(-10).join('\n');
    this.#logger.error(`ComfyUI at ${this.url} stopped unexpectedly. Last lines of its log:\n${tail}`);
    const start = this.#options.start!;
    if (!this.#everStarted || start.restartOnCrash === false) return;
    if (this.#restarts >= (start.maxRestarts ?? DEFAULT_MAX_RESTARTS)) {
      this.#logger.error(`Not restarting ComfyUI again: it crashed ${this.#restarts + 1} times.`);
      return;
    }
    this.#restarts++;
    this.#logger.warn(`Restarting ComfyUI (restart ${this.#restarts} of ${start.maxRestarts ?? DEFAULT_MAX_RESTARTS}).`);
    this.#starting = this.#start()
      .catch((error: Error) => this.#logger.error(error.message))
      .finally(() => (this.#starting = null));
  }

  #record(line: string): void {
    this.#log.push(line);
    if (this.#log.length > LOG_LINES_KEPT) this.#log.shift();
    if (this.#options.onLog) this.#options.onLog(line);
    else this.#logger.debug?.(`[comfyui] ${line}`);
  }

  #setState(state: ComfyUIState): void {
    this.#state = state;
  }

  async #stopChild(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    this.#setState('stopped');
    // SIGTERM, then (forceKillAfterDelay) SIGKILL 5 s later if the tree is still there.
    child.kill('SIGTERM');
    await child;
    this.#child = null;
  }
}

const NO_GPU_ADVICE =
  'On a machine with no GPU that PyTorch can use, add "--cpu" to the start command\'s extraArgs (very slow), or use a ComfyUI on a GPU machine through its URL.';

/**
 * How PyTorch says, as ComfyUI starts, that it has no GPU, and what each cause asks for. Each has a fix
 * of its own before "--cpu", which makes every image take many minutes where a GPU is there after all.
 * (A Mac's GPU needs nothing: ComfyUI uses it through PyTorch's MPS.)
 */
const GPU_FAILURES: Array<[RegExp, string]> = [
  [
    /Torch not compiled with CUDA enabled/,
    "The PyTorch in that Python is a build without GPU support (what a plain pip install torch gives on Windows): install the build for this machine's GPU into it instead, with the command ComfyUI's README gives for NVIDIA, AMD or Intel GPUs.",
  ],
  [
    /Found no NVIDIA driver/,
    "PyTorch, a build for NVIDIA GPUs, finds no NVIDIA driver: install the driver if this machine has an NVIDIA GPU; with an AMD or Intel GPU, install the PyTorch build that ComfyUI's README gives for it into that Python instead.",
  ],
  [
    /No CUDA GPUs are available/i,
    'The NVIDIA driver is there, but ComfyUI sees no GPU: check CUDA_VISIBLE_DEVICES (in the shell or start.env), and in a container, that it was given the GPU (docker run --gpus all).',
  ],
];

/** What to do about a start failure whose cause the log shows, as a sentence after the log (or ''). */
function describeStartFailure(log: string[], python: string): string {
  const text = log.join('\n');
  // The watchdog prints the spawn error of the Python command: a name not on PATH, or a file not executable.
  const spawnError = /^spawn .* (ENOENT|EACCES)$/m.exec(text)?.[1];
  if (spawnError) {
    return `\n${python} ${spawnError === 'ENOENT' ? 'was not found' : 'is not executable'}. Set start.python to the Python that runs ComfyUI: its venv's bin/python (on Windows Scripts\\python.exe), or "python3" where there is no "python".`;
  }
  const gpuFailure = GPU_FAILURES.find(([pattern]) => pattern.test(text));
  return gpuFailure ? `\n${gpuFailure[1]} ${NO_GPU_ADVICE}` : '';
}

/** Uses the ComfyUI at `url`, or starts it with `start`, and resolves once it answers. */
export async function ensureComfyUI(options: EnsureComfyUIOptions): Promise<ComfyUISupervisor> {
  const supervisor = new ComfyUISupervisor(options);
  try {
    await supervisor.ensureRunning();
  } catch (error) {
    await supervisor.dispose();
    throw error;
  }
  return supervisor;
}
