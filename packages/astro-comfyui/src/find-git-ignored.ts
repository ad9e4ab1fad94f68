import { execFile } from 'node:child_process';

/** How long git may take to answer: a repository on a slow network drive must not hold up a build. */
const GIT_TIMEOUT_MS = 5_000;

export interface GitIgnored {
  /** The path as given. */
  file: string;
  /** Where the rule is and what it says: `.gitignore:3: generated/`. */
  rule: string;
}

/**
 * The files among `files` (relative to `cwd`) that git would leave out of a commit because a rule of a
 * .gitignore, .git/info/exclude or the global excludes file matches them. Advice only: empty when git is
 * not installed, `cwd` is not in a repository, or git does not answer in time.
 */
export function findGitIgnored(files: readonly string[], cwd: string): Promise<GitIgnored[]> {
  return new Promise((resolve) => {
    const child = execFile(
      'git',
      ['check-ignore', '--verbose', '--stdin', '-z'],
      { cwd, timeout: GIT_TIMEOUT_MS, maxBuffer: 1024 * 1024, windowsHide: true },
      (error, stdout) => {
        // Exit 1: nothing is ignored; 128: not a repository. Either way there is nothing to say.
        if (error) return resolve([]);
        // -z: source, line, pattern and path, each ended by NUL.
        const fields = stdout.split('\0');
        const ignored: GitIgnored[] = [];
        for (let i = 0; i + 3 < fields.length; i += 4) {
          // A "!" rule that matched last re-includes the file: git lists it all the same.
          if (fields[i + 2]!.startsWith('!')) continue;
          ignored.push({ file: fields[i + 3]!, rule: `${fields[i]}:${fields[i + 1]}: ${fields[i + 2]}` });
        }
        resolve(ignored);
      },
    );
    // Paths go in NUL-separated, as they come out: any file name survives.
    child.stdin?.on('error', () => {});
    child.stdin?.end(files.map((file) => `${file}\0`).join(''));
  });
}
