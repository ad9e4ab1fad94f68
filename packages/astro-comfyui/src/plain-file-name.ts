import path from 'node:path';

/**
 * True for a plain file name that stays inside the folder it is joined to: no separators, no `..`,
 * no leading dot, no NUL, at most 255 bytes. Every name read from the manifest, from ComfyUI or from a
 * toolbar message passes this before it reaches the file system.
 */
export function isPlainFileName(name: unknown): name is string {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    Buffer.byteLength(name) <= 255 &&
    !name.startsWith('.') &&
    !/[/\\\0]/.test(name) &&
    path.basename(name) === name
  );
}
