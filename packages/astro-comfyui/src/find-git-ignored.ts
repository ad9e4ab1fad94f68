import { execFile } from 'node:child_process';
import path from 'node:path';

/** How long git may take to answer: a repository on a slow network drive must not hold up a build. */
const GIT_TIMEOUT_MS = 5_000;

export interface GitIgnored {
  /** The path as given. */
  file: string;
  /** The file that holds the rule, absolute: a .gitignore, .git/info/exclude or the global excludes file. */
  source: string;
  /** The rule's line in `source`, and the rule itself (`generated/`). */
  line: number;
  pattern: string;
  /** The top folder of the repository, absolute. */
  repository: string;
}

/**
 * The files among `files` (relative to `cwd`; a folder ends with `/`) that git would leave out of a commit
 * because a rule of a .gitignore, .git/info/exclude or the global excludes file matches them. Advice only:
 * empty when git is not installed, `cwd` is not in a repository, or git does not answer in time.
 */
export async function findGitIgnored(files: readonly string[], cwd: string): Promise<GitIgnored[]> {
  const fields = (await runGit(['check-ignore', '--verbose', '--stdin', '-z'], cwd, files.map((file) => `${file}\0`).join('')))?.split('\0');
  if (!fields) return [];
  // git names a rule's file from the top of the repository (the global one by its own path).
  const repository = await findGitTopLevel(cwd);
  if (!repository) return [];
  const ignored: GitIgnored[] = [];
  // -z: source, line, pattern and path, each ended by NUL.
  for (let i = 0; i + 3 < fields.length; i += 4) {
    // A "!" rule that matched last re-includes the file: git lists it all the same.
    if (fields[i + 2]!.startsWith('!')) continue;
    ignored.push({ file: fields[i + 3]!, source: path.resolve(repository, fields[i]!), line: Number(fields[i + 1]), pattern: fields[i + 2]!, repository });
  }
  return ignored;
}

/** The top folder of the git repository that holds `cwd`; undefined outside one, or without git. */
async function findGitTopLevel(cwd: string): Promise<string | undefined> {
  const top = (await runGit(['rev-parse', '--show-toplevel'], cwd))?.trim();
  return top ? path.resolve(top) : undefined;
}

/** git's output, or undefined when it fails (exit 1 of check-ignore: nothing is ignored; 128: no repository). */
function runGit(args: string[], cwd: string, input = ''): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = execFile('git', args, { cwd, timeout: GIT_TIMEOUT_MS, maxBuffer: 1024 * 1024, windowsHide: true }, (error, stdout) =>
      resolve(error ? undefined : stdout),
    );
    // Paths go in NUL-separated, as they come out: any file name survives.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}
