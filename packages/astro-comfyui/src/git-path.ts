import path from 'node:path';

/** A file or folder as git commands take it from the project root: relative, with `/`, `.` for the root. */
export function gitPath(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join('/') || '.';
}
