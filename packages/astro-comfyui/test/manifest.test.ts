import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readManifest } from '../src/manifest.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'manifest-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

const key = 'ab'.repeat(32);
const entry = {
  file: `post-${key.slice(0, 12)}.png`,
  posts: ['src/content/blog/post.md'],
  prompt: 'a fox',
  negative: '',
  seed: 7,
  width: 1344,
  height: 768,
  workflow: 'sd35:large-turbo@1',
  model: { checkpoint: 'x.safetensors' },
  comfyuiVersion: null,
  created: '2026-01-01T00:00:00.000Z',
  durationMs: 1200,
  placeholder: false,
};
const write = (images: Record<string, unknown>) => writeFile(path.join(dir, 'images.lock.json'), JSON.stringify({ version: 1, images }));

describe('readManifest', () => {
  it('accepts a valid entry and refuses every kind of bad one, saying which field and why', async () => {
    await write({ [key]: entry });
    expect(Object.keys((await readManifest(path.join(dir, 'images.lock.json'))).images)).toEqual([key]);
    const bad: Array<[Record<string, unknown>, string, RegExp]> = [
      [entry, 'A'.repeat(64), /the key is not a sha256 hash/],
      [{ ...entry, file: '../x.png' }, key, /"file" must be a plain file name/],
      [{ ...entry, file: 'other-000000000000.png' }, key, /"file" must end with "-abababababab\.png"/],
      [{ ...entry, seed: -1 }, key, /"seed"/],
      [{ ...entry, seed: 1.5 }, key, /"seed"/],
      [{ ...entry, width: 0 }, key, /"width"/],
      [{ ...entry, posts: 'src/a.md' }, key, /"posts"/],
      [{ ...entry, model: [] }, key, /"model"/],
      [{ ...entry, comfyuiVersion: 3 }, key, /"comfyuiVersion"/],
      [{ ...entry, durationMs: -5 }, key, /"durationMs"/],
      [{ ...entry, placeholder: 'no' }, key, /"placeholder"/],
      [{ ...entry, prompt: undefined }, key, /"prompt"/],
    ];
    for (const [value, k, reason] of bad) {
      await write({ [k]: value });
      await expect(readManifest(path.join(dir, 'images.lock.json')), String(reason)).rejects.toThrow(reason);
    }
  });
});
