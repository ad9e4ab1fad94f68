import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/** What one browser connection may do with the toolbar. */
export type ToolbarAccess = { level: 'write' } | { level: 'read'; reason: string } | { level: 'refused'; reason: string };

export interface ToolbarAccessRules {
  /** The `toolbar.allowNetwork` option: peers on other machines may write too. */
  allowNetwork: boolean;
  /** Vite's `server.allowedHosts`: extra Host names the dev server answers to (`true`: any). */
  allowedHosts: readonly string[] | true;
}

/**
 * Decides from the connection's upgrade request, never from the message itself: a page's own claims
 * cannot be trusted, but the browser sets Origin and Host, and the kernel sets the peer address.
 * - An Origin other than the dev server's own is another site or another port on localhost, which can
 *   read Vite's HMR token (Vite's CORS allows localhost): refused, as ComfyUI refuses such pages.
 * - A Host that is not loopback, an IP address or an allowed host is DNS rebinding: refused.
 * - A peer on another machine (`astro dev --host`) reads, and writes only with `allowNetwork`.
 * Clients without an Origin are not browsers: programs on this machine, which can edit the posts anyway.
 */
export function decideToolbarAccess(request: Pick<IncomingMessage, 'headers' | 'socket'>, rules: ToolbarAccessRules): ToolbarAccess {
  const host = request.headers.host ?? '';
  const hostname = hostnameOf(host);
  if (hostname === undefined || !isAllowedHost(hostname, rules.allowedHosts)) {
    return { level: 'refused', reason: `the dev server was reached as "${host.slice(0, 100)}", which is not one of its host names` };
  }
  const origin = request.headers.origin;
  if (origin !== undefined && originHost(origin) !== host.toLowerCase()) {
    return { level: 'refused', reason: `the page at ${origin.slice(0, 100)} is not one of this dev server's pages` };
  }
  const peer = request.socket.remoteAddress ?? '';
  if (isLoopback(peer) || rules.allowNetwork) return { level: 'write' };
  return {
    level: 'read',
    reason: `This browser is on another machine (${peer}). Generating, pinning into posts and starting ComfyUI work only in a browser on the machine that runs astro dev, unless astro.config sets comfyui({ toolbar: { allowNetwork: true } }).`,
  };
}

export function isLoopback(address: string): boolean {
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

function hostnameOf(host: string): string | undefined {
  try {
    return new URL(`http://${host}`).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return undefined;
  }
}

function originHost(origin: string): string | undefined {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.host.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

/** Vite's own rule for its Host check: IP addresses, localhost and *.localhost, plus `server.allowedHosts`. */
function isAllowedHost(hostname: string, allowedHosts: readonly string[] | true): boolean {
  if (allowedHosts === true || isIP(hostname) !== 0 || hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  return allowedHosts.some((allowed) =>
    allowed.startsWith('.') ? hostname === allowed.slice(1) || hostname.endsWith(allowed) : hostname === allowed.toLowerCase(),
  );
}
