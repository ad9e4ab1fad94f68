import { describe, expect, it } from 'vitest';
import { EarlierImages } from '../src/earlier-images.js';
import type { Manifest } from '../src/manifest.js';
import { resolveOptions, type UserOptions } from '../src/options.js';
import { resolveImage, type ResolvedImage } from '../src/resolve-image.js';
import type { ImageRequest } from '../src/scan-posts.js';
import { manifestEntryFor } from '../src/write-image.js';

const site: UserOptions = {
  styles: { watercolor: { prefix: 'a watercolor painting of', negative: 'photo, text' } },
  formats: { hero: { width: 256, height: 144 } },
};
const image = (request: Partial<ImageRequest>, options: UserOptions = site): ResolvedImage =>
  resolveImage(
    { post: 'src/content/blog/harbour.md', field: 'image', index: 0, prompt: 'a harbour at dawn', ...request },
    resolveOptions(options, '/site', {}),
  );

/** The manifest of a site whose images were made by `made`, each at `created`. */
function committed(...made: Array<[ResolvedImage, string?, boolean?]>): Manifest {
  const manifest: Manifest = { version: 2, images: {} };
  for (const [image, created = '2026-11-01T00:00:00.000Z', placeholder = false] of made) {
    manifest.images[image.key] = manifestEntryFor(image, { placeholder, durationMs: 1, comfyuiVersion: '0.3.64', created });
  }
  return manifest;
}

describe('EarlierImages: why an image is made again', () => {
  it('names a changed model setting, a style that rewrote the prompt, and a changed size, with their values', () => {
    const before = image({ style: 'watercolor' });
    const after = image(
      { style: 'watercolor' },
      {
        ...site,
        model: { preset: 'large-turbo', steps: 6 },
        styles: { watercolor: { prefix: 'a loose watercolour of', negative: 'photo, text' } },
        formats: { hero: { width: 512, height: 288 } },
      },
    );
    expect(new EarlierImages(committed([before])).changesOf(after)).toEqual([
      'steps 4 → 6',
      'size 256×144 → 512×288',
      'the prompt: "watercolor painting" → "loose watercolour"',
    ]);
  });

  it('names another model or workflow, a negative prompt added, and a seed the post changed', () => {
    const before = image({});
    const after = image({ negative: 'people', seed: 7 }, { ...site, model: { preset: 'large' } });
    expect(new EarlierImages(committed([before])).changesOf(after)).toEqual([
      'model preset large-turbo → large',
      'the negative prompt: added "people"',
      `seed ${before.seed} → 7`,
    ]);
  });

  it("names an upgrade that changed this package's graph, and a switch from the author's workflow", () => {
    const now = image({});
    const made = (workflow: string) => {
      const manifest = committed([now]);
      manifest.images[now.key]!.workflow = workflow;
      return new EarlierImages(manifest).changesOf(now);
    };
    expect(made('sd35:large-turbo@0')).toEqual(["astro-comfyui's SD3.5 graph, version 0 → 1"]);
    expect(made('custom:0123456789abcdef')).toEqual(['the workflow file → model preset large-turbo']);
  });

  it('leaves out a seed derived from the prompt: the prompt edit says it', () => {
    const changes = new EarlierImages(committed([image({})])).changesOf(image({ prompt: 'a harbour at dusk' }));
    expect(changes).toEqual(['the prompt: "dawn" → "dusk"']);
  });

  it("compares with the newest real image of the same place of the same post, never another post's or a placeholder", () => {
    const old = image({ prompt: 'a harbour at noon' });
    const newer = image({ prompt: 'a harbour at dusk' });
    const placeholder = image({ prompt: 'a harbour in fog' });
    const manifest = committed([old, '2026-10-01T00:00:00.000Z'], [newer, '2026-11-01T00:00:00.000Z'], [placeholder, '2026-12-01T00:00:00.000Z', true]);
    const earlier = new EarlierImages(manifest);
    expect(earlier.changesOf(image({}))).toEqual(['the prompt: "dusk" → "dawn"']);
    // images[1] of the post, and another post, had no image before.
    expect(earlier.changesOf(image({ field: 'images[1]', index: 1 }))).toBeUndefined();
    expect(earlier.changesOf(image({ post: 'src/content/blog/lighthouse.md' }))).toBeUndefined();
    // The image itself committed (its file lost): nothing changed.
    expect(new EarlierImages(committed([image({})])).changesOf(image({}))).toBeUndefined();
  });

  it('sums up for the log: how many replace committed images, the most common changes first', () => {
    const made = [image({}), image({ post: 'src/content/blog/lighthouse.md', prompt: 'a lighthouse' })];
    const steps = { ...site, model: { preset: 'large-turbo' as const, steps: 6 } };
    const now = [
      image({}, steps),
      image({ post: 'src/content/blog/lighthouse.md', prompt: 'a lighthouse at dusk' }, steps),
      image({ post: 'src/content/blog/new.md', prompt: 'a new post' }, steps),
    ];
    const earlier = new EarlierImages(committed(...made.map((i): [ResolvedImage] => [i])));
    expect(earlier.summarise(now)).toBe(
      '2 of them replace committed images that other settings made: steps 4 → 6 (2 images); the prompt: added "at dusk" (1 image). The committed files stay until `npx astro-comfyui prune`.',
    );
    expect(earlier.summarise(now.slice(0, 1))).toMatch(/^It replaces a committed image that other settings made: steps 4 → 6 \(1 image\)\./);
    expect(earlier.summarise([now[0]!, now[2]!])).toMatch(/^1 of them replaces a committed image that other settings made: steps 4 → 6 \(1 image\)\./);
    expect(earlier.summarise(now.slice(2))).toBeUndefined();
    // Told which images it will be asked about, it reads only their posts' entries, with the same answers.
    const manifest = committed(...made.map((i): [ResolvedImage] => [i]));
    expect(new EarlierImages(manifest, now).summarise(now)).toBe(earlier.summarise(now));
    expect(new EarlierImages(manifest, [now[0]!]).changesOf(now[0]!)).toEqual(['steps 4 → 6']);
    expect(new EarlierImages(manifest, [now[2]!]).changesOf(now[0]!)).toBeUndefined();
    expect(earlier.noteOf(now[0]!)).toBe(' (changed since its committed image: steps 4 → 6)');
    expect(earlier.noteOf(now[2]!)).toBe('');
  });
});
