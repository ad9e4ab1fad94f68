import { chmod, mkdtemp, readFile, rm, stat, symlink, writeFile, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseFrontmatter } from 'astro/markdown';
import { afterEach, describe, expect, it } from 'vitest';
import { pinImageIntoPost, rewriteFrontmatterField } from '../src/pin-image-into-post.js';

const fox = { prompt: 'a fox', seed: 3 };
const yamlFox = 'image: { prompt: "a fox", seed: 3 }';
const astroData = (text: string) => parseFrontmatter(text).frontmatter;

describe('rewriteFrontmatterField', () => {
  it('replaces a one-line field and leaves every other byte alone', () => {
    const before = '---\ntitle: "Fox: a story"\nimage: "old prompt"\ntags: [a, b]\n---\n\n# Body\n\nimage: not frontmatter\n';
    expect(rewriteFrontmatterField(before, 'image', fox)).toBe(
      `---\ntitle: "Fox: a story"\n${yamlFox}\ntags: [a, b]\n---\n\n# Body\n\nimage: not frontmatter\n`,
    );
  });

  it('replaces a block field with its indented lines and keeps comments and CRLF', () => {
    const before = '---\r\ntitle: T\r\nimage:\r\n  prompt: "old"\r\n  style: ink\r\n# a comment\r\nimages:\r\n  - x\r\n---\r\nBody\r\n';
    expect(rewriteFrontmatterField(before, 'image', fox)).toBe(`---\r\ntitle: T\r\n${yamlFox}\r\n# a comment\r\nimages:\r\n  - x\r\n---\r\nBody\r\n`);
  });

  it('adds the field at the end of the frontmatter, or adds a frontmatter', () => {
    expect(rewriteFrontmatterField('---\ntitle: T\n---\nBody', 'image', fox)).toBe(`---\ntitle: T\n${yamlFox}\n---\nBody`);
    expect(rewriteFrontmatterField('Body only\n', 'image', fox)).toBe(`---\n${yamlFox}\n---\nBody only\n`);
    expect(rewriteFrontmatterField('\uFEFFBody only\n', 'image', fox)).toBe(`\uFEFF---\n${yamlFox}\n---\nBody only\n`);
  });

  it('rewrites an MDX post\'s frontmatter only: imports, JSX, expressions and a later "---" stay as they were', () => {
    const body =
      "import Note from '../components/Note.astro';\nexport const mood = 'calm';\n\n# Reef {1 + 1}\n\n---\n\nimage: in the body\n\n<Note image=\"x\">---</Note>\n";
    const after = rewriteFrontmatterField(`---\ntitle: Reef\nimage: "old"\n---\n${body}`, 'image', fox);
    expect(after).toBe(`---\ntitle: Reef\n${yamlFox}\n---\n${body}`);
    expect(astroData(after)).toEqual({ title: 'Reef', image: fox });
  });

  it('refuses a frontmatter without its closing fence instead of adding a second block', () => {
    expect(() => rewriteFrontmatterField('---\ntitle: T\nBody', 'image', fox)).toThrow(/no closing fence/);
  });

  it('rewrites the block Astro reads after leading blank lines, not a new one above it', () => {
    const before = '\n\n---\ntitle: Harbour\nimage: "old"\n---\nBody\n';
    const after = rewriteFrontmatterField(before, 'image', fox);
    expect(after).toBe(`\n\n---\ntitle: Harbour\n${yamlFox}\n---\nBody\n`);
    expect(astroData(after)).toEqual({ title: 'Harbour', image: fox });
  });

  it('rewrites TOML frontmatter as TOML: one line replaced, or a top-level key added before the first table', () => {
    const before = '+++\ntitle = "Harbour"\nimage = "old"\n\n[extra]\nmood = "calm"\n+++\nBody\n';
    const after = rewriteFrontmatterField(before, 'image', { ...fox, alt: 'A "fox" \u007f' });
    expect(after).toBe('+++\ntitle = "Harbour"\nimage = { prompt = "a fox", seed = 3, alt = "A \\"fox\\" \\u007F" }\n\n[extra]\nmood = "calm"\n+++\nBody\n');
    expect(astroData(after)).toEqual({ title: 'Harbour', image: { ...fox, alt: 'A "fox" \u007f' }, extra: { mood: 'calm' } });

    const added = rewriteFrontmatterField('+++\ntitle = "T"\n[extra]\nmood = "calm"\n+++\n', 'image', fox);
    expect(astroData(added)).toEqual({ title: 'T', image: fox, extra: { mood: 'calm' } });
    expect(() => rewriteFrontmatterField('+++\n[image]\nprompt = "x"\n+++\n', 'image', fox)).toThrow(/TOML table/);
  });

  it('replaces a quoted key in place instead of writing a duplicate', () => {
    const after = rewriteFrontmatterField('---\n"image": "old"\ntitle: T\n---\n', 'image', fox);
    expect(after).toBe('---\n"image": { prompt: "a fox", seed: 3 }\ntitle: T\n---\n');
  });

  it('refuses, with the reason, a rewrite that would break an alias elsewhere', () => {
    const before = '---\nimage: &shared\n  prompt: "old"\nog: *shared\n---\n';
    expect(() => rewriteFrontmatterField(before, 'image', fox)).toThrow(/invalid|also change "og"/);
  });

  it('writes prompts with quotes, newlines, emoji and YAML syntax that parse back exactly', () => {
    const prompt = 'a "quoted" sign: {not: yaml} # hash\nline two 🦊 \\ backslash';
    expect(astroData(rewriteFrontmatterField('---\ntitle: T\n---\n', 'image', { prompt, seed: 1 })).image).toEqual({ prompt, seed: 1 });
    expect(astroData(rewriteFrontmatterField('+++\ntitle = "T"\n+++\n', 'image', { prompt, seed: 1 })).image).toEqual({ prompt, seed: 1 });
  });
});

describe('rewriteFrontmatterField into one item of a list', () => {
  const gallery = [
    '---',
    'title: Gallery',
    'images:',
    '  - { prompt: "a red fox in snow", preset: cover }',
    '  # the owl',
    '  - prompt: "an owl on a branch"',
    '    format: square',
    '    alt: An owl',
    '',
    '  - "a heron"',
    'tags: [birds]',
    '---',
    'Body',
    '',
  ].join('\n');

  it('replaces the chosen item, block or flow, and keeps the other items, comments and keys byte for byte', () => {
    const owl = rewriteFrontmatterField(gallery, { field: 'images', item: 1 }, { ...fox, alt: 'An owl' });
    expect(owl).toBe(
      gallery.replace('  - prompt: "an owl on a branch"\n    format: square\n    alt: An owl\n', '  - { prompt: "a fox", seed: 3, alt: "An owl" }\n'),
    );
    const heron = rewriteFrontmatterField(gallery, { field: 'images', item: 2 }, fox);
    expect(heron).toBe(gallery.replace('  - "a heron"', '  - { prompt: "a fox", seed: 3 }'));
    expect(astroData(heron).images).toEqual([
      { prompt: 'a red fox in snow', preset: 'cover' },
      { prompt: 'an owl on a branch', format: 'square', alt: 'An owl' },
      fox,
    ]);
    const first = rewriteFrontmatterField('---\nimages:\n- a\n- b\n---\n', { field: 'images', item: 0 }, fox);
    expect(first).toBe('---\nimages:\n- { prompt: "a fox", seed: 3 }\n- b\n---\n');
  });

  it('never adds an image field for a post that has only a list', () => {
    const after = rewriteFrontmatterField(gallery, { field: 'images', item: 0 }, fox);
    expect(Object.keys(astroData(after))).toEqual(['title', 'images', 'tags']);
  });

  it('refuses lists whose items cannot be told apart, and items that do not exist', () => {
    expect(() => rewriteFrontmatterField('---\nimages: [a, b]\n---\n', { field: 'images', item: 1 }, fox)).toThrow(/one-line/);
    expect(() => rewriteFrontmatterField(gallery, { field: 'images', item: 3 }, fox)).toThrow(/no item 4/);
    expect(() => rewriteFrontmatterField('+++\nimages = ["a"]\n+++\n', { field: 'images', item: 0 }, fox)).toThrow(/TOML/);
    const anchored = '---\nimages:\n  - &owl { prompt: owl }\n  - b\nog: *owl\n---\n';
    expect(() => rewriteFrontmatterField(anchored, { field: 'images', item: 0 }, fox)).toThrow(/invalid|also change "og"/);
  });
});

describe('pinImageIntoPost', () => {
  let dir: string;
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes through a symlinked post and keeps the file mode', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pin-'));
    const real = path.join(dir, 'real.md');
    const link = path.join(dir, 'link.md');
    await writeFile(real, '---\ntitle: T\n---\n');
    await chmod(real, 0o640);
    await symlink(real, link);
    await pinImageIntoPost(link, 'image', fox);
    expect((await lstat(link)).isSymbolicLink()).toBe(true);
    expect((await stat(real)).mode & 0o777).toBe(0o640);
    expect(astroData(await readFile(real, 'utf8'))).toEqual({ title: 'T', image: fox });
  });

  it('leaves a post it cannot rewrite safely untouched and says how to do it by hand', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pin-'));
    const post = path.join(dir, 'post.md');
    const text = '---\ntitle: T\nBody without a closing fence\n';
    await writeFile(post, text);
    await expect(pinImageIntoPost(post, 'image', fox)).rejects.toThrow(/left unchanged: its frontmatter has no closing fence/);
    expect(await readFile(post, 'utf8')).toBe(text);
  });

  it('leaves a read-only post as it is, though renaming over it would succeed', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pin-'));
    const post = path.join(dir, 'post.md');
    await writeFile(post, '---\ntitle: T\n---\n');
    await chmod(post, 0o444);
    await expect(pinImageIntoPost(post, 'image', fox)).rejects.toThrow(/left unchanged: it is read-only \(mode 444\); make it writable/);
    expect(await readFile(post, 'utf8')).toBe('---\ntitle: T\n---\n');
  });

  it('leaves a post that is not UTF-8 byte for byte as it was, naming the line, instead of replacing its other characters', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'pin-'));
    const post = path.join(dir, 'post.md');
    // Latin-1, as old blog engines export it: "Café" in the title and the body.
    const latin1 = Buffer.from('---\ntitle: Café\nimage: { prompt: a cat }\n---\nCafé au lait\n', 'latin1');
    await writeFile(post, latin1);
    await expect(pinImageIntoPost(post, 'image', fox)).rejects.toThrow(/left unchanged: it is not UTF-8 text \(line 2 is not\)/);
    expect(await readFile(post)).toEqual(latin1);
    // UTF-16 with a byte order mark, as Notepad saves "Unicode".
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('---\ntitle: T\n---\n', 'utf16le')]);
    await writeFile(post, utf16);
    await expect(pinImageIntoPost(post, 'image', fox)).rejects.toThrow(/not UTF-8 text \(line 1 is not\)/);
    expect(await readFile(post)).toEqual(utf16);
  });
});
