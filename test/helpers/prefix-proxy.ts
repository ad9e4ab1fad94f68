import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A reverse proxy that serves `target` under a path prefix, as nginx in front of a team's ComfyUI does
 * (`https://gpu.example.com/comfyui/` → `http://127.0.0.1:8188/`): HTTP and WebSocket upgrades under the
 * prefix are passed on without it, anything else is a 404. With `login`, every request needs HTTP Basic
 * auth with that user and password (401 without). Started on port 0.
 */
export async function startPrefixProxy(target: string, prefix: string, login?: { user: string; password: string }) {
  const upstream = new URL(target);
  const strip = (url: string | undefined) => (url?.startsWith(`${prefix}/`) ? url.slice(prefix.length) : undefined);
  const expected = login && `Basic ${Buffer.from(`${login.user}:${login.password}`).toString('base64')}`;
  const signedIn = (req: http.IncomingMessage) => !expected || req.headers.authorization === expected;
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const path = strip(req.url);
    if (path === undefined) return void res.writeHead(404).end('not under the prefix');
    if (!signedIn(req)) return void res.writeHead(401, { 'www-authenticate': 'Basic realm="gpu"' }).end('sign in');
    const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.writeHead(502).end());
    req.pipe(forward);
  });
  server.on('upgrade', (req, socket, head) => {
    requests.push(req.url ?? '');
    const path = strip(req.url);
    if (path === undefined) return void socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    if (!signedIn(req)) return void socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
    const connection = net.connect(Number(upstream.port), upstream.hostname, () => {
      const headers = Object.entries(req.headers).map(([name, value]) => `${name}: ${Array.isArray(value) ? value.join(', ') : value}`);
      connection.write(`GET ${path} HTTP/1.1\r\n${headers.join('\r\n')}\r\n\r\n`);
      connection.write(head);
      connection.pipe(socket).pipe(connection);
    });
    const close = () => {
      connection.destroy();
      socket.destroy();
    };
    connection.on('error', close);
    socket.on('error', close);
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}`,
    /** The path of every HTTP request and WebSocket upgrade received, as sent. */
    requests,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
