import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type PostRead, readPosts } from '../src/read-posts.js';

let root: string;
let files: string[];
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'read-posts-'));
  await mkdir(path.join(root, 'blog'));
  // More than two batches, with what a thread must hand back exactly: a BOM, non-ASCII text, an empty
  // post, a folder named like a post (EISDIR) and a post deleted after it was listed (ENOENT).
  files = [];
  for (let i = 0; i < 1203; i++) {
    const file = `blog/p${String(i).padStart(4, '0')}.md`;
    files.push(file);
    await writeFile(path.join(root, file), i === 7 ? '' : `${i === 3 ? '\uFEFF' : ''}---\nimage: "a fjord at dawn, Ålesund ${i} 🌅"\n---\n`);
  }
  await rm(path.join(root, 'blog/p0500.md'));
  await mkdir(path.join(root, 'blog/p0500.md'));
  await rm(path.join(root, 'blog/p1202.md'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

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

async function readAll(threadFrom: number, during?: () => void): Promise<PostRead[][]> {
  const batches: PostRead[][] = [];
  for await (const batch of readPosts(root, files, { threadFrom })) {
    during?.();
    batches.push(batch);
  }
  return batches;
}

describe('readPosts', () => {
  it('hands back every post of a big site in order, as read one by one, with the error of each post it cannot read', async () => {
    const expected = await readOneByOne();
    expect(expected[500]).toEqual({ file: 'blog/p0500.md', code: 'EISDIR' });
    expect(expected[1202]).toEqual({ file: 'blog/p1202.md', code: 'ENOENT' });

    const before = messagePorts();
    const threaded: number[] = [];
    const inThread = await readAll(0, () => threaded.push(messagePorts() - before));
    // A thread did the reading (its port is open while batches come) and is gone once they are all in.
    expect(threaded.every((open) => open === 1)).toBe(true);
    expect(messagePorts()).toBe(before);
    expect(inThread.map((batch) => batch.length)).toEqual([500, 500, 203]);
    expect(inThread.flat()).toEqual(expected);

    const here: number[] = [];
    const inline = await readAll(Number.POSITIVE_INFINITY, () => here.push(messagePorts() - before));
    expect(here.every((open) => open === 0)).toBe(true);
    expect(inline.flat()).toEqual(expected);
  });

  // The OS threads of this process are listed in /proc on Linux (CI) only.
  it.skipIf(!existsSync('/proc/self/task'))('stops the thread when the caller stops reading early', async () => {
    // The threads of this process: the reader's is gone as soon as the loop is left, though
    // reading 120,000 posts would keep it busy for a second.
    const threads = () => readdirSync('/proc/self/task').length;
    const before = threads();
    const many = Array.from({ length: 100 }, () => files).flat();
    for await (const batch of readPosts(root, many, { threadFrom: 0 })) {
      expect(batch[0]!.file).toBe('blog/p0000.md');
      expect(threads()).toBeGreaterThan(before);
      break;
    }
    expect(threads()).toBe(before);
  });

  it('reads the posts the thread did not send itself when the thread fails, at once or midway', async () => {
    const expected = await readOneByOne();
    const failing = `
      const { parentPort, workerData } = process.getBuiltinModule('node:worker_threads');
      const { readFileSync } = process.getBuiltinModule('node:fs');
      const { join } = process.getBuiltinModule('node:path');
      if (workerData.files.length > 1000) throw new Error('the thread fails at once');
      parentPort.postMessage(workerData.files.slice(0, workerData.batch).map((file) => readFileSync(join(workerData.root, file), 'utf8')));
      throw new Error('the thread fails midway');
    `;
    const before = messagePorts();
    const read = async (list: string[]) => {
      const batches: PostRead[][] = [];
      // Whether the thread was still there when each batch came: the first one midway comes from it.
      const fromThread: boolean[] = [];
      for await (const batch of readPosts(root, list, { threadFrom: 0, program: failing })) {
        fromThread.push(messagePorts() > before);
        batches.push(batch);
      }
      return { batches, fromThread };
    };
    const atOnce = await read(files);
    expect(atOnce.batches.flat()).toEqual(expected);
    expect(atOnce.fromThread.some(Boolean)).toBe(false);
    const midway = await read(files.slice(0, 1000));
    expect(midway.fromThread).toEqual([true, false]);
    expect(midway.batches.flat()).toEqual(expected.slice(0, 1000));
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
