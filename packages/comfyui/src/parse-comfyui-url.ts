import { ComfyUIError } from './comfyui-error.js';

/** Validates a ComfyUI base URL once, at the boundary, and returns it without a trailing slash. */
export function parseComfyUIUrl(input: string): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch (cause) {
    throw new ComfyUIError(
      'INVALID_OPTIONS',
      `"${redactComfyUIUrl(input)}" is not a valid ComfyUI URL. Use the address ComfyUI prints at start, such as http://127.0.0.1:8188.`,
      { cause },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ComfyUIError('INVALID_OPTIONS', `ComfyUI URL "${redactComfyUIUrl(input)}" must start with http:// or https://, such as http://127.0.0.1:8188.`);
  }
  if (url.search || url.hash) {
    throw new ComfyUIError(
      'INVALID_OPTIONS',
      `ComfyUI URL "${redactComfyUIUrl(input)}" must not have a query or fragment; give only the base address such as http://127.0.0.1:8188.`,
    );
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}

/** Host names only this machine reaches (URL's form: IPv6 in brackets): where a start command can serve ComfyUI. */
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '0.0.0.0']);

/** Whether a ComfyUI URL is on this machine, so that a start command can start ComfyUI for it. */
export function isLocalComfyUIUrl(input: string): boolean {
  return LOCAL_HOSTS.has(parseComfyUIUrl(input).hostname);
}

/** A ComfyUI base URL as it may be shown (no credentials, no trailing slash), and how to sign in to it. */
export interface ComfyUIAddress {
  url: string;
  /** `Basic …` from the user and password in the URL (a proxy in front of ComfyUI); undefined without them. */
  authorization: string | undefined;
}

/**
 * Validates a ComfyUI base URL and takes out its credentials (`https://user:password@gpu/comfyui`): they
 * go in an Authorization header on every call, HTTP and WebSocket, and never into a message or a log.
 */
export function splitComfyUIUrl(input: string): ComfyUIAddress {
  const url = parseComfyUIUrl(input);
  const authorization =
    url.username || url.password
      ? `Basic ${Buffer.from(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`).toString('base64')}`
      : undefined;
  url.username = '';
  url.password = '';
  return { url: url.href.replace(/\/$/, ''), authorization };
}

/** A URL as text that may be shown, whether it is valid or not: any `user:password@` is left out. */
export function redactComfyUIUrl(input: string): string {
  return input.replace(/^([a-z][a-z\d+.-]*:\/\/)[^/?#]*@/i, '$1');
}
