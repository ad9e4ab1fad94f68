import WebSocket from 'ws';

/**
 * Talks to a dev server over Vite's HMR WebSocket, the channel the toolbar uses, from Node (so page
 * reloads cannot interrupt it). The token comes from the served `/@vite/client`, as in the browser.
 */
export async function connectViteHmr(devUrl: string) {
  const client = await (await fetch(`${devUrl}/@vite/client`)).text();
  const token = /const wsToken = "([^"]+)"/.exec(client)?.[1];
  if (!token) throw new Error('no wsToken in /@vite/client');
  const socket = new WebSocket(`${devUrl.replace(/^http/, 'ws')}/?token=${token}`, 'vite-hmr');
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  const received: Array<{ event: string; data: Record<string, unknown> }> = [];
  socket.on('message', (raw) => {
    const message = JSON.parse(raw.toString()) as { type: string; event?: string; data?: Record<string, unknown> };
    if (message.type === 'custom' && message.event) received.push({ event: message.event, data: message.data ?? {} });
  });
  return {
    received,
    send(event: string, data: unknown) {
      socket.send(JSON.stringify({ type: 'custom', event, data }));
    },
    close() {
      socket.close();
    },
  };
}
