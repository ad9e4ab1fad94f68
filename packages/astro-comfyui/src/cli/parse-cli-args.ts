import path from 'node:path';
import { parseArgs } from 'node:util';

export type CliCommand = 'generate' | 'status' | 'prune' | 'start' | 'help' | 'version';

export interface CliArgs {
  command: CliCommand;
  root: string;
  force: boolean;
  only: string | undefined;
  dryRun: boolean;
}

/** Thrown for bad command lines; the CLI prints it with the usage and exits with 2. */
export class UsageError extends Error {
  /** Also print the whole usage (a missing command); a precise mistake needs only its message. */
  constructor(
    message: string,
    readonly showUsage = false,
  ) {
    super(message);
  }
}

export const usage = `Usage: astro-comfyui <command> [options]

Commands:
  generate   Generate the images posts ask for that are missing
               --force        run every image again on ComfyUI, bypassing its cache
               --only <glob>  only posts matching the glob (e.g. "src/content/blog/2024-*")
               --dry-run      list what would be generated, change nothing
  status     Show ComfyUI endpoints, versions, VRAM, missing models, and missing/stale/orphaned images
  prune      Remove generated images no post uses any more
               --dry-run      list what would be removed, change nothing
  start      Start ComfyUI with the configured start command and keep it running (Ctrl-C stops it)

Options:
  --root <dir>  the Astro project (default: current directory)
  --help, -h    show this help
  --version     show the astro-comfyui version

Exit codes: 0 success, 1 failure, 2 bad arguments, 3 (status) images missing, placeholders, cut short or not fetched from Git LFS, 130 (generate) stopped by Ctrl-C.`;

const allowed: Record<CliCommand, string[]> = {
  generate: ['force', 'only', 'dry-run'],
  status: [],
  prune: ['dry-run'],
  start: [],
  help: [],
  version: [],
};

const cliOptions = {
  root: { type: 'string' },
  force: { type: 'boolean', default: false },
  only: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', short: 'v', default: false },
} as const;

function readArgs(argv: string[]) {
  try {
    return parseArgs({ args: argv, allowPositionals: true, strict: true, options: cliOptions });
  } catch (error) {
    throw new UsageError(describeParseError(error as Error & { code?: string }));
  }
}

export function parseCliArgs(argv: string[], cwd = process.cwd()): CliArgs {
  const { values, positionals } = readArgs(argv);
  const none = { root: cwd, force: false, only: undefined, dryRun: false };
  if (values.help) return { command: 'help', ...none };
  if (values.version) return { command: 'version', ...none };
  if (positionals.length === 0) throw new UsageError('Name a command.', true);
  const [command, ...extra] = positionals;
  if (!Object.hasOwn(allowed, command!) || command === 'help' || command === 'version')
    throw new UsageError(`Unknown command "${command}". Commands: generate, status, prune, start.`);
  if (extra.length > 0) {
    // `generate src/content/blog/post.md` is how many CLIs take files: say how this one does.
    const only = command === 'generate' && extra.length === 1 ? ` To generate the images of some posts only: --only "${extra[0]}".` : '';
    throw new UsageError(`Unexpected argument "${extra[0]}".${only}`);
  }
  const given = ['force', 'only', 'dry-run'].filter((name) => (name === 'only' ? values.only !== undefined : values[name as 'force' | 'dry-run']));
  const wrong = given.find((name) => !allowed[command as CliCommand].includes(name));
  if (wrong) throw new UsageError(`--${wrong} does not apply to "${command}".`);
  if (values.only !== undefined && values.only.trim() === '') throw new UsageError('--only needs a glob, e.g. --only "src/content/blog/*.md".');
  return {
    command: command as CliCommand,
    root: values.root ? path.resolve(cwd, values.root) : cwd,
    force: values.force ?? false,
    only: values.only,
    dryRun: values['dry-run'] ?? false,
  };
}

/** node:util's parseArgs messages, as a person would say them. */
function describeParseError(error: Error & { code?: string }): string {
  const option = /'(-{1,2}[^' ]+)/.exec(error.message)?.[1];
  if (error.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && option) return `Unknown option ${option}.`;
  if (error.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && option) {
    return /argument missing/.test(error.message)
      ? `${option} needs a value, e.g. ${option === '--only' ? '--only "src/content/blog/*.md"' : `${option} <value>`}.`
      : `${option} takes no value.`;
  }
  return error.message;
}
