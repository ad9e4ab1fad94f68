import WebSocket from 'ws';

export type ToolbarEvent = { event: string; data: Record<string, unknown> };

/**
 * Opens the dev server's toolbar channel (Vite's HMR socket) like a page of it does, with its Origin and
 * Vite's token, or like a bare client with neither; collects every astro-comfyui event it receives.
 */
export async function connectToolbar(base: string, { asBrowser = true } = {}) {
  const token = /const wsToken = "([^"]+)"/.exec(await (await fetch(`${base}/@vite/client`)).text())![1]!;
  const socket = new WebSocket(`${base.replace(/^http/, 'ws')}/${asBrowser ? `?token=${token}` : ''}`, 'vite-hmr', asBrowser ? { origin: base } : {});
  const events: ToolbarEvent[] = [];
  socket.on('message', (raw) => {
    const message = JSON.parse(String(raw)) as { type: string; event?: string; data?: Record<string, unknown> };
    if (message.type === 'custom' && message.event?.startsWith('astro-comfyui:')) events.push({ event: message.event, data: message.data ?? {} });
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    events,
    send: (event: string, data: unknown) => socket.send(JSON.stringify({ type: 'custom', event, data })),
  };
}
