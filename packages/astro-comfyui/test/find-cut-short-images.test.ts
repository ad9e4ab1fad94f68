import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { encodePng } from '../../../test/fake-comfyui/encode-png.js';
import { findCutShortImages } from '../src/find-cut-short-images.js';
import { MANIFEST_VERSION, type Manifest, type ManifestEntry } from '../src/manifest.js';
import { endsWhole } from '../src/png-text.js';
import type { ResolvedImage } from '../src/resolve-image.js';

let outDir: string;
beforeEach(async () => {
  outDir = await mkdtemp(path.join(tmpdir(), 'cut-short-'));
});
afterEach(() => rm(outDir, { recursive: true, force: true }));

const png = encodePng(64, 32, new Uint8Array(64 * 32 * 3).fill(120));

it('lists the images whose files stop before their last chunk, by the rule the build refuses them with', async () => {
  const files: Record<string, Buffer> = {
    whole: png,
    cut: png.subarray(0, png.length - 20),
    // Tools that append data after IEND leave the image whole: the build draws it, status must not refuse it.
    appended: Buffer.concat([png, Buffer.from('trailing data from another tool')]),
    // Shorter than the last chunk alone.
    tiny: png.subarray(0, 6),
  };
  const manifest: Manifest = { version: MANIFEST_VERSION, images: {} };
  const images: ResolvedImage[] = [];
  for (const [name, bytes] of Object.entries(files)) {
    await writeFile(path.join(outDir, `${name}.png`), bytes);
    manifest.images[name] = { file: `${name}.png` } as ManifestEntry;
    images.push({ key: name } as ResolvedImage);
  }
  // Listed in the manifest, but its file is not there: another state of status says so.
  manifest.images.gone = { file: 'gone.png' } as ManifestEntry;
  images.push({ key: 'gone' } as ResolvedImage);

  const cut = await findCutShortImages(images, manifest, { outDir });
  expect(cut.map((image) => image.key)).toEqual(['cut', 'tiny']);
  for (const [name, bytes] of Object.entries(files)) expect(endsWhole(bytes), name).toBe(!cut.some((image) => image.key === name));
});
