import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSd35Workflow } from '@astro-comfyui/comfyui/workflows';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '../src/canonical-json.js';
import { assertNoProblems, collectPostImages, loadTemplate } from '../src/collect-post-images.js';
import { imagePromptListSchema } from '../src/frontmatter-schema.js';
import { resolveOptions } from '../src/options.js';
import { slugify } from '../src/resolve-image.js';
import { scanPost } from '../src/scan-posts.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'scan-'));
  await mkdir(path.join(root, 'src/content/blog'), { recursive: true });
});
afterEach(() => rm(root, { recursive: true, force: true }));

const post = (name: string, frontmatter: string) => writeFile(path.join(root, 'src/content/blog', name), `---\n${frontmatter}\n---\nBody\n`);
const options = (extra = {}) =>
  resolveOptions(
    { styles: { watercolor: { prefix: 'a watercolor of', negative: 'photo' } }, presets: { cover: { style: 'watercolor', format: 'square' } }, ...extra },
    root,
    {},
  );

describe('collectPostImages', () => {
  it('reads every prompt form', async () => {
    await post('a.md', 'image: "a lighthouse"');
    await post('b.md', 'image: { prompt: "a fox", style: watercolor, format: square, seed: 3, alt: "Fox", negative: blurry }');
    await post('c.mdx', 'images:\n  - "an owl"\n  - { prompt: "a bear", preset: cover }');
    await post('d.md', 'title: none');
    const { posts, images, problems } = await collectPostImages(options());
    expect(problems).toEqual([]);
    expect(posts).toBe(4);
    const byField = Object.fromEntries(images.map((i) => [`${path.basename(i.request.post)} ${i.request.field}`, i]));
    expect(Object.keys(byField)).toEqual(['a.md image', 'b.md image', 'c.mdx images[0]', 'c.mdx images[1]']);
    expect(byField['b.md image']).toMatchObject({ positive: 'a watercolor of a fox', negative: 'photo, blurry', seed: 3, width: 1024, height: 1024 });
    expect(byField['c.mdx images[1]']).toMatchObject({ positive: 'a watercolor of a bear', width: 1024 });
    expect(byField['a.md image']!.request.post).toBe('src/content/blog/a.md');
    expect(byField['a.md image']!.fileName).toMatch(/^a-[0-9a-f]{12}\.png$/);
  });

  it('reports every bad post with file, field and fix, not only the first', async () => {
    await post('bad-yaml.md', 'image: { prompt: "unclosed');
    await post('bad-type.md', 'image: { prompt: "x", seed: "seven", colour: red }');
    await post('bad-style.md', 'image: { prompt: "x", style: oil }');
    await post('no-prompt.md', 'image: { style: watercolor }');
    await post('list.md', 'images: "not a list"');
    await post('number.md', 'image: 42');
    await post('singular-list.md', 'image:\n  - "a heron"\n  - "a crane"');
    await post('blank.md', 'image: { prompt: "   ", alt: "A heron" }');
    await post('huge-seed.md', 'image: { prompt: "x", seed: 99999999999999999999 }');
    await post('good.md', 'image: "fine"');
    const { images, problems } = await collectPostImages(options());
    expect(images.map((i) => path.basename(i.request.post))).toEqual(['good.md']);
    // Said once, though the seed fails two checks.
    expect(problems.filter((p) => p.post.endsWith('huge-seed.md')).map((p) => `${p.field} ${p.message}`)).toEqual([
      'image.seed must be a whole number from 0 to 9007199254740991, got number 100000000000000000000; or remove it to derive one from the prompt.',
    ]);
    const text = problems.map((p) => `${path.basename(p.post)} ${p.field} ${p.message}`).join('\n');
    expect(text).toContain('bad-yaml.md frontmatter is not valid YAML');
    expect(text).toContain('bad-type.md image has unknown key "colour"');
    expect(text).toContain('bad-type.md image.seed must be a whole number from 0 to 9007199254740991, got the text "seven"; or remove it');
    expect(text).toContain('bad-style.md image.style unknown style "oil". Known styles: watercolor');
    expect(text).toContain('no-prompt.md image.prompt is missing');
    expect(text).toContain('list.md images must be a list of prompts');
    expect(text).toContain('number.md image must be a prompt text or an object');
    expect(text).toContain('singular-list.md image is a list; several images go in "images" (images: [...]), one image here as a text or { prompt: "…" }.');
    expect(text).toContain('blank.md image.prompt is empty; describe the image or remove the field.');
  });

  it('treats names every object inherits (toString, constructor, __proto__) as unknown, never as defined options', async () => {
    await post(
      'inherited.md',
      'images:\n  - { prompt: "a", style: toString }\n  - { prompt: "b", preset: constructor }\n  - { prompt: "c", format: __proto__ }',
    );
    const { images, problems } = await collectPostImages(options());
    expect(images).toEqual([]);
    expect(problems.map((p) => `${p.field} ${p.message.split('.')[0]}`)).toEqual([
      'images[0].style unknown style "toString"',
      'images[1].preset unknown preset "constructor"',
      'images[2].format unknown format "__proto__"',
    ]);
  });

  it("refuses a blog's own pictures in the field as prompts, and says to give prompts another field name", async () => {
    await post('path.md', 'image: ./cover.jpg');
    await post('absolute.md', 'image: /images/harbour.webp');
    await post('url.md', 'image: "https://example.com/a.png"');
    await post('bare.md', 'image: sunset.PNG');
    await post('list.md', 'images:\n  - ../shells/one.avif\n  - "a scallop shell"');
    await post('object.md', 'image: { prompt: "~/pictures/fox.jpg" }');
    await post('own-object.md', 'image: { src: ./cover.jpg, alt: "A cover" }');
    // Prompts that only mention a file, or are one word, are prompts.
    await post('words.md', 'image: "a shop sign that reads cover.jpg"');
    await post('one-word.md', 'image: lighthouse');
    const { images, problems } = await collectPostImages(options({ field: 'image' }));
    expect(images.map((i) => `${path.basename(i.request.post)} ${i.request.prompt}`).sort()).toEqual([
      'list.md a scallop shell',
      'one-word.md lighthouse',
      'words.md a shop sign that reads cover.jpg',
    ]);
    const lines = problems.map((p) => `${path.basename(p.post)} › ${p.field} ${p.message}`).sort();
    const fix =
      'If your posts use "image" or "images" for pictures of their own, choose another name for prompts in astro.config, e.g. comfyui({ field: "cover" }) reads "cover" and "covers".';
    const refused = (where: string, text: string) =>
      `${where} is the path or URL of an image file, not a prompt (the text "${text}"). ${fix} To draw it, describe it in words.`;
    expect(lines).toEqual([
      refused('absolute.md › image', '/images/harbour.webp'),
      refused('bare.md › image', 'sunset.PNG'),
      refused('list.md › images[0]', '../shells/one.avif'),
      refused('object.md › image.prompt', '~/pictures/fox.jpg'),
      `own-object.md › image has unknown key "src". Known keys: prompt, negative, style, format, preset, seed, alt, regenerate. ${fix}`,
      'own-object.md › image.prompt is missing; every image needs a prompt, e.g. { prompt: "a lighthouse at dusk" }.',
      refused('path.md › image', './cover.jpg'),
      refused('url.md › image', 'https://example.com/a.png'),
    ]);
  });

  it('applies one size limit to every prompt form: shorthand, object, list item and alt', async () => {
    const long = 'x'.repeat(4001);
    await post('shorthand.md', `image: "${long}"`);
    await post('object.md', `image: { prompt: "${long}" }`);
    await post('list.md', `images:\n  - "${long}"`);
    await post('alt.md', `image: { prompt: "fine", alt: "${'a'.repeat(1001)}" }`);
    await post('edge.md', `image: "${'x'.repeat(4000)}"`);
    const { images, problems } = await collectPostImages(options());
    expect(images.map((i) => path.basename(i.request.post))).toEqual(['edge.md']);
    expect(problems.map((p) => `${path.basename(p.post)} ${p.field} ${p.message}`).sort()).toEqual([
      'alt.md image.alt the alt text is longer than 1000 characters.',
      'list.md images[0] the prompt is longer than 4000 characters.',
      'object.md image.prompt the prompt is longer than 4000 characters.',
      'shorthand.md image the prompt is longer than 4000 characters.',
    ]);
  });

  it('refuses a prompt garbled by a post that is not UTF-8, naming the fix, instead of drawing the garbled text', async () => {
    const dir = path.join(root, 'src/content/blog');
    // Latin-1, as old blog engines export it: each accented letter reads as U+FFFD.
    await writeFile(path.join(dir, 'latin1.md'), Buffer.from('---\nimage: "a café at dawn"\n---\n', 'latin1'));
    await writeFile(path.join(dir, 'negative.md'), Buffer.from('---\nimage: { prompt: "a harbour", negative: "façade" }\n---\n', 'latin1'));
    await post('utf8.md', 'image: "a café at dawn"');
    const { images, problems } = await collectPostImages(options());
    expect(images.map((i) => `${path.basename(i.request.post)} ${i.request.prompt}`)).toEqual(['utf8.md a café at dawn']);
    const unreadable = 'contains "\uFFFD" where a character could not be read: the post is not saved as UTF-8; save it as UTF-8.';
    expect(problems.map((p) => `${path.basename(p.post)} › ${p.field} ${p.message}`).sort()).toEqual([
      `latin1.md › image ${unreadable}`,
      `negative.md › image.negative ${unreadable}`,
    ]);
  });

  it('lists the first 50 bad prompts in the error and counts the rest, which status lists', async () => {
    for (let i = 0; i < 60; i++) await post(`post-${String(i).padStart(2, '0')}.md`, 'image: { prompt: "a harbour", style: oil }');
    const { problems } = await collectPostImages(options());
    expect(problems).toHaveLength(60);
    let message = '';
    try {
      assertNoProblems(problems);
    } catch (error) {
      message = (error as Error).message;
    }
    const lines = message.split('\n');
    expect(lines[0]).toBe('60 posts have invalid image prompts:');
    expect(
      lines.slice(1, 51).every((line, i) => line.startsWith(`- src/content/blog/post-${String(i).padStart(2, '0')}.md › image.style unknown style "oil"`)),
    ).toBe(true);
    expect(lines.slice(51)).toEqual(['- … and 10 more (npx astro-comfyui status lists them all)']);
  });

  it('allows 100 prompts in one post, and refuses more, in the scan and in the content schema alike', async () => {
    const list = (n: number) => Array.from({ length: n }, (_, i) => `picture number ${i}`);
    await post(
      'hundred.md',
      `images:\n${list(100)
        .map((p) => `  - "${p}"`)
        .join('\n')}`,
    );
    await post(
      'more.md',
      `images:\n${list(101)
        .map((p) => `  - "${p}"`)
        .join('\n')}`,
    );
    const { images, problems } = await collectPostImages(options());
    expect(images.filter((i) => i.request.post.endsWith('hundred.md'))).toHaveLength(100);
    expect(images.filter((i) => i.request.post.endsWith('more.md'))).toHaveLength(0);
    expect(problems.map((p) => `${path.basename(p.post)} ${p.field} ${p.message}`)).toEqual([
      'more.md images has 101 prompts; a post can have at most 100, each an image to generate. Remove the ones the post does not show.',
    ]);
    expect(imagePromptListSchema.safeParse(list(100)).success).toBe(true);
    expect(imagePromptListSchema.safeParse(list(101)).error?.issues[0]?.message).toBe('a post has at most 100 image prompts');
  });

  it('keeps prompts with quotes, newlines, emoji and JSON-looking text intact', async () => {
    await post('tricky.md', 'image: { prompt: "a \\"quoted\\" sign, {\\"json\\": true}, 🦊\\nsecond line", format: square }');
    const { images, problems } = await collectPostImages(options());
    expect(problems).toEqual([]);
    expect(images[0]!.buildWorkflow()['3']!.inputs.text).toBe('a "quoted" sign, {"json": true}, 🦊\nsecond line');
  });

  it('gives the same key for the same image and a different key when anything that matters changes', async () => {
    await post('a.md', 'image: { prompt: "a lighthouse", seed: 1 }');
    const key = async (o = options()) => (await collectPostImages(o)).images[0]!.key;
    const base = await key();
    expect(await key()).toBe(base);
    await post('a.md', 'image: { prompt: "a lighthouse", seed: 1, alt: "changed alt only" }');
    expect(await key()).toBe(base);
    await post('a.md', 'image: { prompt: "a lighthouse", seed: 2 }');
    expect(await key()).not.toBe(base);
    await post('a.md', 'image: { prompt: "a lighthouse", seed: 1 }');
    expect(await key(options({ model: { preset: 'large' } }))).not.toBe(base);
    expect(await key(options({ model: { textEncoders: 'embedded', checkpoint: 'sd3.5_large_fp8_scaled.safetensors' } }))).not.toBe(base);
  });

  it('computes keys exactly as the canonical JSON of what determines the image (committed images keep theirs)', async () => {
    await post('a.md', 'image: { prompt: "a \\"quoted\\" 🦊 fjord, {\\"json\\": 1}", negative: "blur", seed: 9007199254740991, format: square }');
    await post('b.md', 'image: "plain"');
    await post('c.md', 'image: { prompt: "x", style: watercolor }');
    for (const o of [
      options(),
      options({ model: { preset: 'large', steps: 30, cfg: 3.5 } }),
      options({ model: { textEncoders: 'embedded', checkpoint: 'c.safetensors' } }),
    ]) {
      for (const image of (await collectPostImages(o)).images) {
        const { workflowId, model, positive, negative, seed, width, height } = image;
        const expected = createHash('sha256').update(canonicalJson({ workflowId, model, positive, negative, seed, width, height })).digest('hex');
        expect(image.key).toBe(expected);
      }
    }
  });

  it("fills a user workflow's bindings with each post's values and the options' sampler values, and keys it by the file", async () => {
    const flow = path.join(root, 'flow.json');
    const writeFlow = (sampler: string) =>
      writeFile(flow, JSON.stringify(buildSd35Workflow({ prompt: 'unbound', width: 64, height: 64, seed: 1, model: 'large', sampler }).workflow));
    await writeFlow('euler');
    await post('a.md', 'image: { prompt: "a fox", seed: 5, format: square }');
    await post('b.md', 'image: { prompt: "an owl", style: watercolor, seed: 6 }');
    const bindings = {
      prompt: '3.inputs.text',
      negative: '4.inputs.text',
      seed: '8.inputs.seed',
      width: '6.inputs.width',
      height: '6.inputs.height',
      steps: '8.inputs.steps',
    };
    const o = options({ workflow: { file: 'flow.json', bindings }, model: { steps: 9 } });
    const collect = async () => {
      const { images, problems } = await collectPostImages(o, await loadTemplate(o));
      expect(problems).toEqual([]);
      return images;
    };
    const [fox, owl] = await collect();
    const graph = fox!.buildWorkflow();
    expect(graph['3']!.inputs).toMatchObject({ text: 'a fox' });
    expect(graph['8']!.inputs).toMatchObject({ seed: 5, steps: 9, sampler_name: 'euler' });
    expect(graph['6']!.inputs).toMatchObject({ width: 1024, height: 1024 });
    expect(graph['10']!.inputs.filename_prefix).toBe(`astro-comfyui/${fox!.key.slice(0, 12)}`);
    const owlGraph = owl!.buildWorkflow();
    expect(owlGraph['3']!.inputs.text).toBe('a watercolor of an owl');
    expect(owlGraph['4']!.inputs.text).toBe('photo');
    expect(owlGraph['8']!.inputs).toMatchObject({ seed: 6, steps: 9 });
    // Each build is a graph of its own: changing one changes neither the next one nor another image's.
    graph['3']!.inputs.text = 'changed';
    expect(fox!.buildWorkflow()['3']!.inputs.text).toBe('a fox');
    expect(fox!.workflowId).toMatch(/^custom:[0-9a-f]{16}$/);
    expect((await collect()).map((i) => i.key)).toEqual([fox!.key, owl!.key]);
    // An unbound input of the file changes the pixels, so it changes the keys.
    await writeFlow('dpmpp_2m');
    const changed = await collect();
    expect(changed[0]!.buildWorkflow()['8']!.inputs.sampler_name).toBe('dpmpp_2m');
    expect(changed[0]!.key).not.toBe(fox!.key);
    expect(changed[1]!.key).not.toBe(owl!.key);
  });

  it('reports a post that cannot be read (deleted after it was listed, a folder) with the reason', async () => {
    await post('fine.md', 'image: "a heron"');
    await mkdir(path.join(root, 'src/content/blog/folder.md'));
    const scan = (file: string) => scanPost(root, `src/content/blog/${file}`, 'image', 'images');
    expect(scan('gone.md').problems).toEqual([
      { post: 'src/content/blog/gone.md', field: 'file', message: 'cannot be read (ENOENT). It was moved or deleted while the posts were read; run again.' },
    ]);
    expect(scan('folder.md').problems.map((p) => p.message)).toEqual(['cannot be read (EISDIR). It is a folder named like a post; rename the folder.']);
    expect(scan('fine.md').requests.map((r) => r.prompt)).toEqual(['a heron']);
  });

  it('slugifies paths with spaces and unicode', () => {
    expect(slugify('src/content/blog/My Post – Ünïcode.md')).toBe('my-post-unicode');
    expect(slugify('src/content/blog/日本.md')).toBe('image');
    // Names that are nearly slugs already give the same as always.
    expect(slugify('src/content/blog/2024-harbour-1.md')).toBe('2024-harbour-1');
    expect(slugify('src/content/blog/a--b.md')).toBe('a-b');
    expect(slugify('src/content/blog/-draft-.mdx')).toBe('draft');
    expect(slugify('src/content/blog/Harbour.md')).toBe('harbour');
    expect(slugify(`src/content/blog/${'a'.repeat(70)}.md`)).toBe('a'.repeat(60));
    // Folder-style posts are told apart by their folder, not all named "index".
    expect(slugify('src/content/blog/my-trip/index.md')).toBe('my-trip');
    expect(slugify('src/content/blog/Été à Brest/index.mdx')).toBe('ete-a-brest');
    expect(slugify('index.md')).toBe('index');
  });
});
