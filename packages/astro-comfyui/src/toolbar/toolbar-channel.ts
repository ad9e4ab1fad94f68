import type { Logger } from '@astro-comfyui/comfyui';
import type { z } from 'astro/zod';
import type { ViteDevServer, WebSocketClient } from 'vite';
import { decideToolbarAccess, type ToolbarAccess, type ToolbarAccessRules } from './toolbar-access.js';
import { EVENTS } from './toolbar-events.js';

/** Sends one event to the connection that asked; other tabs and other pages never see it. */
export type Reply = (event: string, payload: Record<string, unknown>) => void;

export type ToolbarHandler<T> = (message: T, reply: Reply, access: ToolbarAccess) => Promise<void>;

/**
 * The toolbar's request channel over Vite's HMR socket: what each connection may do is decided once from
 * its upgrade request; each message is checked against that and its schema, and answered on its own
 * connection only. Returns `handle(event, schema, needs, run)` to register one request type.
 */
export function createToolbarChannel(server: ViteDevServer, rules: ToolbarAccessRules, logger: Logger, describe: (error: Error) => string) {
  // A connection we did not see open is refused.
  const access = new WeakMap<object, ToolbarAccess>();
  server.ws.on('connection', (socket, request) => access.set(socket, decideToolbarAccess(request, rules)));
  const warned = new WeakSet<object>();

  return <T>(event: string, schema: z.ZodType<T>, needs: 'read' | 'write', run: ToolbarHandler<T>) => {
    server.ws.on(event, (data: unknown, client: WebSocketClient) => {
      const reply: Reply = (name, payload) => client.send(name, payload);
      const requestId = typeof (data as { requestId?: unknown })?.requestId === 'string' ? (data as { requestId: string }).requestId.slice(0, 64) : 'invalid';
      const allowed = access.get(client.socket) ?? { level: 'refused', reason: 'the connection was opened before the toolbar server started' };
      if (allowed.level === 'refused' || (needs === 'write' && allowed.level === 'read')) {
        if (!warned.has(client.socket)) logger.warn(`Refused a dev toolbar request (${event}): ${allowed.reason}`);
        warned.add(client.socket);
        reply(EVENTS.error, { requestId, message: allowed.level === 'read' ? allowed.reason : `Refused: ${allowed.reason}.` });
        return;
      }
      const parsed = schema.safeParse(data);
      if (!parsed.success) {
        const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ');
        reply(EVENTS.error, { requestId, message: `Invalid request (${why}).` });
        return;
      }
      run(parsed.data, reply, allowed).catch((error: Error) => {
        reply(EVENTS.error, { requestId, message: describe(error) });
      });
    });
  };
}
