import path from 'node:path';

/**
 * Whether `file` (absolute) is `dir` or inside it. Outside means a first step of "..", not a name that
 * starts with two dots ("public/..drafts").
 */
export function isInside(file: string, dir: string): boolean {
  const relative = path.relative(dir, file);
  return relative.split(path.sep)[0] !== '..' && !path.isAbsolute(relative);
}
