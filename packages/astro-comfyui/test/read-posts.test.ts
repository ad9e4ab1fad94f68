import fs, { existsSync, readdirSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PostRead, readPosts } from '../src/read-posts.js';

let root: string;
let files: string[];
// One site for every test: none of them writes to it.
beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'read-posts-'));
  await mkdir(path.join(root, 'blog'));
  // The first 2,000 posts are read in this thread while the reader starts, the rest by the reader, in
  // batches of 500. Both parts have what must come back exactly: a BOM, non-ASCII text, an empty post and
  // a folder named like a post (EISDIR); the last post is deleted after it was listed (ENOENT).
  files = [];
  for (let i = 0; i < 2703; i++) {
    const file = `blog/p${String(i).padStart(4, '0')}.md`;
    files.push(file);
    const text = `${i % 2000 === 3 ? '\uFEFF' : ''}---\nimage: "a fjord at dawn, Ålesund ${i} 🌅"\n---\n`;
    await writeFile(path.join(root, file), i % 2000 === 7 ? '' : text);
  }
  for (const folder of ['blog/p0500.md', 'blog/p2300.md']) {
    await rm(path.join(root, folder));
    await mkdir(path.join(root, folder));
  }
  await rm(path.join(root, 'blog/p2702.md'));
});
afterAll(() => rm(root, { recursive: true, force: true }));

/** What reading the posts one by one gives. */
async function readOneByOne(): Promise<PostRead[]> {
  const read: PostRead[] = [];
  for (const file of files) {
    const text = await readFile(path.join(root, file), 'utf8').catch((error: NodeJS.ErrnoException) => ({ code: error.code! }));
    read.push(typeof text === 'string' ? { file, text } : { file, ...text });
  }
  return read;
}

const messagePorts = () => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length;

/** The batches readPosts gives, and the posts this thread read itself (readFileSync, counted). */
async function readAll(threadFrom: number): Promise<{ batches: PostRead[][]; readHere: number }> {
  const original = fs.readFileSync;
  let readHere = 0;
  fs.readFileSync = ((...args: Parameters<typeof original>) => {
    if (String(args[0]).startsWith(root)) readHere++;
    return original(...args);
  }) as typeof original;
  // The named import of read-posts.ts sees the replacement only once the builtin's exports are synced.
  syncBuiltinESMExports();
  try {
    const batches: PostRead[][] = [];
    for await (const batch of readPosts(root, files, { threadFrom })) batches.push(batch);
    return { batches, readHere };
  } finally {
    fs.readFileSync = original;
    syncBuiltinESMExports();
  }
}

describe('readPosts', () => {
  it('hands back every post of a big site in order, as read one by one, with the error of each post it cannot read', async () => {
    const expected = await readOneByOne();
    expect(expected[2300]).toEqual({ file: 'blog/p2300.md', code: 'EISDIR' });
    expect(expected[2702]).toEqual({ file: 'blog/p2702.md', code: 'ENOENT' });

    const before = messagePorts();
    const threaded = await readAll(0);
    // This thread read the first 2,000 posts, the reader thread the rest, and it is gone once they are in.
    expect(threaded.readHere).toBe(2000);
    expect(messagePorts()).toBe(before);
    expect(threaded.batches.map((batch) => batch.length)).toEqual([500, 500, 500, 500, 500, 203]);
    expect(threaded.batches.flat()).toEqual(expected);

    const inline = await readAll(Number.POSITIVE_INFINITY);
    expect(inline.readHere).toBe(2703);
    expect(inline.batches.flat()).toEqual(expected);
  });

  // The OS threads of this process are listed in /proc on Linux (CI) only.
  it.skipIf(!existsSync('/proc/self/task'))('stops the thread when the caller stops reading early', async () => {
    // The threads of this process: the reader's is gone as soon as the loop is left, though
    // reading 135,000 posts would keep it busy for a second.
    const threads = () => readdirSync('/proc/self/task').length;
    const before = threads();
    const many = Array.from({ length: 50 }, () => files).flat();
    for await (const batch of readPosts(root, many, { threadFrom: 0 })) {
      expect(batch[0]!.file).toBe('blog/p0000.md');
      expect(threads()).toBeGreaterThan(before);
      break;
    }
    expect(threads()).toBe(before);
  });

  it('reads the posts the thread did not send itself when the thread fails, at once or midway', async () => {
    const expected = await readOneByOne();
    // Its texts are marked, so that the test can tell what it sent from what was read here.
    const failing = `
      const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
      const { readFileSync } = process.getBuiltinModule('node:fs');
      const { join } = process.getBuiltinModule('node:path');
      if (workerData.files.length > 600) throw new Error('the thread fails at once');
      parentPort.postMessage(workerData.files.slice(0, workerData.batch).map((file) => {
        try {
          return 'from the thread: ' + readFileSync(join(workerData.root, file), 'utf8');
        } catch (error) {
          return { code: error.code };
        }
      }));
      // Node does not deliver a message always before the error that follows it: failing a moment later,
      // as a thread that fails midway would, lets the batch arrive first.
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 300);
      throw new Error('the thread fails midway');
    `;
    const before = messagePorts();
    const read = async (list: string[]) => {
      const read: PostRead[] = [];
      for await (const batch of readPosts(root, list, { threadFrom: 0, program: failing })) read.push(...batch);
      return read;
    };
    expect(await read(files)).toEqual(expected);
    // Given 600 posts, the thread sends 500 and fails: the last 100 are read here.
    const marked = (r: PostRead) => ('text' in r ? { ...r, text: `from the thread: ${r.text}` } : r);
    expect(await read(files.slice(0, 2600))).toEqual([...expected.slice(0, 2000), ...expected.slice(2000, 2500).map(marked), ...expected.slice(2500, 2600)]);
    expect(messagePorts()).toBe(before);
  });

  it('reads the posts itself where Node does not allow threads (its permission model)', async () => {
    const dist = new URL('../dist/read-posts.js', import.meta.url).href;
    const script = `
      const { readPosts } = await import(${JSON.stringify(dist)});
      const read = [];
      for await (const batch of readPosts(${JSON.stringify(root)}, ${JSON.stringify(files)}, { threadFrom: 0 })) read.push(...batch);
      process.stdout.write(JSON.stringify(read.map((r) => r.code ?? r.text.length)));
    `;
    const { stdout } = await execa(process.execPath, ['--permission', '--allow-fs-read=*', '--input-type=module', '-e', script]);
    expect(JSON.parse(stdout)).toEqual((await readOneByOne()).map((r) => ('code' in r ? r.code : r.text.length)));
  });
});
