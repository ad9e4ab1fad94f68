import { fileURLToPath } from 'node:url';

/**
 * Node's flags for a process that meets our code as Node on Windows does (test/fixtures/as-windows.ts:
 * `process.platform` is 'win32' and process groups are refused), with tsx for TypeScript.
 */
export const asWindowsFlags = ['--import', 'tsx', '--import', fileURLToPath(new URL('../fixtures/as-windows.ts', import.meta.url))];
