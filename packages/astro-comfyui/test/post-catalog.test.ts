import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveOptions } from '../src/options.js';
import { PostCatalog } from '../src/post-catalog.js';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'catalog-'));
  await mkdir(path.join(root, 'src/content/blog'), { recursive: true });
});
afterEach(() => rm(root, { recursive: true, force: true }));

const post = (name: string, prompt: string) => writeFile(path.join(root, 'src/content/blog', name), `---\nimage: "${prompt}"\n---\n`);
const prompts = (catalog: PostCatalog) =>
  catalog
    .images()
    .map((i) => `${path.basename(i.request.post)}: ${i.request.prompt}`)
    .sort();

describe('PostCatalog', () => {
  it('re-reads only the post that changed', async () => {
    for (let i = 0; i < 5; i++) await post(`p${i}.md`, `prompt ${i}`);
    const catalog = new PostCatalog(resolveOptions({}, root, {}));
    await catalog.loadAll();
    expect(prompts(catalog)).toHaveLength(5);
    // Another post disappears behind the catalog's back: an update of p0 must not notice, because it
    // reads p0 alone.
    await rm(path.join(root, 'src/content/blog/p4.md'));
    await post('p0.md', 'a new prompt');
    expect(catalog.update(path.join(root, 'src/content/blog/p0.md'))).toBe(true);
    expect(prompts(catalog)).toEqual(['p0.md: a new prompt', 'p1.md: prompt 1', 'p2.md: prompt 2', 'p3.md: prompt 3', 'p4.md: prompt 4']);
    // The watcher reported p4 deleted: the same update forgets it.
    expect(catalog.update(path.join(root, 'src/content/blog/p4.md'))).toBe(true);
    expect(prompts(catalog)).toHaveLength(4);
    expect(catalog.problems()).toEqual([]);
  });

  it('knows whether any post still asks for an image, and which share it', async () => {
    await post('a.md', 'a shared harbour');
    await post('b.md', 'a shared harbour');
    const catalog = new PostCatalog(resolveOptions({}, root, {}));
    await catalog.loadAll();
    const [key] = new Set(catalog.images().map((i) => i.key));
    expect(catalog.wants(key!)).toBe(true);
    expect(
      catalog
        .sharing(key!)
        .map((i) => i.request.post)
        .sort(),
    ).toEqual(['src/content/blog/a.md', 'src/content/blog/b.md']);
    await post('a.md', 'a harbour at night');
    catalog.update(path.join(root, 'src/content/blog/a.md'));
    expect(catalog.wants(key!)).toBe(true); // b.md still asks for it
    expect(catalog.sharing(key!)).toEqual([]); // b.md alone
    await rm(path.join(root, 'src/content/blog/b.md'));
    catalog.update(path.join(root, 'src/content/blog/b.md'));
    expect(catalog.wants(key!)).toBe(false);
    expect(catalog.wants(catalog.images()[0]!.key)).toBe(true);
  });

  it('ignores files that are not posts, and reports a broken post without losing the others', async () => {
    await post('good.md', 'fine');
    const catalog = new PostCatalog(resolveOptions({}, root, {}));
    await catalog.loadAll();
    expect(catalog.update(path.join(root, 'src/styles/site.css'))).toBe(false);
    expect(catalog.update(path.join(root, '../elsewhere/post.md'))).toBe(false);
    expect(catalog.covers(path.join(root, 'src/styles/site.css'))).toBe(false);
    expect(catalog.covers('src/content/blog/not-yet-written.md')).toBe(true);
    await writeFile(path.join(root, 'src/content/blog/bad.md'), '---\nimage: { prompt: "unclosed\n---\n');
    expect(catalog.update(path.join(root, 'src/content/blog/bad.md'))).toBe(true);
    expect(prompts(catalog)).toEqual(['good.md: fine']);
    expect(catalog.problems().map((p) => `${path.basename(p.post)} ${p.field}`)).toEqual(['bad.md frontmatter']);
  });

  it('takes the files a build takes for posts, no more: none a "!glob" excludes, none in a dot-folder or a dot-file', async () => {
    await post('seen.md', 'seen');
    for (const folder of ['.obsidian', 'drafts']) await mkdir(path.join(root, 'src/content/blog', folder), { recursive: true });
    await post('.obsidian/template.md', 'a template');
    await post('.draft.md', 'a hidden draft');
    await post('drafts/later.md', 'an excluded draft');
    const catalog = new PostCatalog(resolveOptions({ content: ['src/content/**/*.md', '!src/content/blog/drafts/**'] }, root, {}));
    await catalog.loadAll();
    expect(prompts(catalog)).toEqual(['seen.md: seen']);
    // Saved while dev runs: still not posts.
    for (const hidden of ['.obsidian/template.md', '.draft.md', 'drafts/later.md']) {
      expect(catalog.covers(`src/content/blog/${hidden}`)).toBe(false);
      expect(catalog.update(path.join(root, 'src/content/blog', hidden))).toBe(false);
    }
    expect(prompts(catalog)).toEqual(['seen.md: seen']);
  });

  it('says which posts changed a prompt or a problem, not only their text', async () => {
    const file = (name: string) => path.join(root, 'src/content/blog', name);
    await writeFile(file('a.md'), '---\ntitle: A\nimage: { prompt: "a kite", alt: "A kite" }\n---\nText.\n');
    await writeFile(file('plain.md'), '---\ntitle: Plain\n---\nText.\n');
    const catalog = new PostCatalog(resolveOptions({}, root, {}));
    await catalog.loadAll();
    expect(catalog.takeChanges()).toBe('all');
    expect(catalog.takeChanges()).toEqual(new Set());
    const save = async (name: string, text: string) => {
      await writeFile(file(name), text);
      catalog.update(file(name));
      return [...(catalog.takeChanges() as Set<string>)].map((post) => path.basename(post));
    };
    expect(await save('a.md', '---\ntitle: A, retitled\nimage: { prompt: "a kite", alt: "A kite" }\n---\nMore text.\n')).toEqual([]);
    // The alt is not in the key, but the page shows it.
    expect(await save('a.md', '---\ntitle: A\nimage: { prompt: "a kite", alt: "A red kite" }\n---\n')).toEqual(['a.md']);
    expect(await save('a.md', '---\ntitle: A\nimage: { prompt: "a kite", alt: "A red kite", seed: 3 }\n---\n')).toEqual(['a.md']);
    expect(await save('a.md', '---\ntitle: A\nimage: { prompt: "a kite", style: nosuch }\n---\n')).toEqual(['a.md']);
    expect(await save('a.md', '---\ntitle: A\nimage: { prompt: "a kite", style: other }\n---\n')).toEqual(['a.md']);
    expect(await save('new.md', '---\ntitle: New, no image\n---\n')).toEqual([]);
    expect(await save('new.md', '---\nimage: "a boat"\n---\n')).toEqual(['new.md']);
    expect(catalog.imagesOf(['src/content/blog/new.md']).map((image) => image.request.prompt)).toEqual(['a boat']);
    await rm(file('plain.md'));
    catalog.update(file('plain.md'));
    expect(catalog.takeChanges()).toEqual(new Set());
    await rm(file('a.md'));
    catalog.update(file('a.md'));
    expect(catalog.takeChanges()).toEqual(new Set(['src/content/blog/a.md']));
    expect(catalog.imagesOf(['src/content/blog/a.md'])).toEqual([]);
  });
});
