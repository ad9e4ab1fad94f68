import { ComfyUIError } from './comfyui-error.js';

/** Validates a ComfyUI base URL once, at the boundary, and returns it without a trailing slash. */
export function parseComfyUIUrl(input: string): URL {
  let url: URL;
  try {
    url = new URL(input);
  } catch (cause) {
    throw new ComfyUIError(
      'INVALID_OPTIONS',
      `"${input}" is not a valid ComfyUI URL. Use the address ComfyUI prints at start, such as http://127.0.0.1:8188.`,
      { cause },
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ComfyUIError('INVALID_OPTIONS', `ComfyUI URL "${input}" must start with http:// or https://, such as http://127.0.0.1:8188.`);
  }
  if (url.search || url.hash) {
    throw new ComfyUIError(
      'INVALID_OPTIONS',
      `ComfyUI URL "${input}" must not have a query or fragment; give only the base address such as http://127.0.0.1:8188.`,
    );
  }
  url.pathname = url.pathname.replace(/\/+$/, '');
  return url;
}
