import { readFileSync } from 'node:fs';
import { on } from 'node:events';
import path from 'node:path';
import { Worker } from 'node:worker_threads';

/** A post's text, or the error code (EACCES, EISDIR, …) that kept it from being read. */
export type PostRead = { file: string; text: string } | { file: string; code: string };

/**
 * Reads one post (a root-relative path). Synchronously: for thousands of small posts that is several
 * times faster than fs/promises (one system call chain per file, no promise per step).
 */
export function readPost(root: string, file: string): PostRead {
  try {
    return { file, text: readFileSync(path.join(root, file), 'utf8') };
  } catch (error) {
    return { file, code: String((error as NodeJS.ErrnoException).code ?? (error as Error).message) };
  }
}

/**
 * From this many posts on, a thread reads them. Measured on a 2-core machine: it takes ~50 ms to start
 * and send its first batch; with the head below read meanwhile, it made a scan of 5,000 posts no faster
 * and one of 50,000 posts 300 ms faster.
 */
const THREAD_FROM = 10_000;
const BATCH = 500;
/**
 * The posts this thread reads itself while the reader thread starts, instead of waiting for its first
 * batch: 2,000 made the 50,000-post scan 80 ms faster (1,000: 60 ms; 4,000: no faster).
 */
const HEAD = 2000;

/**
 * The thread's whole program, plain JavaScript with nothing to resolve, so it runs the same from the
 * built package and from the sources under test, as a script or a module: read the posts in order, a
 * batch per message.
 */
const READER = `
const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
const { readFileSync } = process.getBuiltinModule('node:fs');
const { join } = process.getBuiltinModule('node:path');
const { root, files, batch } = workerData;
for (let start = 0; start < files.length; start += batch) {
  const texts = files.slice(start, start + batch).map((file) => {
    try {
      return readFileSync(join(root, file), 'utf8');
    } catch (error) {
      return { code: String(error.code ?? error.message) };
    }
  });
  parentPort.postMessage(texts);
}
`;

export interface ReadPostsOptions {
  /** From how many posts on a thread reads them. */
  threadFrom?: number;
  /** The thread's program; tests give one that fails. */
  program?: string;
}

/**
 * The posts' texts in the order of `files`, a batch at a time. For a big site a worker thread reads
 * while the caller parses what came before: the file system calls are half of a cached scan's time and
 * the parsing the other half, and on two cores they need not wait for each other. Where no thread can
 * be started (Node's permission model without --allow-worker, a runtime without eval workers) or the
 * thread fails, the posts it did not send are read in this one: a thread only ever makes it faster.
 */
export async function* readPosts(
  root: string,
  files: string[],
  { threadFrom = THREAD_FROM, program = READER }: ReadPostsOptions = {},
): AsyncGenerator<PostRead[]> {
  let next = 0;
  const worker = files.length >= threadFrom && files.length > HEAD ? startReader(program, root, files.slice(HEAD)) : undefined;
  if (worker) {
    // Listening from the start keeps the batches that come while this thread reads the first posts.
    // 'exit' ends the iteration, so a thread that stopped early is not waited on; 'error' throws.
    const batches = on(worker, 'message', { close: ['exit'] }) as AsyncIterableIterator<[Array<string | { code: string }>]>;
    try {
      yield* readHere(root, files, 0, HEAD);
      next = HEAD;
      for await (const [texts] of batches) {
        yield texts.map((text, i) => (typeof text === 'string' ? { file: files[next + i]!, text } : { file: files[next + i]!, code: text.code }));
        next += texts.length;
        if (next === files.length) break;
      }
    } catch {
      // Read below from where the thread stopped.
    } finally {
      await worker.terminate();
    }
  }
  yield* readHere(root, files, next, files.length);
}

/** Reads `files[from…to)` in this thread, a batch at a time. */
function* readHere(root: string, files: string[], from: number, to: number): Generator<PostRead[]> {
  for (let start = from; start < to; start += BATCH) yield files.slice(start, Math.min(start + BATCH, to)).map((file) => readPost(root, file));
}

function startReader(program: string, root: string, files: string[]): Worker | undefined {
  try {
    // Without the process's flags: its loaders (tsx, a test runner's) would only slow the thread's start.
    return new Worker(program, { eval: true, execArgv: [], workerData: { root, files, batch: BATCH } });
  } catch {
    return undefined;
  }
}
