import { WebSocket, type Dispatcher } from 'undici';
import type { ComfyUIMessage, Logger } from './types.js';

export interface ComfyUIEventsOptions {
  /** ComfyUI's base URL without a trailing slash, perhaps with a path (ComfyUIClient.url). */
  url: string;
  /** Sent with the upgrade request (a proxy's sign-in). */
  headers?: Record<string, string>;
  clientId: string;
  dispatcher?: Dispatcher;
  logger: Logger;
  /** Reconnect attempts after a drop before giving up (polling still finds the result). Default 8. */
  maxReconnectAttempts?: number;
}

type Listener = (message: ComfyUIMessage) => void;

/** How long the socket stays open after its last listener left, for the next job. */
const IDLE_LINGER_MS = 2_000;

/**
 * The `/ws` event stream of one client id. It connects while someone listens, reconnects with backoff
 * after a drop (ComfyUI keeps routing a returning clientId's messages to the new socket), and never
 * treats silence as death: loading a checkpoint can be silent for minutes.
 */
export class ComfyUIEvents {
  readonly #options: ComfyUIEventsOptions;
  readonly #byPrompt = new Map<string, Set<Listener>>();
  readonly #all = new Set<Listener>();
  #socket: WebSocket | null = null;
  #attempts = 0;
  #timer: NodeJS.Timeout | null = null;
  #idleTimer: NodeJS.Timeout | null = null;
  #closed = false;
  #connected = false;

  constructor(options: ComfyUIEventsOptions) {
    this.#options = options;
  }

  get connected(): boolean {
    return this.#connected;
  }

  /** Listens to the messages of one prompt; returns the unsubscribe function. */
  subscribe(promptId: string, listener: Listener): () => void {
    let set = this.#byPrompt.get(promptId);
    if (!set) {
      set = new Set();
      this.#byPrompt.set(promptId, set);
    }
    set.add(listener);
    this.#ensureConnected();
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#byPrompt.delete(promptId);
      this.#disconnectIfIdle();
    };
  }

  /** Listens to every message (status, unknown types…); returns the unsubscribe function. */
  subscribeAll(listener: Listener): () => void {
    this.#all.add(listener);
    this.#ensureConnected();
    return () => {
      this.#all.delete(listener);
      this.#disconnectIfIdle();
    };
  }

  close(): void {
    this.#closed = true;
    this.#byPrompt.clear();
    this.#all.clear();
    this.#teardown();
  }

  #hasListeners(): boolean {
    return this.#byPrompt.size > 0 || this.#all.size > 0;
  }

  #ensureConnected(): void {
    if (this.#closed || this.#socket || this.#timer) return;
    // Under the base URL's path, as every HTTP call is: a proxy may serve ComfyUI at /comfyui/.
    const wsUrl = new URL(`${this.#options.url.replace(/^http/, 'ws')}/ws`);
    wsUrl.searchParams.set('clientId', this.#options.clientId);
    const socket = new WebSocket(wsUrl, {
      ...(this.#options.dispatcher ? { dispatcher: this.#options.dispatcher } : {}),
      ...(this.#options.headers ? { headers: this.#options.headers } : {}),
    });
    socket.binaryType = 'arraybuffer';
    this.#socket = socket;
    socket.addEventListener('open', () => {
      this.#attempts = 0;
      this.#connected = true;
    });
    socket.addEventListener('message', (event) => {
      // Binary frames carry previews; they are never needed for correctness.
      if (typeof event.data !== 'string') return;
      let message: ComfyUIMessage;
      try {
        message = JSON.parse(event.data) as ComfyUIMessage;
      } catch {
        return;
      }
      if (!message || typeof message.type !== 'string') return;
      message.data ??= {};
      for (const listener of this.#all) listener(message);
      const promptId = message.data.prompt_id;
      if (typeof promptId === 'string') for (const listener of this.#byPrompt.get(promptId) ?? []) listener(message);
    });
    socket.addEventListener('error', () => {});
    socket.addEventListener('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      this.#connected = false;
      this.#scheduleReconnect();
    });
  }

  #scheduleReconnect(): void {
    if (this.#closed || !this.#hasListeners()) return;
    const max = this.#options.maxReconnectAttempts ?? 8;
    if (this.#attempts >= max) {
      this.#options.logger.warn(`Lost the WebSocket to ComfyUI at ${this.#options.url} after ${max} attempts; following jobs by polling.`);
      return;
    }
    const delay = Math.min(5000, 100 * 2 ** this.#attempts);
    this.#attempts++;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#hasListeners()) this.#ensureConnected();
    }, delay);
    // Reconnecting alone must not keep a finished program alive.
    this.#timer.unref();
  }

  #disconnectIfIdle(): void {
    if (this.#hasListeners() || this.#idleTimer) return;
    // Jobs often follow each other: keep the socket a moment so the next one needs no new connection.
    this.#idleTimer = setTimeout(() => {
      this.#idleTimer = null;
      if (this.#hasListeners()) return;
      this.#attempts = 0;
      this.#teardown();
    }, IDLE_LINGER_MS);
    this.#idleTimer.unref();
  }

  #teardown(): void {
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    this.#idleTimer = null;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    const socket = this.#socket;
    this.#socket = null;
    this.#connected = false;
    if (socket && socket.readyState !== WebSocket.CLOSED) socket.close();
  }
}
