import { readFile } from 'node:fs/promises';
import { isComfyUIError } from '@astro-comfyui/comfyui/workflows';
import { AstroComfyUIError } from '../astro-comfyui-error.js';
import { parseCliArgs, usage, UsageError } from './parse-cli-args.js';

async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseCliArgs>;
  try {
    args = parseCliArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`error: ${error.message}\n${error.showUsage ? `\n${usage}\n` : 'Run astro-comfyui --help for the usage.\n'}`);
    return 2;
  }
  if (args.command === 'help') {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (args.command === 'version') {
    const { version } = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${version}\n`);
    return 0;
  }
  try {
    // The commands are loaded when run, so --help, --version and a mistyped flag answer at once, without
    // Vite, the HTTP client and the rest.
    const { loadProjectOptions } = await import('./load-project-options.js');
    const options = await loadProjectOptions(args.root);
    switch (args.command) {
      case 'generate':
        return await (await import('./run-generate.js')).runGenerate(options, args);
      case 'status':
        return await (await import('./run-status.js')).runStatus(options);
      case 'prune':
        return await (await import('./run-prune.js')).runPrune(options, args);
      case 'start': {
        const controller = new AbortController();
        // Persistent listeners: the supervisor's own signal hook then knows someone handles the signal.
        process.on('SIGINT', () => controller.abort());
        process.on('SIGTERM', () => controller.abort());
        return await (await import('./run-start.js')).runStart(options, controller.signal);
      }
    }
  } catch (error) {
    if (error instanceof AstroComfyUIError || isComfyUIError(error)) {
      // Ctrl-C: what was made is kept, so this is no error of the command; 130 is a shell's code for it.
      const stopped = error instanceof AstroComfyUIError && error.code === 'STOPPED';
      const { hint } = error as { hint?: string };
      process.stderr.write(`${stopped ? '' : 'error: '}${error.message}\n${hint ? `hint: ${hint}\n` : ''}`);
      return stopped ? 130 : 1;
    }
    throw error;
  }
}

// A reader that stops early (`status | head -3`, a pager quit) closes the pipe: the rest of the output goes
// nowhere, and the command still finishes its work and exits with its code instead of crashing on EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

process.exitCode = await main(process.argv.slice(2));
