const stoppers = new Set<() => void>();
let installed = false;

function stopAll(): void {
  for (const stop of stoppers) stop();
}

function onSignal(signal: NodeJS.Signals): void {
  stopAll();
  // We only add a listener to stop children; keep Node's default (exit) when nobody else handles it.
  if (process.listenerCount(signal) === 1) {
    uninstall();
    process.kill(process.pid, signal);
  }
}

function uninstall(): void {
  process.off('exit', stopAll);
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  process.off('SIGHUP', onSignal);
  installed = false;
}

/**
 * Runs `stop` (synchronously) when this process exits or gets SIGINT/SIGTERM/SIGHUP. Astro's
 * `astro:server:done` does not run on Ctrl-C, and a child in its own process group does not get the
 * terminal's signal, so without this a started ComfyUI would outlive the build.
 */
export function stopOnParentExit(stop: () => void): () => void {
  stoppers.add(stop);
  if (!installed) {
    installed = true;
    process.on('exit', stopAll);
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
  }
  return () => {
    stoppers.delete(stop);
    if (stoppers.size === 0 && installed) uninstall();
  };
}
