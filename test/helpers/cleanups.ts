import { afterEach } from 'vitest';
import { killUnfinishedCommands } from './unfinished-commands.js';

/** Cleanup functions run after each test, last registered first, once the commands it left running are killed. */
export function useCleanups(): Array<() => Promise<unknown>> {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    await killUnfinishedCommands();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
}
