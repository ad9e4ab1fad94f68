import { writeFileSync } from 'node:fs';
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Writes a site with `posts` generated posts (each with an image prompt) under `.tmp/` so the workspace's
 * packages resolve. Its pages render each post's image through astro:assets only with `renderImages`.
 */
export async function generateSite(posts: number, name = 'bench-site', { renderImages = false } = {}): Promise<string> {
  await mkdir(path.join(repoRoot, '.tmp'), { recursive: true });
  const root = await mkdtemp(path.join(repoRoot, '.tmp', `${name}-`));
  await cp(path.join(repoRoot, 'test/fixtures/blog/src/content.config.ts'), path.join(root, 'src/content.config.ts'));
  await writeFile(path.join(root, 'package.json'), '{ "name": "bench-site", "private": true, "type": "module" }\n');
  // ASTRO_COMFYUI_BENCH_OFF builds the same directory without the integration (not even its import).
  await writeFile(
    path.join(root, 'astro.config.mjs'),
    `import { defineConfig } from 'astro/config';
const integrations = process.env.ASTRO_COMFYUI_BENCH_OFF
  ? []
  : [(await import('astro-comfyui')).default({ mode: 'frozen', formats: { hero: { width: 64, height: 64 } } })];
export default defineConfig({ integrations });
`,
  );
  await mkdir(path.join(root, 'src/pages'), { recursive: true });
  // By default pages do not render the images: the build comparison leaves out astro:assets' own work.
  await writeFile(
    path.join(root, 'src/pages/[...slug].astro'),
    `---
import { getCollection } from 'astro:content';
${renderImages ? "import { Image } from 'astro:assets';\nimport { getPostImage } from 'astro-comfyui/images';\n" : ''}export async function getStaticPaths() {
  return (await getCollection('blog')).map((post) => ({ params: { slug: post.id }, props: { post } }));
}
const { post } = Astro.props;
${renderImages ? 'const image = getPostImage(post);\n' : ''}---
<html><body><h1>{post.data.title}</h1>${renderImages ? '{image && <Image src={image.src} alt={image.alt} />}' : ''}</body></html>
`,
  );
  const dir = path.join(root, 'src/content/blog');
  await mkdir(dir, { recursive: true });
  const subjects = ['lighthouse', 'harbour', 'fox', 'owl', 'shell', 'fjord', 'market', 'tide pool'];
  const times = ['dawn', 'noon', 'dusk', 'night'];
  // Synchronous writes: tens of thousands of parallel ones run out of file descriptors (EMFILE).
  for (let i = 0; i < posts; i++) {
    writeFileSync(
      path.join(dir, `post-${String(i).padStart(5, '0')}.md`),
      `---\ntitle: Post ${i}\nimage: { prompt: "a ${subjects[i % subjects.length]} at ${times[i % times.length]}, study ${i}", seed: ${i} }\n---\nBody of post ${i}.\n`,
    );
  }
  return root;
}
