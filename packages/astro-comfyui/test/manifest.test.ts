import { mkdtemp, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readManifest, writeManifestFile, type Manifest, type ManifestEntry } from '../src/manifest.js';

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

describe('readManifest of a file no build wrote', () => {
  it('refuses one larger than any manifest before reading it, with the fix', async () => {
    const file = path.join(dir, 'images.lock.json');
    await write({ [key]: entry });
    await truncate(file, 300 * 1024 * 1024); // sparse: no disk is used
    await expect(readManifest(file)).rejects.toThrow(/images\.lock\.json is 300 MiB, more than any astro-comfyui writes \(256 MiB at most/);
  });
});

describe('the manifest layout', () => {
  const file = () => path.join(dir, 'images.lock.json');
  const turbo = { model: 'large-turbo', checkpoint: 'sd3.5_large_turbo.safetensors', steps: 4 };
  const other = { workflowFile: 'flow.json', bindings: { prompt: '6.text' } };
  const keyOf = (c: string) => c.repeat(64);
  const image = (k: string, model: Record<string, unknown>, extra: Partial<ManifestEntry> = {}): ManifestEntry => ({
    ...(entry as ManifestEntry),
    file: `post-${k.slice(0, 12)}.png`,
    model,
    ...extra,
  });

  it('lists each model setup once, puts one image per line in key order, and reads back the same entries', async () => {
    // Equal setups that are different objects (as after a merge) still share one id.
    const images = {
      [keyOf('c')]: image(keyOf('c'), { ...turbo }),
      [keyOf('a')]: image(keyOf('a'), turbo, { prompt: 'a "quoted" fox\nline' }),
      [keyOf('b')]: image(keyOf('b'), other),
    };
    await writeManifestFile(file(), { version: 2, images });
    const text = await readFile(file(), 'utf8');
    const lines = text.split('\n');
    expect(lines.slice(0, 3)).toEqual(['{', '  "version": 2,', '  "models": {']);
    const imageLines = lines.filter((line) => /^ {4}"[0-9a-f]{64}": \{/.test(line));
    expect(imageLines.map((line) => line.slice(5, 6))).toEqual(['a', 'b', 'c']);
    expect(text.match(/sd3\.5_large_turbo\.safetensors/g)).toHaveLength(1);
    expect(imageLines[0]).toMatch(/"model":"large-turbo-[0-9a-f]{12}"/);
    expect(imageLines[1]).toMatch(/"model":"[0-9a-f]{12}"/);
    const back = await readManifest(file());
    expect(back.images).toEqual(images);
    expect(back.images[keyOf('a')]!.model).toBe(back.images[keyOf('c')]!.model);
    // Writing what was read gives the same bytes: an unchanged manifest never shows up in a diff.
    await writeManifestFile(file(), back);
    expect(await readFile(file(), 'utf8')).toBe(text);
  });

  it('reads a manifest saved with a byte order mark (a Windows editor), as npm reads package.json', async () => {
    const images = { [keyOf('a')]: image(keyOf('a'), turbo) };
    await writeManifestFile(file(), { version: 2, images });
    await writeFile(file(), `\uFEFF${await readFile(file(), 'utf8')}`);
    expect((await readManifest(file())).images).toEqual(images);
  });

  it('reads a version 1 manifest (models inline) and writes it as version 2 with the same entries', async () => {
    const images = { [keyOf('a')]: image(keyOf('a'), turbo), [keyOf('b')]: image(keyOf('b'), other) };
    await writeFile(file(), `${JSON.stringify({ version: 1, images }, null, 2)}\n`);
    const v1: Manifest = await readManifest(file());
    expect(v1.images).toEqual(images);
    await writeManifestFile(file(), v1);
    expect(JSON.parse(await readFile(file(), 'utf8')).version).toBe(2);
    expect((await readManifest(file())).images).toEqual(images);
  });

  it('refuses an image naming a model setup that is not in the table, without looking past the table', async () => {
    for (const id of ['large-turbo-000000000000', '__proto__', 'toString']) {
      await writeFile(file(), JSON.stringify({ version: 2, models: {}, images: { [key]: { ...entry, model: id } } }));
      await expect(readManifest(file()), id).rejects.toThrow(`has an invalid entry "${key}": "model" names "${id}", which its "models" table does not define`);
    }
    await writeFile(file(), JSON.stringify({ version: 2, images: {} }));
    await expect(readManifest(file())).rejects.toThrow(/has no "models" table/);
    // A model written inline by hand is still a model.
    await writeFile(file(), JSON.stringify({ version: 2, models: {}, images: { [key]: entry } }));
    expect((await readManifest(file())).images[key]!.model).toEqual(entry.model);
  });
});
