import http, { type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Logger } from '@astro-comfyui/comfyui';
import { splitComfyUIUrl, type ComfyUIAddress } from '@astro-comfyui/comfyui/workflows';
import type { ViteDevServer } from 'vite';
import { decideToolbarAccess, type ToolbarAccessRules } from './toolbar-access.js';
import { COMFYUI_ROUTE } from './toolbar-events.js';

/** How long a relayed request may wait for ComfyUI to answer or send more, and a relayed socket to connect. */
const RELAY_TIMEOUT_MS = 30_000;
const CONNECT_TIMEOUT_MS = 10_000;

/** Headers that belong to one connection, or to the dev server's site rather than ComfyUI's. */
const DROPPED_REQUEST_HEADERS = new Set(['host', 'origin', 'referer', 'cookie', 'connection', 'keep-alive', 'proxy-connection', 'upgrade']);
const DROPPED_RESPONSE_HEADERS = new Set(['set-cookie', 'connection', 'keep-alive', 'transfer-encoding']);

export interface ComfyUIRelay {
  close(): void;
}

/**
 * Relays ComfyUI's web UI, API and WebSocket through the dev server at `/_astro-comfyui/comfyui/<n>/`.
 * Framed from another site (localhost:4321 framing 127.0.0.1:8188) the UI gets no storage and never
 * boots; through the dev server it is the panel's own origin. The relay opens nothing new: it answers
 * only the dev server's own pages in a browser that may write with the toolbar (the author's, on this
 * machine unless `toolbar.allowNetwork`), refuses other sites and DNS rebinding exactly as the toolbar
 * does, and only then presents ComfyUI's own origin to ComfyUI, whose origin check stays as it is.
 */
export function relayComfyUI(server: ViteDevServer, endpoints: readonly string[], rules: ToolbarAccessRules, logger: Logger): ComfyUIRelay {
  // The sign-in of a proxy in front of ComfyUI goes to ComfyUI only, never to the browser.
  const addresses = endpoints.map(splitComfyUIUrl);
  const sockets = new Set<Duplex>();
  const track = (socket: Duplex) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  };

  server.middlewares.use(COMFYUI_ROUTE, (req, res) => {
    const target = targetOf(req.url ?? '/', addresses);
    if (!target) return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('No such ComfyUI endpoint.');
    if (target.outside) return void res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not under the address of this ComfyUI.');
    // Relative asset paths in ComfyUI's page need the trailing slash.
    if (target.path === '') return void res.writeHead(308, { Location: `${COMFYUI_ROUTE}${target.index}/` }).end();
    const refused = refusalOf(req, rules);
    if (refused) return void res.writeHead(403, { 'Content-Type': 'text/plain' }).end(`Refused: ${refused}.`);
    relayRequest(req, res, target.url, addresses[target.index]!);
  });

  server.httpServer?.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (!req.url?.startsWith(COMFYUI_ROUTE)) return;
    const target = targetOf(req.url.slice(COMFYUI_ROUTE.length - 1), addresses);
    const refused = !target ? 'no such ComfyUI endpoint' : target.outside ? 'not under the address of this ComfyUI' : refusalOf(req, rules);
    if (!target || refused) {
      logger.warn(`Refused a ComfyUI WebSocket through the dev server: ${refused}.`);
      return void socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
    }
    track(socket);
    relayUpgrade(req, socket, head, target.url, addresses[target.index]!, track);
  });

  return {
    close() {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/**
 * `/<n>/<rest>` → endpoint n's URL for `<rest>`; `path` is '' for `/<n>` (no trailing slash). `outside` when
 * it climbs above the endpoint's own path (`/<n>/%2e%2e/x` with ComfyUI at `https://host/comfyui`): the
 * relay signs in as the author, so it reaches nothing else on that host.
 */
function targetOf(url: string, addresses: readonly ComfyUIAddress[]): { index: number; path: string; url: URL; outside: boolean } | undefined {
  const match = /^\/(\d{1,3})(\/.*)?$/s.exec(url);
  const index = match ? Number(match[1]) : -1;
  const base = addresses[index]?.url;
  if (!match || base === undefined) return undefined;
  const path = match[2] ?? '';
  const target = new URL(`${base}${path || '/'}`);
  return { index, path, url: target, outside: !staysUnder(base, path) };
}

/**
 * Whether `path` resolves under `base`'s path, as written and once percent-decoded: a proxy such as nginx
 * decodes `%2F` and `%2E` before it resolves `..`, so `/comfyui/..%2F..%2Fadmin` reaches `/admin` there.
 */
function staysUnder(base: string, path: string): boolean {
  const root = new URL(`${base}/`);
  const under = (p: string) => {
    const url = new URL(`${base}${p || '/'}`);
    return url.origin === root.origin && url.pathname.startsWith(root.pathname);
  };
  try {
    return under(path) && under(decodeURIComponent(path));
  } catch {
    return false;
  }
}

/** Why a request may not reach ComfyUI through the dev server, or undefined when it may. */
function refusalOf(req: IncomingMessage, rules: ToolbarAccessRules): string | undefined {
  const access = decideToolbarAccess(req, rules);
  if (access.level !== 'write') return access.reason;
  // A page of another site cannot frame or fetch it; a typed address (`none`) is the author's.
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') return `a request from another site (${String(site).slice(0, 20)})`;
  return undefined;
}

/** The request's headers as ComfyUI's own page would send them. */
function forwardedHeaders(
  headers: IncomingHttpHeaders,
  target: URL,
  address: ComfyUIAddress,
  keep: ReadonlySet<string> = new Set(),
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && (!DROPPED_REQUEST_HEADERS.has(name) || keep.has(name))) out[name] = value;
  }
  out.host = target.host;
  if (headers.origin !== undefined) out.origin = target.origin;
  if (address.authorization) out.authorization = address.authorization;
  return out;
}

function relayRequest(req: IncomingMessage, res: ServerResponse, target: URL, address: ComfyUIAddress): void {
  const request = (target.protocol === 'https:' ? https : http).request(target, {
    method: req.method,
    headers: forwardedHeaders(req.headers, target, address),
    timeout: RELAY_TIMEOUT_MS,
  });
  request.on('response', (answer) => {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(answer.headers)) if (value !== undefined && !DROPPED_RESPONSE_HEADERS.has(name)) headers[name] = value;
    // Only the dev server's own pages may frame it.
    headers['content-security-policy'] = "frame-ancestors 'self'";
    res.writeHead(answer.statusCode ?? 502, headers);
    answer.pipe(res);
    answer.on('error', () => res.destroy());
  });
  request.on('timeout', () => request.destroy(new Error(`no answer in ${RELAY_TIMEOUT_MS / 1000} s`)));
  request.on('error', (error) => {
    if (res.headersSent) return void res.destroy();
    res.writeHead(502, { 'Content-Type': 'text/plain' }).end(`ComfyUI at ${address.url} did not answer (${error.message}). Start it, then reload.`);
  });
  res.on('close', () => request.destroy());
  req.pipe(request);
}

function relayUpgrade(req: IncomingMessage, client: Duplex, head: Buffer, target: URL, address: ComfyUIAddress, track: (socket: Duplex) => void): void {
  const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
  const host = target.hostname.replace(/^\[|\]$/g, '');
  const upstream = target.protocol === 'https:' ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host }) : net.connect({ host, port });
  track(upstream);
  upstream.setTimeout(CONNECT_TIMEOUT_MS, () => upstream.destroy(new Error(`${address.url} did not accept a connection in ${CONNECT_TIMEOUT_MS / 1000} s`)));
  upstream.once(target.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
    // Connected: a WebSocket may stay quiet for as long as nothing runs.
    upstream.setTimeout(0);
    const headers = forwardedHeaders(req.headers, target, address, new Set(['connection', 'upgrade']));
    const lines = Object.entries(headers).flatMap(([name, value]) => (Array.isArray(value) ? value : [value]).map((v) => `${name}: ${v}`));
    upstream.write(`GET ${target.pathname}${target.search} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(client);
    client.pipe(upstream);
  });
  upstream.on('error', () => client.destroy());
  client.on('error', () => upstream.destroy());
  upstream.on('close', () => client.destroy());
  client.on('close', () => upstream.destroy());
}
