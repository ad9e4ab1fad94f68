import { ComfyUIClient } from './comfyui-client.js';
import { isLocalComfyUIUrl } from './parse-comfyui-url.js';

/** ComfyUI's own port (`python main.py`, the portable build), and the one ComfyUI Desktop's app sets. */
const COMFYUI_PORT = '8188';
const DESKTOP_PORT = '8000';

/**
 * The address of a ComfyUI that answers on ComfyUI Desktop's port when the ComfyUI at `url`, a local
 * address on ComfyUI's own port, does not; undefined otherwise. ComfyUI Desktop, the app ComfyUI offers
 * for Windows and macOS, serves on port 8000, so its users' first run finds nothing at the default
 * address while their ComfyUI runs. Only an answer in ComfyUI's shape counts: port 8000 is a common
 * port for other servers too.
 */
export async function findComfyUIDesktop(url: string, options: { timeoutMs?: number } = {}): Promise<string | undefined> {
  const local = new URL(url);
  if (!isLocalComfyUIUrl(url) || local.port !== COMFYUI_PORT || local.pathname !== '/' || local.username) return undefined;
  const desktop = `${local.protocol}//${local.hostname}:${DESKTOP_PORT}`;
  const client = new ComfyUIClient({ url: desktop, timeoutMs: options.timeoutMs ?? 1500 });
  try {
    const stats = await client.getSystemStats();
    return typeof stats.system.comfyui_version === 'string' ? desktop : undefined;
  } catch {
    return undefined;
  } finally {
    await client.close();
  }
}
