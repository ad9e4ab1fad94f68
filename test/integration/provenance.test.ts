import { execFile } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { useCleanups } from '../helpers/cleanups.js';
import { fixtureImageService, replaceInFile, runAstro, setupBlogWithFake } from '../helpers/fixture-site.js';

const cleanups = useCleanups();
const TRAINED = 'http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia';

/** Every tag a real metadata reader (Debian's exiftool) finds in a file, by group and name. */
async function exiftool(file: string): Promise<Record<string, unknown>> {
  const { stdout } = await promisify(execFile)('exiftool', ['-j', '-G1', '-struct', file]);
  return (JSON.parse(stdout) as Array<Record<string, unknown>>)[0]!;
}

describe('provenance of generated images', () => {
  it('says in every file a reader can download how the image was made; an author photo keeps Astro behaviour', async () => {
    const { root, env } = await setupBlogWithFake(cleanups);
    // The author's own photo, with XMP of its own, on a page of its own.
    await mkdir(path.join(root, 'src/assets'), { recursive: true });
    await sharp({ create: { width: 96, height: 64, channels: 3, background: '#246' } })
      .png()
      .withXmp(
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"><rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator><rdf:Seq><rdf:li>An author</rdf:li></rdf:Seq></dc:creator></rdf:Description></rdf:RDF></x:xmpmeta>',
      )
      .toFile(path.join(root, 'src/assets/photo.png'));
    await writeFile(
      path.join(root, 'src/pages/photo.astro'),
      "---\nimport { Image } from 'astro:assets';\nimport photo from '../assets/photo.png';\n---\n<html><body><Image src={photo} alt=\"A photo\" /></body></html>\n",
    );
    // An Open Graph image: a PNG derivative of a generated image.
    await writeFile(
      path.join(root, 'src/pages/og.astro'),
      "---\nimport { getCollection } from 'astro:content';\nimport { getImage } from 'astro:assets';\nimport { getPostImage } from 'astro-comfyui/images';\nconst post = (await getCollection('blog')).find((p) => p.id === 'lighthouse');\nconst og = await getImage({ src: getPostImage(post).src, format: 'png', width: 128 });\n---\n<html><head><meta property=\"og:image\" content={og.src} /></head><body></body></html>\n",
    );
    // The site's own encoder options (here lossless WebP) apply to generated images as to its own.
    const config = path.join(root, 'astro.config.mjs');
    await replaceInFile(config, fixtureImageService, 'image: { service: sharpImageService({ webp: { lossless: true } }) },');
    const caption = 'AI-generated with Stable Diffusion 3.5';
    const build = await runAstro(root, ['build'], { ...env, ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ disclosure: { caption } }) });
    expect(build.exitCode, String(build.all)).toBe(0);
    // The caption reaches the page through getPostImages(), under each generated image.
    const html = await readFile(path.join(root, 'dist/lighthouse/index.html'), 'utf8');
    expect(html).toContain(`<figcaption data-disclosure>${caption}</figcaption>`);

    const manifest = JSON.parse(await readFile(path.join(root, 'src/assets/generated/images.lock.json'), 'utf8')) as {
      images: Record<string, { file: string; prompt: string; negative: string; seed: number; comfyuiVersion: string; workflow: string }>;
    };
    const [key, entry] = Object.entries(manifest.images).find(([, e]) => e.file.startsWith('lighthouse-'))!;

    // The committed PNG: XMP with the whole story, and ComfyUI's own graph still in its text chunk.
    const committed = await exiftool(path.join(root, 'src/assets/generated', entry.file));
    expect(committed['XMP-iptcExt:DigitalSourceType']).toBe(TRAINED);
    expect(committed['XMP-acui:Prompt']).toBe(entry.prompt);
    expect(committed['XMP-acui:NegativePrompt']).toBe(entry.negative);
    expect(committed['XMP-acui:Seed']).toBe(entry.seed);
    // The default model: SD3.5 Large Turbo, whose text encoders are separate files.
    expect(committed['XMP-acui:ModelFiles']).toEqual(
      expect.arrayContaining(['sd3.5_large_turbo.safetensors', 'clip_l.safetensors', 'clip_g.safetensors', 't5xxl_fp16.safetensors']),
    );
    expect(committed['XMP-acui:ComfyUIVersion']).toBe(entry.comfyuiVersion);
    expect(committed['XMP-acui:Workflow']).toBe(entry.workflow);
    expect(committed['XMP-acui:ImageKey']).toBe(key);
    expect(String(committed['XMP-xmp:CreatorTool'])).toContain('ComfyUI');
    expect(String(committed['PNG:Prompt'])).toContain('"class_type": "KSampler"');

    // Every derivative astro:assets made of it (AVIF, WebP and the Open Graph PNG) carries the same XMP.
    const files = await readdir(path.join(root, 'dist/_astro'));
    const derivatives = files.filter((f) => f.startsWith('lighthouse-') && /\.(avif|webp|png)$/.test(f));
    expect(['avif', 'webp', 'png'].every((format) => derivatives.some((f) => f.endsWith(`.${format}`)))).toBe(true);
    for (const file of derivatives) {
      const tags = await exiftool(path.join(root, 'dist/_astro', file));
      expect(tags['XMP-iptcExt:DigitalSourceType'], file).toBe(TRAINED);
      expect(tags['XMP-acui:Prompt'], file).toBe(entry.prompt);
      expect(tags['XMP-acui:ImageKey'], file).toBe(key);
      // A lossless WebP's image data is a VP8L chunk, a lossy one's a "VP8 " chunk.
      if (file.endsWith('.webp')) expect((await readFile(path.join(root, 'dist/_astro', file))).includes('VP8L'), file).toBe(true);
    }

    // The author's photo is optimised as Astro always does: no provenance added, its own metadata stripped.
    const photos = files.filter((f) => f.startsWith('photo.') && f.endsWith('.webp'));
    expect(photos).toHaveLength(1);
    expect((await readFile(path.join(root, 'dist/_astro', photos[0]!))).includes('VP8L')).toBe(true);
    const photo = await exiftool(path.join(root, 'dist/_astro', photos[0]!));
    expect(Object.keys(photo).filter((tag) => tag.startsWith('XMP'))).toEqual([]);
  });

  it('burns a mark into generated images, and a new mark re-stamps them in CI from the kept original, without GPU work', async () => {
    const { fake, root, env } = await setupBlogWithFake(cleanups);
    const manifestOf = async () =>
      JSON.parse(await readFile(path.join(root, 'src/assets/generated/images.lock.json'), 'utf8')) as {
        images: Record<string, { file: string; mark?: string; placeholder: boolean }>;
      };
    const withMark = (mark: unknown) => JSON.stringify({ disclosure: { mark } });
    const first = await runAstro(root, ['build'], { ...env, ASTRO_COMFYUI_TEST_OPTIONS: withMark({ text: 'AI-generated' }) });
    expect(first.exitCode, String(first.all)).toBe(0);
    const runs = fake.stats.samplerRuns;
    const [key, entry] = Object.entries((await manifestOf()).images).find(([, e]) => e.file.startsWith('lighthouse-'))!;
    expect(entry.mark).toMatch(/^[0-9a-f]{16}$/);
    // What ComfyUI saved, before the mark.
    const saved = (await readdir(path.join(fake.outputDirectory, 'astro-comfyui'))).find((f) => f.startsWith(key.slice(0, 12)))!;
    const raw = async (file: string) => (await sharp(file).raw().toBuffer()).toString('base64');
    const original = await raw(path.join(fake.outputDirectory, 'astro-comfyui', saved));
    const committed = path.join(root, 'src/assets/generated', entry.file);
    expect(await raw(committed)).not.toBe(original);

    // A new mark in CI (frozen: ComfyUI is never contacted): re-stamped, nothing generated.
    const ci = { COMFYUI_URL: 'http://127.0.0.1:9', CI: '1' };
    const changed = await runAstro(root, ['build'], { ...ci, ASTRO_COMFYUI_TEST_OPTIONS: withMark({ text: 'Made with AI', position: 'top-left' }) });
    expect(changed.exitCode, String(changed.all)).toBe(0);
    expect(changed.all).toMatch(/Put the disclosure mark "Made with AI" on \d+ committed images \(no GPU work\)/);
    const after = (await manifestOf()).images[key]!;
    expect(after.mark).toMatch(/^[0-9a-f]{16}$/);
    expect(after.mark).not.toBe(entry.mark);
    expect(fake.stats.samplerRuns).toBe(runs);
    expect((await exiftool(committed))['XMP-iptcExt:DigitalSourceType']).toBe(TRAINED);

    // No mark: the committed image is exactly what ComfyUI made.
    const removed = await runAstro(root, ['build'], { ...ci, ASTRO_COMFYUI_TEST_OPTIONS: '{}' });
    expect(removed.exitCode, String(removed.all)).toBe(0);
    expect(await raw(committed)).toBe(original);
    expect((await manifestOf()).images[key]!.mark).toBeUndefined();
    expect(fake.stats.samplerRuns).toBe(runs);

    // A file cut short is not re-stamped: a decoder would draw it grey from where it stops, and the
    // re-stamped file would look whole. It is left as it is, and the build names it.
    const cut = (await readFile(committed)).subarray(0, -300);
    await writeFile(committed, cut);
    const damaged = await runAstro(root, ['build'], { ...ci, ASTRO_COMFYUI_TEST_OPTIONS: withMark({ text: 'AI' }) });
    expect(damaged.exitCode).not.toBe(0);
    expect(damaged.all).toContain(`src/assets/generated/${entry.file} keeps its old mark: it could not be re-stamped (it is cut short; restore it from git`);
    expect(damaged.all).toContain(`The generated image ${entry.file} is cut short`);
    expect((await readFile(committed)).equals(cut)).toBe(true);
  });

  it('writes no XMP and no caption with disclosure: { xmp: false }, and placeholders never claim to be AI-made', async () => {
    const { root } = await setupBlogWithFake(cleanups);
    // No ComfyUI: every image is a marked placeholder.
    const build = await runAstro(root, ['build'], {
      COMFYUI_URL: 'http://127.0.0.1:9',
      ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ onMissing: 'placeholder', disclosure: { caption: 'AI-generated' } }),
    });
    expect(build.exitCode, String(build.all)).toBe(0);
    const placeholders = (await readdir(path.join(root, 'src/assets/generated'))).filter((f) => f.endsWith('.png'));
    expect(placeholders.length).toBeGreaterThan(0);
    for (const file of placeholders) expect(await exiftool(path.join(root, 'src/assets/generated', file))).not.toHaveProperty('XMP-iptcExt:DigitalSourceType');
    expect(await readFile(path.join(root, 'dist/lighthouse/index.html'), 'utf8')).not.toContain('data-disclosure');

    const { fake, root: other, env } = await setupBlogWithFake(cleanups);
    const off = await runAstro(other, ['build'], { ...env, ASTRO_COMFYUI_TEST_OPTIONS: JSON.stringify({ disclosure: { xmp: false } }) });
    expect(off.exitCode, String(off.all)).toBe(0);
    expect(fake.stats.samplerRuns).toBeGreaterThan(0);
    const generated = (await readdir(path.join(other, 'src/assets/generated'))).filter((f) => f.endsWith('.png'));
    const derived = (await readdir(path.join(other, 'dist/_astro'))).filter((f) => /\.(avif|webp)$/.test(f));
    for (const file of [...generated.map((f) => path.join(other, 'src/assets/generated', f)), ...derived.map((f) => path.join(other, 'dist/_astro', f))]) {
      expect(
        Object.keys(await exiftool(file)).filter((tag) => tag.startsWith('XMP')),
        file,
      ).toEqual([]);
    }
  });
});
