import type { EventEmitter } from 'node:events';

/** Resolves with the first future event `name` whose argument matches, or rejects after the timeout. */
export function waitForEvent<T = unknown>(emitter: EventEmitter, name: string, match: (arg: T) => boolean = () => true, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(name, listener);
      reject(new Error(`no "${name}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (arg: T) => {
      if (!match(arg)) return;
      clearTimeout(timer);
      emitter.off(name, listener);
      resolve(arg);
    };
    emitter.on(name, listener);
  });
}
