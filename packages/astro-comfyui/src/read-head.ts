import { open } from 'node:fs/promises';

/**
 * How much of a PNG is read to learn what it is: what says who made it (XMP, the entry astro-comfyui
 * writes, ComfyUI's graph) comes before the pixels.
 */
export const PNG_HEAD_BYTES = 64 * 1024;

/** The first `bytes` bytes of a file (fewer if it is shorter), or undefined when it cannot be opened. */
export async function readHead(file: string, bytes: number): Promise<Buffer | undefined> {
  const handle = await open(file, 'r').catch(() => undefined);
  if (!handle) return undefined;
  try {
    const head = Buffer.alloc(bytes);
    const { bytesRead } = await handle.read(head, 0, bytes, 0);
    return head.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
