import { describe, expect, it } from 'vitest';
import matter from 'gray-matter';
import { replaceFrontmatterField } from '../src/pin-image-into-post.js';

const value = '{ prompt: "a fox", seed: 3 }';

describe('replaceFrontmatterField', () => {
  it('replaces a one-line field and leaves every other byte alone', () => {
    const before = '---\ntitle: "Fox: a story"\nimage: "old prompt"\ntags: [a, b]\n---\n\n# Body\n\nimage: not frontmatter\n';
    const after = replaceFrontmatterField(before, 'image', value);
    expect(after).toBe('---\ntitle: "Fox: a story"\nimage: { prompt: "a fox", seed: 3 }\ntags: [a, b]\n---\n\n# Body\n\nimage: not frontmatter\n');
  });

  it('replaces a block field with its indented lines and keeps comments and CRLF', () => {
    const before = '---\r\ntitle: T\r\nimage:\r\n  prompt: "old"\r\n  style: ink\r\n# a comment\r\nimages:\r\n  - x\r\n---\r\nBody\r\n';
    const after = replaceFrontmatterField(before, 'image', value);
    expect(after).toBe('---\r\ntitle: T\r\nimage: { prompt: "a fox", seed: 3 }\r\n# a comment\r\nimages:\r\n  - x\r\n---\r\nBody\r\n');
  });

  it('adds the field at the end of the frontmatter, or adds a frontmatter', () => {
    expect(replaceFrontmatterField('---\ntitle: T\n---\nBody', 'image', value)).toBe(`---\ntitle: T\nimage: ${value}\n---\nBody`);
    expect(replaceFrontmatterField('Body only\n', 'image', value)).toBe(`---\nimage: ${value}\n---\nBody only\n`);
    expect(() => replaceFrontmatterField('---\ntitle: T\nBody', 'image', value)).toThrow(/closing/);
  });

  it('writes prompts with quotes, newlines, emoji and YAML syntax that parse back exactly', () => {
    const prompt = 'a "quoted" sign: {not: yaml} # hash\nline two 🦊 \\ backslash';
    const after = replaceFrontmatterField('---\ntitle: T\n---\n', 'image', `{ prompt: ${JSON.stringify(prompt)}, seed: 1 }`);
    expect(matter(after, {}).data.image).toEqual({ prompt, seed: 1 });
  });
});
