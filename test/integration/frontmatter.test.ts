import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { scanPost } from '../../packages/astro-comfyui/src/scan-posts.js';
import { readFrontmatter } from '../../packages/astro-comfyui/src/read-frontmatter.js';
import { useCleanups } from '../helpers/cleanups.js';
import { copyFixture, runAstro, runCli, setupBlogWithFake } from '../helpers/fixture-site.js';
import { TINY_PNG } from '../helpers/tiny-png.js';

/** Posts whose frontmatter is easy to read differently from Astro. Each must parse without error in Astro. */
const trickyPosts: Record<string, string> = {
  'yaml.md': '---\ntitle: YAML\nimage: "a lighthouse"\n---\nBody\n',
  'toml.md': '+++\ntitle = "TOML"\nimage = { prompt = "a harbour", seed = 7 }\n+++\nBody\n',
  'toml-list.md': "+++\ntitle = 'TOML list'\n[[images]]\nprompt = 'a gull'\n[[images]]\nprompt = 'a buoy'\nformat = 'square'\n+++\n",
  'leading-blank.md': '\n\n---\ntitle: Blank lines first\nimage: "a mountain hut"\n---\nBody\n',
  'bom.md': '\uFEFF---\ntitle: BOM\nimage: "a bom"\n---\nBody\n',
  'bom-blank.md': '\uFEFF\n---\ntitle: BOM and blank\nimage: "a bom after a blank line"\n---\n',
  'crlf.md': '---\r\ntitle: CRLF\r\nimage:\r\n  prompt: "crlf"\r\n  seed: 2\r\n---\r\nBody\r\n',
  'dashes-in-body.md': '---\ntitle: Dashes\nimage: "first"\n---\nBody\n\n---\nimage: "second"\n---\n',
  'empty.md': '---\n---\nBody with an empty frontmatter\n',
  'anchors.md': '---\ntitle: Anchors\ndefaults: &d\n  prompt: "anchored"\n  format: square\nimage:\n  <<: *d\n  seed: 4\nimages:\n  - *d\n---\n',
  'quoted-keys.md': '---\n"title": Quoted\n\'image\': "quoted key"\n---\n',
  'indented-fence.md': '  ---\ntitle: not frontmatter\nimage: "never read"\n---\n',
  'no-frontmatter.md': '# Just a body\n\nimage: "not frontmatter"\n',
  'eof.md': '---\ntitle: EOF\nimage: "no newline at the end"\n---',
  // Scalars YAML versions and parsers read differently (Astro 7.4 reads YAML with another parser than ours).
  'yaml-scalars.md':
    '---\ntitle: Scalars\nimage:\n  prompt: >-\n    a folded\n    prompt\n  alt: yes\n  negative: |\n    literal\n    lines\n  seed: 0o17\nimages:\n  - { prompt: on, seed: 0x1F }\n  - { prompt: "2026-01-02", alt: 12:30:00 }\n  - prompt: 1_000 owls\n    seed: 1e3\n---\n',
  'yaml-unicode.md': '---\ntitle: Ünïcode\nimage: { prompt: \'a fox — 🦊, "quoted" and \'\'single\'\'\', alt: "caf\\u00e9 \\"q\\"" } # a comment\n---\n',
};

const cleanups = useCleanups();

describe('frontmatter is read exactly as Astro reads it', () => {
  it("the scanner and Astro's content layer see the same prompts in tricky posts (TOML, blank lines, BOM, CRLF, anchors…)", async () => {
    const site = await copyFixture('blog');
    cleanups.push(site.cleanup);
    const blog = path.join(site.root, 'src/content/blog');
    for (const [name, text] of Object.entries(trickyPosts)) await writeFile(path.join(blog, name), text);
    // The content layer alone: no schema and no integration, and a page that dumps what Astro read.
    await writeFile(path.join(site.root, 'astro.config.mjs'), "import { defineConfig } from 'astro/config';\nexport default defineConfig({});\n");
    await writeFile(
      path.join(site.root, 'src/content.config.ts'),
      [
        "import { defineCollection } from 'astro:content';",
        "import { glob } from 'astro/loaders';",
        "export const collections = { blog: defineCollection({ loader: glob({ pattern: '*.md', base: './src/content/blog' }) }) };",
      ].join('\n'),
    );
    await mkdir(path.join(site.root, 'src/pages'), { recursive: true });
    await writeFile(
      path.join(site.root, 'src/pages/data.json.ts'),
      [
        "import { getCollection } from 'astro:content';",
        'export async function GET() {',
        "  const entries = await getCollection('blog');",
        '  return new Response(JSON.stringify(Object.fromEntries(entries.map((e) => [e.filePath, { image: e.data.image, images: e.data.images }]))));',
        '}',
      ].join('\n'),
    );
    await writeFile(
      path.join(site.root, 'src/pages/[...slug].astro'),
      '---\nexport const prerender = true;\nexport function getStaticPaths() { return []; }\n---\n',
    );

    const result = await runAstro(site.root, ['build']);
    expect(result.exitCode, String(result.all)).toBe(0);
    const astro = JSON.parse(await readFile(path.join(site.root, 'dist/data.json'), 'utf8')) as Record<string, { image?: unknown; images?: unknown }>;

    const files = Object.keys(astro).sort();
    expect(files).toEqual(['gallery.md', 'harbour.md', 'lighthouse.md', 'plain.md', ...Object.keys(trickyPosts)].map((f) => `src/content/blog/${f}`).sort());
    for (const file of files) {
      const ours = readFrontmatter(await readFile(path.join(site.root, file), 'utf8')).data;
      expect({ file, image: ours.image, images: ours.images }).toEqual({ file, image: astro[file]!.image, images: astro[file]!.images });
      // And what the scanner turns them into: one request per prompt Astro sees, no problem.
      const scanned = scanPost(site.root, file, 'image', 'images');
      expect(scanned.problems).toEqual([]);
      const prompts = [astro[file]!.image, ...((astro[file]!.images as unknown[]) ?? [])]
        .filter(Boolean)
        .map((v) => (typeof v === 'string' ? v : (v as { prompt: string }).prompt));
      expect(scanned.requests.map((r) => r.prompt)).toEqual(prompts);
    }
    // Spot checks that the table exercises what it claims to.
    expect(astro['src/content/blog/toml.md']!.image).toEqual({ prompt: 'a harbour', seed: 7 });
    expect(astro['src/content/blog/leading-blank.md']!.image).toBe('a mountain hut');
    expect(astro['src/content/blog/indented-fence.md']!.image).toBeUndefined();
    expect(astro['src/content/blog/yaml-scalars.md']!.image).toEqual({ prompt: 'a folded prompt', alt: 'yes', negative: 'literal\nlines\n', seed: 15 });
    expect(astro['src/content/blog/yaml-unicode.md']!.image).toEqual({ prompt: 'a fox — 🦊, "quoted" and \'single\'', alt: 'café "q"' });
  });

  it('a blog whose posts already use `image` for pictures of their own: the build says to rename the field, and then works', async () => {
    const { fake, root, env } = await setupBlogWithFake(cleanups);
    const blog = path.join(root, 'src/content/blog');
    await rm(blog, { recursive: true });
    await mkdir(blog, { recursive: true });
    // The author's own picture, read by Astro's image() as before the integration was added.
    await writeFile(path.join(blog, 'cover.png'), TINY_PNG);
    await writeFile(path.join(blog, 'own.md'), '---\ntitle: Own\nimage: ./cover.png\ncover: "a lighthouse at dusk"\n---\nBody\n');
    await writeFile(
      path.join(root, 'src/content.config.ts'),
      [
        "import { defineCollection } from 'astro:content';",
        "import { glob } from 'astro/loaders';",
        "import { z } from 'astro/zod';",
        "import { imagePromptSchema } from 'astro-comfyui/schema';",
        "const blog = defineCollection({ loader: glob({ pattern: '*.md', base: './src/content/blog' }),",
        '  schema: ({ image }) => z.object({ title: z.string(), image: image().optional(), cover: imagePromptSchema.optional() }) });',
        'export const collections = { blog };',
      ].join('\n'),
    );

    const refused = await runAstro(root, ['build'], env);
    expect(refused.exitCode).not.toBe(0);
    expect(refused.all).toContain('src/content/blog/own.md › image is the path or URL of an image file, not a prompt (the text "./cover.png")');
    expect(refused.all).toContain('comfyui({ field: "cover" })');
    expect(fake.stats.promptsQueued).toBe(0);
    expect(existsSync(path.join(root, 'src/assets/generated'))).toBe(false);

    const renamed = await runAstro(root, ['build'], { ...env, ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ field: 'cover' }) });
    expect(renamed.exitCode, String(renamed.all)).toBe(0);
    expect(fake.stats.promptsQueued).toBe(1);
    const manifest = JSON.parse(await readFile(path.join(root, 'src/assets/generated/images.lock.json'), 'utf8'));
    expect(Object.values(manifest.images).map((entry) => (entry as { prompt: string }).prompt)).toEqual(['a lighthouse at dusk']);
    expect(await readFile(path.join(root, 'dist/own/index.html'), 'utf8')).toMatch(/<img[^>]+alt="a lighthouse at dusk"/);
  });

  it('never executes a post: a ---js block is an error in the build and the CLI, and its code does not run', async () => {
    const { root, env } = await setupBlogWithFake(cleanups);
    const marker = path.join(root, 'PWNED');
    await writeFile(
      path.join(root, 'src/content/blog/evil.md'),
      `---js\n{ title: 'x', image: require('child_process').execSync('touch ${marker}').toString() || 'a fox' }\n---\nBody\n`,
    );

    const build = await runAstro(root, ['build'], { ...env, CI: '1' });
    expect(build.exitCode).not.toBe(0);
    expect(build.all).toMatch(/src\/content\/blog\/evil\.md › frontmatter is not valid YAML/);
    const status = await runCli(root, ['status'], env);
    expect(status.all).toMatch(/evil\.md › frontmatter is not valid YAML/);
    expect(existsSync(marker)).toBe(false);
  });
});
