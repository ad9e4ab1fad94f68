import type { Logger } from '@astro-comfyui/comfyui';
import type { ProgressLine } from './progress-line.js';

/** Log lines for the CLI: info to stdout, problems to stderr, without tearing the progress line. */
export function createCliLogger(progress?: ProgressLine): Logger {
  const write = (stream: NodeJS.WriteStream, text: string) => {
    progress?.clear();
    stream.write(`${text}\n`);
  };
  return {
    info: (message) => write(process.stdout, message),
    warn: (message) => write(process.stderr, `warning: ${message}`),
    error: (message) => write(process.stderr, `error: ${message}`),
    debug: () => {},
  };
}
