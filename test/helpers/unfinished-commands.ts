import type { ResultPromise } from 'execa';

/** Commands a test started (a build, a CLI run) that have not ended yet. */
const unfinished = new Set<ResultPromise>();

/** Keeps `child` in the set until it ends. */
export function trackCommand<T extends ResultPromise>(child: T): T {
  unfinished.add(child);
  void child.then(
    () => unfinished.delete(child),
    () => unfinished.delete(child),
  );
  return child;
}

/**
 * Kills the commands a test left running: it timed out while a build ran. Its cleanup then removes a site
 * that nothing writes into any more, and the next test does not share the CPU with it.
 */
export async function killUnfinishedCommands(): Promise<void> {
  const left = [...unfinished];
  for (const child of left) child.kill('SIGKILL');
  await Promise.allSettled(left);
}
