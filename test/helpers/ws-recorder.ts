import WebSocket from 'ws';

export interface Message {
  type: string;
  data: Record<string, unknown>;
}

/** A WebSocket client of the fake that records every JSON message it receives. */
export class WsRecorder {
  readonly messages: Message[] = [];
  readonly socket: WebSocket;
  #listeners = new Set<() => void>();

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on('message', (raw, isBinary) => {
      if (isBinary) return;
      this.messages.push(JSON.parse(raw.toString()) as Message);
      for (const check of this.#listeners) check();
    });
  }

  static async connect(baseUrl: string, clientId?: string, headers: Record<string, string> = {}): Promise<WsRecorder> {
    const url = new URL('/ws', baseUrl.replace(/^http/, 'ws'));
    if (clientId) url.searchParams.set('clientId', clientId);
    const socket = new WebSocket(url, { headers });
    const recorder = new WsRecorder(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    await recorder.waitFor((m) => m.type === 'status');
    return recorder;
  }

  /** Resolves with the first recorded message (past or future) matching the predicate. */
  waitFor(predicate: (m: Message) => boolean, timeoutMs = 10_000): Promise<Message> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const found = this.messages.find(predicate);
        if (!found) return;
        cleanup();
        resolve(found);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching message within ${timeoutMs} ms; got ${this.messages.map((m) => m.type).join(', ')}`));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.#listeners.delete(check);
      };
      this.#listeners.add(check);
      check();
    });
  }

  /** Waits for the end-of-prompt marker `executing {node: null}` and returns that prompt's messages. */
  async waitForPrompt(promptId: string): Promise<Message[]> {
    await this.waitFor((m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === promptId);
    return this.messages.filter((m) => m.data.prompt_id === promptId);
  }

  close(): void {
    this.socket.terminate();
  }
}
