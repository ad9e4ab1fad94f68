import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { collectPostImages, loadTemplate } from '../src/collect-post-images.js';
import { findImagesElsewhere } from '../src/find-images-elsewhere.js';
import { findOrphans } from '../src/find-orphans.js';
import { IMAGE_MODULE_PARTS, ImageIndex, partOf } from '../src/image-index.js';
import { vitePluginImages } from '../src/vite-plugin-images.js';
import type { Manifest, ManifestEntry } from '../src/manifest.js';
import { readManifest, writeManifestFile } from '../src/manifest.js';
import { ManifestWriter } from '../src/manifest-writer.js';
import { mergeManifestConflict, readManifestMergingConflict } from '../src/merge-manifest-conflict.js';
import { resolveOptions } from '../src/options.js';
import { withPngEntry } from '../src/png-entry.js';
import { setPngText } from '../src/png-text.js';
import { PNG_XMP_KEYWORD, provenanceXmp } from '../src/provenance-xmp.js';
import { withProvenanceService } from '../src/provenance-image-service.js';
import { postOfPage } from '../src/toolbar/read-panel-state.js';
import { generateCandidates, type ToolbarContext } from '../src/toolbar/toolbar-actions.js';
import { buildTestGraph } from '../../../test/helpers/sd35-graph.js';
import { encodePng } from '../../../test/fake-comfyui/encode-png.js';
import { TINY_PNG } from '../../../test/helpers/tiny-png.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'core-'));
  await mkdir(path.join(root, 'src/content/blog'), { recursive: true });
  await mkdir(path.join(root, 'src/assets/generated'), { recursive: true });
});
let cleanupOutside: string | undefined;
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
  if (cleanupOutside) await rm(cleanupOutside, { force: true });
  cleanupOutside = undefined;
});

const options = () => resolveOptions({ formats: { hero: { width: 64, height: 64 } } }, root, {});
const entryFor = (key: string, extra: Partial<ManifestEntry> = {}): ManifestEntry => ({
  file: `p-${key.slice(0, 12)}.png`,
  posts: ['src/content/blog/p.md'],
  prompt: 'x',
  negative: '',
  seed: 1,
  width: 64,
  height: 64,
  workflow: 'sd35:large-turbo@1',
  model: {},
  comfyuiVersion: null,
  created: '2026-01-01T00:00:00.000Z',
  durationMs: 0,
  placeholder: false,
  ...extra,
});

describe('mergeManifestConflict', () => {
  const [a, b, c] = ['a', 'b', 'c'].map((x) => x.repeat(64)) as [string, string, string];
  const turbo = { model: 'large-turbo', steps: 4 };
  const manifestFile = () => path.join(root, 'src/assets/generated/images.lock.json');
  /** A layout 1 manifest whose images git left in conflict: our lines, then theirs (diff3 adds an empty base). */
  const conflicted = (ours: string[], theirs: string[], { diff3 = false } = {}) =>
    [
      '{',
      '  "version": 1,',
      '  "images": {',
      '<<<<<<< HEAD',
      ...ours,
      ...(diff3 ? ['||||||| base'] : []),
      '=======',
      ...theirs,
      '>>>>>>> theirs',
      '  }',
      '}',
      '',
    ].join('\n');
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...args], { cwd: root, encoding: 'utf8' });

  it('merges both sides of a conflict, repairs the commas git leaves, and prefers a real image to a placeholder', async () => {
    const file = manifestFile();
    const ours = JSON.stringify({ [a]: entryFor(a), [c]: entryFor(c, { placeholder: true, posts: ['src/content/blog/one.md'] }) }, null, 2);
    const theirs = JSON.stringify({ [b]: entryFor(b), [c]: entryFor(c, { created: '2026-02-01T00:00:00.000Z', posts: ['src/content/blog/two.md'] }) }, null, 2);
    // A diff3-style conflict inside the images object, as git writes it.
    const text = conflicted(ours.split('\n').slice(1, -1), theirs.split('\n').slice(1, -1), { diff3: true });
    await writeFile(file, text);
    await expect(readManifest(file)).rejects.toThrow(/unresolved git merge conflicts/);
    expect(await mergeManifestConflict(file, path.join(root, 'lock'))).toEqual({ madeOnBothSides: [] });
    const merged = await readManifest(file);
    expect(Object.keys(merged.images).sort()).toEqual([a, b, c]);
    expect(merged.images[c]).toMatchObject({ placeholder: false, posts: ['src/content/blog/one.md', 'src/content/blog/two.md'] });
    expect(await readFile(file, 'utf8')).not.toMatch(/^[<=>|]{7}/m);
    expect(await mergeManifestConflict(file, path.join(root, 'lock'))).toBeUndefined();

    // How builds and prune read it: merged only where allowed, and only when the read found the conflict.
    await writeFile(file, text);
    let merges = 0;
    const read = (merge: boolean) => readManifestMergingConflict(file, path.join(root, 'lock'), { merge, onMerged: () => merges++ });
    await expect(read(false)).rejects.toMatchObject({ code: 'MANIFEST_CONFLICT' });
    expect(Object.keys((await read(true)).images).sort()).toEqual([a, b, c]);
    expect(Object.keys((await read(true)).images).sort()).toEqual([a, b, c]);
    expect(merges).toBe(1);
    await writeFile(file, '{ "version": 1, "images": { ');
    await expect(read(true)).rejects.toMatchObject({ code: 'MANIFEST_CORRUPT' });
  });

  it('describes the image file git left in place when both sides made the same image, and says so', async () => {
    const file = manifestFile();
    const lines = (images: Record<string, ManifestEntry>) => JSON.stringify(images, null, 2).split('\n').slice(1, -1);
    const older = { created: '2026-01-01T00:00:00.000Z', posts: ['src/content/blog/one.md'] };
    const newer = { created: '2026-02-01T00:00:00.000Z', posts: ['src/content/blog/two.md'] };
    const inPlace = (key: string, entry: ManifestEntry) => writeFile(path.join(root, 'src/assets/generated', entry.file), withPngEntry(TINY_PNG, key, entry));

    // Both real: git kept our (older) file, so the manifest keeps our entry, not their newer one.
    const [ours, theirs] = [entryFor(a, older), entryFor(a, { ...newer, durationMs: 900 })];
    await inPlace(a, ours);
    await writeFile(file, conflicted(lines({ [a]: ours }), lines({ [a]: theirs })));
    expect(await mergeManifestConflict(file, path.join(root, 'lock'))).toEqual({
      madeOnBothSides: [{ file: ours.file, placeholder: false, otherSide: 'theirs', otherIsReal: true }],
    });
    expect((await readManifest(file)).images[a]).toEqual({ ...ours, posts: ['src/content/blog/one.md', 'src/content/blog/two.md'] });

    // Our placeholder against their real image, with their file taken in git: theirs is listed.
    const placeholder = entryFor(b, { ...newer, placeholder: true });
    const real = entryFor(b, older);
    await inPlace(b, real);
    await writeFile(file, conflicted(lines({ [b]: placeholder }), lines({ [b]: real })));
    expect(await mergeManifestConflict(file, path.join(root, 'lock'))).toEqual({
      madeOnBothSides: [{ file: real.file, placeholder: false, otherSide: 'ours', otherIsReal: false }],
    });
    expect((await readManifest(file)).images[b]).toMatchObject({ placeholder: false, created: older.created });

    // Our placeholder kept in place: the manifest must not call it real, and the report says theirs is.
    await inPlace(b, placeholder);
    await writeFile(file, conflicted(lines({ [b]: placeholder }), lines({ [b]: real })));
    expect(await mergeManifestConflict(file, path.join(root, 'lock'))).toEqual({
      madeOnBothSides: [{ file: real.file, placeholder: true, otherSide: 'theirs', otherIsReal: true }],
    });
    expect((await readManifest(file)).images[b]).toMatchObject({ placeholder: true, created: newer.created });
  });

  it("repairs only the joins between entries, never a prompt's text that looks like one", async () => {
    const file = manifestFile();
    const prompt = 'a sign that reads {ok, } beside a list [one, ]';
    // Our side keeps the comma after its last entry: git's merge left it before the closing brace.
    const text = conflicted(
      [`    ${JSON.stringify(a)}: ${JSON.stringify(entryFor(a, { prompt, negative: 'blur, ]' }))},`],
      [`    ${JSON.stringify(b)}: ${JSON.stringify(entryFor(b))}`],
    );
    await writeFile(file, text);
    expect(await mergeManifestConflict(file, path.join(root, 'lock'))).toEqual({ madeOnBothSides: [] });
    const merged = await readManifest(file);
    expect(Object.keys(merged.images)).toEqual([a, b]);
    expect(merged.images[a]).toMatchObject({ prompt, negative: 'blur, ]' });
  });

  it('merges a real git conflict of two branches that each added an image with a model setup of their own', async () => {
    const file = manifestFile();
    const write = (images: Record<string, ManifestEntry>) => writeManifestFile(file, { version: 2, images });
    await write({ [a]: entryFor(a, { model: turbo }) });
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-qm', 'base');
    git('checkout', '-qb', 'left');
    await write({ [a]: entryFor(a, { model: turbo }), [b]: entryFor(b, { model: { model: 'large', steps: 40 } }) });
    git('commit', '-qam', 'left');
    git('checkout', '-q', 'main');
    await write({ [a]: entryFor(a, { model: turbo }), [c]: entryFor(c, { model: { model: 'medium', steps: 40 } }) });
    git('commit', '-qam', 'right');
    expect(() => git('merge', 'left')).toThrow();
    const text = await readFile(file, 'utf8');
    // Both new setups and both new images are in git's conflict: each side has one of each.
    expect(text).toMatch(/^<{7}[\s\S]*"medium-[0-9a-f]{12}"[\s\S]*"c{64}"[\s\S]*^={7}[\s\S]*"large-[0-9a-f]{12}"[\s\S]*"b{64}"[\s\S]*^>{7}/m);
    expect(await mergeManifestConflict(file, path.join(root, 'lock'))).toEqual({ madeOnBothSides: [] });
    const merged = await readManifest(file);
    expect(Object.keys(merged.images)).toEqual([a, b, c]);
    expect([a, b, c].map((k) => merged.images[k]!.model)).toEqual([turbo, { model: 'large', steps: 40 }, { model: 'medium', steps: 40 }]);
  });

  it('merges a branch still on layout 1 into one that moved to layout 2 (a team upgrading)', async () => {
    const file = manifestFile();
    const v1 = (images: Record<string, ManifestEntry>) => writeFile(file, `${JSON.stringify({ version: 1, images }, null, 2)}\n`);
    await v1({ [a]: entryFor(a, { model: turbo }) });
    git('init', '-q', '-b', 'main');
    git('add', '-A');
    git('commit', '-qm', 'base, layout 1');
    git('checkout', '-qb', 'not-upgraded');
    await v1({ [a]: entryFor(a, { model: turbo }), [c]: entryFor(c, { model: turbo }) });
    git('commit', '-qam', 'c, written by 0.1');
    git('checkout', '-q', 'main');
    await writeManifestFile(file, { version: 2, images: { [a]: entryFor(a, { model: turbo }), [b]: entryFor(b, { model: turbo }) } });
    git('commit', '-qam', 'b, written in layout 2');
    expect(() => git('merge', 'not-upgraded')).toThrow();
    expect(await mergeManifestConflict(file, path.join(root, 'lock'))).toEqual({ madeOnBothSides: [] });
    const merged = await readManifest(file);
    expect(Object.keys(merged.images)).toEqual([a, b, c]);
    expect(merged.images[c]!.model).toEqual(turbo);
    expect(JSON.parse(await readFile(file, 'utf8')).version).toBe(2);
  });
});

describe('ManifestWriter', () => {
  const [a, b] = ['a', 'b'].map((x) => x.repeat(64)) as [string, string];
  const file = () => path.join(root, 'src/assets/generated/images.lock.json');

  it('keeps the entries of a write that failed and writes them with the next one, which reports its own failure', async () => {
    const writer = new ManifestWriter(file(), path.join(root, 'lock'), { delayMs: 10 });
    // A manifest that cannot be read (a hand edit mid-way): the batched write in the background fails.
    await writeFile(file(), '{ "version": 2, ');
    writer.add(a, entryFor(a));
    await new Promise((resolve) => setTimeout(resolve, 100));
    writer.add(b, entryFor(b));
    await expect(writer.flush()).rejects.toMatchObject({ code: 'MANIFEST_CORRUPT' });
    await rm(file());
    await writer.flush();
    expect(Object.keys((await readManifest(file())).images)).toEqual([a, b]);
  });
});

describe('withProvenanceService', () => {
  const sharp = { entrypoint: 'astro/assets/services/sharp', config: { limitInputPixels: false } };
  const cdn = { entrypoint: 'my-image-cdn-service', config: {} };
  const ours = { entrypoint: 'astro-comfyui/image-service', config: { limitInputPixels: false } };

  it("replaces Astro's sharp service by astro-comfyui's, with its config, and says which services it leaves", () => {
    expect(withProvenanceService(sharp)).toEqual({ setting: ours, others: [] });
    const other = withProvenanceService(cdn);
    expect(other.setting).toBeUndefined();
    expect(other.others).toEqual([
      expect.stringMatching(/^image\.service is "my-image-cdn-service", not Astro's sharp service: .* will not carry their provenance XMP/),
    ]);
  });

  it('replaces each sharp service of a build/runtime pair (Astro 7.4+), and names the side it leaves', () => {
    expect(withProvenanceService({ build: sharp, runtime: sharp })).toEqual({ setting: { build: ours, runtime: ours }, others: [] });
    const mixed = withProvenanceService({ build: sharp, runtime: cdn });
    expect(mixed.setting).toEqual({ build: ours, runtime: cdn });
    expect(mixed.others).toEqual([expect.stringMatching(/^image\.service\.runtime is "my-image-cdn-service".*\(on-demand pages\)/)]);
    const neither = withProvenanceService({ build: cdn, runtime: cdn });
    expect(neither.setting).toBeUndefined();
    expect(neither.others.map((line) => line.split(' is ')[0])).toEqual(['image.service.build', 'image.service.runtime']);
  });
});

describe('ImageIndex', () => {
  const parts = (index: ImageIndex) => Array.from({ length: IMAGE_MODULE_PARTS }, (_, n) => index.toPartModule(n));

  it('imports exactly the committed images of current posts, each post in its part, with their alt', async () => {
    await writeFile(path.join(root, 'src/content/blog/b.md'), '---\nimages:\n  - { prompt: "second", alt: "Alt \\"two\\"" }\n  - "third"\n---\n');
    await writeFile(path.join(root, 'src/content/blog/a.md'), '---\nimage: "first"\n---\n');
    const o = options();
    const { images } = await collectPostImages(o);
    const manifest: Manifest = { version: 2, images: {} };
    for (const image of images.filter((i) => i.request.prompt !== 'third')) manifest.images[image.key] = entryFor(image.key, { file: image.fileName });
    const index = new ImageIndex();
    index.update(images, manifest, o.outDir, new Set(images.map((i) => i.fileName)));
    const all = parts(index);
    expect(all.join('').match(/^import i\d+ from /gm)).toHaveLength(2);
    const partA = all[partOf('src/content/blog/a.md')]!;
    const partB = all[partOf('src/content/blog/b.md')]!;
    const fileA = images.find((i) => i.request.prompt === 'first')!.fileName;
    expect(partA).toContain(`"src/content/blog/a.md": [{ get src() { shown.add("${fileA}"); return i0; }, alt: "first", prompt: "first", index: 0`);
    expect(partB).toContain('alt: "Alt \\"two\\"", prompt: "second", index: 0');
    expect(all.join('')).not.toContain('third');
    // The module pages import joins every part.
    const joined = index.toModule((n) => `part/${n}`);
    expect(joined.match(/^import \{ images as p\d+ \} from "part\/\d+";$/gm)).toHaveLength(IMAGE_MODULE_PARTS);
  });

  it('marks changed exactly the parts whose module changed, so dev reloads only those', async () => {
    const o = options();
    const index = new ImageIndex();
    let before = parts(index);
    const manifest: Manifest = { version: 2, images: {} };
    const files = new Set<string>();
    /** Writes the posts, commits what `commit` says, updates the index; the parts it marked changed. */
    const step = async (posts: Record<string, string>, commit: (key: string, fileName: string) => void = () => {}) => {
      for (const [name, text] of Object.entries(posts)) {
        const file = path.join(root, 'src/content/blog', name);
        if (text === '') await rm(file);
        else await writeFile(file, text);
      }
      const { images } = await collectPostImages(o);
      for (const image of images) commit(image.key, image.fileName);
      index.update(images, manifest, o.outDir, files);
      const marked = index.takeChangedParts();
      const after = parts(index);
      expect(marked, JSON.stringify(posts)).toEqual(after.flatMap((text, n) => (text !== before[n] ? [n] : [])));
      before = after;
      return marked.length;
    };
    const commit = (placeholder: boolean) => (key: string, file: string) => {
      manifest.images[key] = entryFor(key, { file, placeholder });
      files.add(file);
    };
    // Two posts in different parts: a change of one leaves the other's part alone.
    const [one, two] = ['kite.md', 'boat.md'];
    expect(partOf(`src/content/blog/${one}`)).not.toBe(partOf(`src/content/blog/${two}`));
    expect(await step({ [one]: '---\nimage: "a kite"\n---\nFirst words.\n', [two]: '---\nimage: "a boat"\n---\n' })).toBe(0);
    expect(await step({}, commit(true))).toBe(2);
    expect(await step({ [one]: '---\nimage: "a kite"\n---\nOther words: only the text changed.\n' })).toBe(0);
    expect(await step({}, commit(false))).toBe(2);
    expect(await step({ [one]: '---\nimage: { prompt: "a kite", alt: "A red kite" }\n---\n' })).toBe(1);
    expect(await step({ [two]: '---\nimages: ["a boat", "a kite"]\n---\n' }, commit(false))).toBe(1);
    expect(await step({ [two]: '---\nimages: ["a boat", "a kite"]\n---\nStill two images.\n' })).toBe(0);
    expect(await step({ [one]: '---\ntitle: no image any more\n---\n' })).toBe(1);
    expect(await step({ [two]: '' })).toBe(1);
  });

  it('updates some posts only as a whole update would, leaving the others as they are', async () => {
    const o = options();
    const file = (name: string) => path.join(root, 'src/content/blog', name);
    await writeFile(file('kite.md'), '---\nimage: "a kite"\n---\n');
    await writeFile(file('boat.md'), '---\nimage: "a boat"\n---\n');
    await writeFile(file('fox.md'), '---\nimage: "a fox"\n---\n');
    const manifest: Manifest = { version: 2, images: {} };
    const files = new Set<string>();
    const commitAll = (images: Awaited<ReturnType<typeof collectPostImages>>['images']) => {
      for (const image of images) {
        manifest.images[image.key] = entryFor(image.key, { file: image.fileName });
        files.add(image.fileName);
      }
    };
    const first = (await collectPostImages(o)).images;
    commitAll(first);
    const whole = new ImageIndex();
    const some = new ImageIndex();
    for (const index of [whole, some]) {
      index.update(first, manifest, o.outDir, files);
      index.takeChangedParts();
    }
    // The kite gets an alt and the boat post is deleted; the fox post is not named, and not passed.
    await writeFile(file('kite.md'), '---\nimage: { prompt: "a kite", alt: "A red kite" }\n---\n');
    await rm(file('boat.md'));
    const now = (await collectPostImages(o)).images;
    whole.update(now, manifest, o.outDir, files);
    const named = ['src/content/blog/kite.md', 'src/content/blog/boat.md'];
    some.updatePosts(
      named,
      now.filter((image) => named.includes(image.request.post)),
      manifest,
      o.outDir,
      files,
    );
    expect(some.takeChangedParts()).toEqual(whole.takeChangedParts());
    expect(parts(some)).toEqual(parts(whole));
    expect(parts(some).join('')).toContain('alt: "A red kite"');
    expect(parts(some).join('')).toContain('"src/content/blog/fox.md"');
    expect(parts(some).join('')).not.toContain('boat.md');
  });

  it('in dev, writes out the size of each committed PNG in its part instead of importing it, where Vite serves the folder', async () => {
    const o = options();
    await writeFile(path.join(root, 'src/content/blog/a.md'), '---\nimage: "a wide one"\n---\n');
    await writeFile(path.join(root, 'src/content/blog/b.md'), '---\nimage: "not a png"\n---\n');
    const { images } = await collectPostImages(o);
    const manifest: Manifest = { version: 2, images: {} };
    for (const image of images) manifest.images[image.key] = entryFor(image.key, { file: image.fileName });
    const fileOf = (prompt: string) => path.join(o.outDir, images.find((i) => i.request.prompt === prompt)!.fileName);
    await writeFile(fileOf('a wide one'), encodePng(3, 2, new Uint8Array(18)));
    await writeFile(fileOf('not a png'), 'GIF89a, or anything else');
    const index = new ImageIndex();
    index.update(images, manifest, o.outDir, new Set(images.map((i) => i.fileName)));
    const partModule = async (dev: boolean, command: string, allow: string[]) => {
      const plugin = vitePluginImages(() => index, o, { dev });
      (plugin.configResolved as (config: unknown) => void)({ command, server: { fs: { strict: true, allow } } });
      const load = plugin.load as { handler: (id: string) => Promise<string> };
      return (post: string) => load.handler(`\0virtual:astro-comfyui/images/${partOf(post)}`);
    };
    const inDev = await partModule(true, 'serve', [root]);
    const wide = fileOf('a wide one').split(path.sep).join('/');
    expect(await inDev('src/content/blog/a.md')).toContain(
      `const i0 = {"src":"/@fs${wide.startsWith('/') ? '' : '/'}${wide}?origWidth=3&origHeight=2&origFormat=png","width":3,"height":2,"format":"png"};`,
    );
    // What is not a PNG is left to Astro's import, which reads (or reports) it.
    expect(await inDev('src/content/blog/b.md')).toMatch(/^import i0 from ".*\.png";$/m);
    // A folder Vite would not serve, a build, or a Vite server of a build: every image imported.
    for (const other of [
      await partModule(true, 'serve', [path.join(root, 'src/pages')]),
      await partModule(false, 'build', [root]),
      await partModule(false, 'serve', [root]),
    ]) {
      expect(await other('src/content/blog/a.md')).toMatch(/^import i0 from ".*\.png";$/m);
    }
  });

  it('marks the part of an image added in dev', async () => {
    await writeFile(path.join(root, 'src/content/blog/a.md'), '---\nimage: "first"\n---\n');
    const o = options();
    const { images } = await collectPostImages(o);
    const index = new ImageIndex();
    index.add(images[0]!, o.outDir, false);
    expect(index.takeChangedParts()).toEqual([partOf('src/content/blog/a.md')]);
    expect(index.takeChangedParts()).toEqual([]);
  });
});

describe('findOrphans', () => {
  it('lists entries no post uses and stray files, but never a file named for an image a post uses', async () => {
    await writeFile(path.join(root, 'src/content/blog/a.md'), '---\nimage: "used"\n---\n');
    const o = options();
    const { images } = await collectPostImages(o);
    const used = images[0]!;
    const unusedKey = 'd'.repeat(64);
    const strayKey = '0'.repeat(64);
    const manifest: Manifest = { version: 2, images: { [unusedKey]: entryFor(unusedKey) } };
    // As astro-comfyui writes them: the entry inside, after the provenance XMP.
    const made = (key: string) => setPngText(withPngEntry(TINY_PNG, key, entryFor(key)), PNG_XMP_KEYWORD, provenanceXmp(key, entryFor(key))!);
    await writeFile(path.join(o.outDir, used.fileName), made(used.key));
    await writeFile(path.join(o.outDir, `old-${unusedKey.slice(0, 12)}.png`), made(unusedKey));
    await writeFile(path.join(o.outDir, 'stray-000000000000.png'), made(strayKey));
    await writeFile(path.join(o.outDir, 'notes.txt'), '');
    // Written before images carried their entry: ComfyUI's graph (a tEXt chunk, as ComfyUI writes it) saved under our prefix.
    const graph = (prefix: string) => JSON.stringify({ '9': { class_type: 'SaveImage', inputs: { filename_prefix: prefix, images: ['8', 0] } } });
    const pixels = new Uint8Array([1, 2, 3]);
    await writeFile(path.join(o.outDir, 'older-aaaaaaaaaaaa.png'), encodePng(1, 1, pixels, { prompt: graph('astro-comfyui/aaaaaaaaaaaa') }));
    // The author's own pictures in the same folder, even one named like a generated image or made with ComfyUI by hand: never strays.
    await writeFile(path.join(o.outDir, 'logo.png'), TINY_PNG);
    await writeFile(path.join(o.outDir, 'photo-0123456789ab.png'), TINY_PNG);
    await writeFile(path.join(o.outDir, 'by-hand-bbbbbbbbbbbb.png'), encodePng(1, 1, pixels, { prompt: graph('ComfyUI') }));
    await writeFile(path.join(o.outDir, 'empty.png'), '');
    const orphans = await findOrphans(images, manifest, o);
    expect(orphans.entries).toEqual([{ key: unusedKey, file: `p-${unusedKey.slice(0, 12)}.png` }]);
    expect(orphans.strayFiles).toEqual([`old-${unusedKey.slice(0, 12)}.png`, 'older-aaaaaaaaaaaa.png', 'stray-000000000000.png']);
  });

  it('keeps apart, as unread, an entry whose recorded post is still in the project outside the content globs', async () => {
    await mkdir(path.join(root, 'src/drafts'), { recursive: true });
    await writeFile(path.join(root, 'src/drafts/later.md'), '---\nimage: "later"\n---\n');
    await writeFile(path.join(path.dirname(root), `${path.basename(root)}-outside.md`), '');
    cleanupOutside = path.join(path.dirname(root), `${path.basename(root)}-outside.md`);
    const [draft, gone, climbing, absolute] = ['1', '2', '3', '4'].map((x) => x.repeat(64)) as [string, string, string, string];
    const manifest: Manifest = {
      version: 2,
      images: {
        [draft]: entryFor(draft, { posts: ['src/content/blog/deleted.md', 'src/drafts/later.md'] }),
        [gone]: entryFor(gone, { posts: ['src/content/blog/deleted.md'] }),
        // A hand-edited manifest cannot keep an image by naming a file outside the project.
        [climbing]: entryFor(climbing, { posts: [`../${path.basename(root)}-outside.md`] }),
        [absolute]: entryFor(absolute, { posts: [path.join(root, 'src/drafts/later.md')] }),
      },
    };
    const orphans = await findOrphans([], manifest, options());
    expect(orphans.unread).toEqual([{ key: draft, file: entryFor(draft).file, post: 'src/drafts/later.md' }]);
    expect(orphans.entries.map((e) => e.key).sort()).toEqual([gone, climbing, absolute].sort());
  });
});

describe("generateCandidates with an author's workflow", () => {
  it('refuses several candidates when the workflow binds no seed: they would be one picture', async () => {
    await writeFile(path.join(root, 'flow.json'), JSON.stringify(buildTestGraph()));
    const o = resolveOptions({ workflow: { file: 'flow.json', bindings: { prompt: '3.inputs.text' } } }, root, {});
    const message = { requestId: 'generate-0001', post: 'src/content/blog/a.md', target: 'image', prompt: 'a fox', seed: 1, count: 2 };
    const context = { options: o } as unknown as ToolbarContext;
    await expect(generateCandidates(context, message, () => {})).rejects.toThrow(
      'flow.json binds no "seed", so every candidate would be the same picture. Ask for 1, or bind the sampler\'s seed in workflow.bindings.',
    );
  });
});

describe('findImagesElsewhere', () => {
  const manifestWith = async (file: string, count: number) => {
    await mkdir(path.dirname(file), { recursive: true });
    const keys = Array.from({ length: count }, (_, i) =>
      String(i + 1)
        .repeat(64)
        .slice(0, 64),
    );
    await writeManifestFile(file, { version: 2, images: Object.fromEntries(keys.map((key) => [key, entryFor(key)])) });
  };

  it('finds the committed images of a moved images folder, and says how many and where', async () => {
    await manifestWith(path.join(root, 'src/images/images.lock.json'), 3);
    const found = await findImagesElsewhere(2, options(), new Set());
    expect(found?.message).toBe(
      'src/assets/generated (the images folder, outDir) has no images.lock.json, but src/images/images.lock.json lists 3 images: 2 images would be made again instead of using them.',
    );
    expect(found?.hint).toContain('set outDir back to "src/images"');
  });

  it("answers nothing for a site's first images, an empty manifest, another package's site, or a folder that has its manifest", async () => {
    expect(await findImagesElsewhere(2, options(), new Set())).toBeUndefined();
    const fresh = await mkdtemp(path.join(tmpdir(), 'elsewhere-'));
    try {
      await manifestWith(path.join(fresh, 'src/old/images.lock.json'), 0);
      await mkdir(path.join(fresh, 'docs'));
      await writeFile(path.join(fresh, 'docs/package.json'), '{}');
      await manifestWith(path.join(fresh, 'docs/src/assets/generated/images.lock.json'), 2);
      // Nor through a symlinked folder: another project's images, or a link to a parent that never ends.
      await manifestWith(path.join(root, 'linked/images.lock.json'), 3);
      await symlink(path.join(root, 'linked'), path.join(fresh, 'shared'));
      await symlink(fresh, path.join(fresh, 'loop'));
      const o = resolveOptions({}, fresh, {});
      expect(await findImagesElsewhere(2, o, new Set())).toBeUndefined();
      await manifestWith(path.join(fresh, 'src/moved/images.lock.json'), 1);
      // Its own manifest listed in the folder, or nothing missing: nothing to look for.
      expect(await findImagesElsewhere(2, resolveOptions({ outDir: 'src/new' }, fresh, {}), new Set(['images.lock.json']))).toBeUndefined();
      expect(await findImagesElsewhere(0, resolveOptions({ outDir: 'src/new' }, fresh, {}), new Set())).toBeUndefined();
      expect((await findImagesElsewhere(1, resolveOptions({ outDir: 'src/new' }, fresh, {}), new Set()))?.message).toContain(
        'src/moved/images.lock.json lists 1 image: 1 image would be made again instead of using it.',
      );
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });
});

describe('postOfPage', () => {
  const posts = [
    'src/content/blog/en/harbour.md',
    'src/content/blog/fr/harbour.md',
    'src/content/blog/harbour.md',
    'src/content/blog/notes/index.md',
    'src/content/blog/Été à Brest.md',
  ];
  it("finds the page's post by its whole path, a whole name before a partial one", () => {
    expect(postOfPage(posts, '/fr/harbour/')).toBe('src/content/blog/fr/harbour.md');
    expect(postOfPage(posts, '/blog/en/harbour')).toBe('src/content/blog/en/harbour.md');
    expect(postOfPage(posts, '/harbour/')).toBe('src/content/blog/harbour.md');
    expect(postOfPage(posts, '/notes/')).toBe('src/content/blog/notes/index.md');
    expect(postOfPage(posts, '/ete-a-brest/')).toBe('src/content/blog/Été à Brest.md');
  });
  it("leaves the site's base out of the page's path: under base '/harbour' the home page is no post's", () => {
    expect(postOfPage(posts, '/harbour/', undefined, '/harbour')).toBeNull();
    expect(postOfPage(posts, '/harbour', undefined, '/harbour/')).toBeNull();
    expect(postOfPage(posts, '/harbour/fr/harbour/', undefined, '/harbour')).toBe('src/content/blog/fr/harbour.md');
    expect(postOfPage(posts, '/harbour/harbour/', undefined, '/harbour/')).toBe('src/content/blog/harbour.md');
    // Only whole segments are the base: /en/harbour/ is not under /e.
    expect(postOfPage(posts, '/en/harbour/', undefined, '/e')).toBe('src/content/blog/en/harbour.md');
    expect(postOfPage(posts, '/notes/', undefined, '/harbour')).toBe('src/content/blog/notes/index.md');
  });
  it('gives no answer rather than a guess', () => {
    expect(postOfPage(posts, '/')).toBeNull();
    expect(postOfPage(posts, '/about/')).toBeNull();
    expect(postOfPage(['a/en/harbour.md', 'a/fr/harbour.md'], '/de/harbour/')).toBeNull();
  });
  it("names a post by its frontmatter slug when it has one, as Astro's glob() loader does, not by its file", () => {
    const slugs: Record<string, string> = {
      'src/content/blog/2024-05-01-wall.md': 'sea-wall',
      'src/content/blog/harbour.md': 'old/port',
    };
    const slugOf = (post: string) => slugs[post];
    const all = [...posts, 'src/content/blog/2024-05-01-wall.md'];
    expect(postOfPage(all, '/blog/sea-wall/', slugOf)).toBe('src/content/blog/2024-05-01-wall.md');
    expect(postOfPage(all, '/old/port/', slugOf)).toBe('src/content/blog/harbour.md');
    // harbour.md's page is /old/port/ now: /harbour/ is no longer its name, and the two others tie.
    expect(postOfPage(all, '/harbour/', slugOf)).toBeNull();
    expect(postOfPage(all, '/2024-05-01-wall/', slugOf)).toBeNull();
  });
});

describe('provenanceXmp', () => {
  const entry: ManifestEntry = {
    file: `x-${'a'.repeat(12)}.png`,
    posts: ['p.md'],
    prompt: 'a <b> & "c"\u0001 🌊',
    negative: '',
    seed: 7,
    width: 64,
    height: 64,
    workflow: 'sd35:large_turbo@1',
    model: { checkpoint: 'sd3.5_large_turbo.safetensors', textEncoders: ['clip_l.safetensors', 'clip_l.safetensors'], steps: 4 },
    comfyuiVersion: '0.3.64',
    created: '2026-11-26T00:00:00.000Z',
    durationMs: 1,
    placeholder: false,
  };
  it('escapes prompt text into well-formed XML and lists each model file once', () => {
    const xmp = provenanceXmp('a'.repeat(64), entry)!;
    expect(xmp).toContain('<acui:Prompt>a &lt;b&gt; &amp; &quot;c&quot; 🌊</acui:Prompt>');
    expect(xmp).not.toContain('\u0001');
    expect(xmp).toContain('<rdf:Bag><rdf:li>sd3.5_large_turbo.safetensors</rdf:li><rdf:li>clip_l.safetensors</rdf:li></rdf:Bag>');
    expect(xmp).toContain('http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia');
  });
  it('gives a placeholder none: it is no generated media', () => {
    expect(provenanceXmp('a'.repeat(64), { ...entry, placeholder: true })).toBeUndefined();
  });
});

describe('image keys', () => {
  // A key names a committed image: if it changed, every site would regenerate every image. These were
  // computed by the version that wrote the first manifests; a change here must be deliberate.
  it('stay what earlier versions computed for the same prompt, options and model', async () => {
    await writeFile(
      path.join(root, 'src/content/blog/a.md'),
      '---\nimage: "a lighthouse at dusk"\nimages:\n  - { prompt: "a harbour", seed: 7, negative: "text" }\n---\n',
    );
    const keysWith = async (model: object) =>
      (await collectPostImages(resolveOptions({ formats: { hero: { width: 64, height: 64 } }, model }, root, {}))).images.map((i) => i.key);
    expect(await keysWith({})).toEqual([
      '991df1cf9adb22de89710cfe6004d2f0a609d7673368bd12bfc00c8462fac772',
      'bdec773fcef78bb73f8ffd9fd015abdca1bafaf123b46975e7dbc18de20411f6',
    ]);
    expect(await keysWith({ textEncoders: 'embedded', steps: 20, cfg: 4.5 })).toEqual([
      'f918053035012d18ba0bc9520ad92900916792fc50bf227c64736c307d7bba9e',
      '1ba158dba0a4198b57d5fd058aacc34ec7f1e950f5d0c50985927643da1d5821',
    ]);
    expect(await keysWith({ preset: 'large' })).toEqual([
      'b3489793d55a22f1fbf3eb0d6f7e8932bd9fc1bebe344244c5c06e9f00acfa62',
      '7ceb5193acc9e743a6c5541d5707eff99cde8350e9fdc0734888ab0227140d74',
    ]);
  });

  // Computed by the code before resolved images shared their graph makers (2026-12-06); a style's
  // prefix, suffix and negative, a preset's seed, and a user workflow's graph are all in the key.
  it('stay the same for prompts with styles and presets, and for a user workflow', async () => {
    await writeFile(
      path.join(root, 'src/content/blog/a.md'),
      '---\nimage: { prompt: "a fox", style: ink, negative: "blur" }\nimages:\n  - { prompt: "an owl", preset: cover }\n---\n',
    );
    const styled = {
      formats: { hero: { width: 64, height: 64 }, square: { width: 96, height: 96 } },
      styles: { ink: { prefix: 'an ink drawing of', suffix: ', crosshatched', negative: 'photo' } },
      presets: { cover: { style: 'ink', format: 'square', negative: 'text', seed: 3 } },
    };
    const keysWith = async (extra: object) => {
      const options = resolveOptions({ ...styled, ...extra }, root, {});
      return (await collectPostImages(options, await loadTemplate(options))).images.map((i) => i.key);
    };
    expect(await keysWith({})).toEqual([
      '42b35171cd9c7c85ef626e9e3eb2682dacfe7d7e833175d25aeb6c6fadcee884',
      '71f377fc8d1b6cf294d92cdcfd7a1552f20b73e4b4cd31614e67d603eb3192a9',
    ]);
    await writeFile(
      path.join(root, 'flow.json'),
      JSON.stringify({
        '3': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['1', 1] } },
        '7': { class_type: 'KSampler', inputs: { seed: 0, steps: 4, sampler_name: 'euler' } },
        '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 'mine' } },
      }),
    );
    const workflow = { file: 'flow.json', bindings: { prompt: '3.inputs.text', seed: '7.inputs.seed', steps: '7.inputs.steps' } };
    expect(await keysWith({ workflow, model: { steps: 9 } })).toEqual([
      'a117ab7646c4df41fe9c37cdd9986196b0a941c39c8b2508c3909324dcbc33b2',
      '55335601fd188020be7ad8cc42c41592f8ae68f594b118272c547b768fe7005a',
    ]);
  });
});
