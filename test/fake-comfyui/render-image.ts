import { createHash } from 'node:crypto';

/**
 * Deterministic stand-in for a diffusion result: the same fingerprint (seed, texts, model, size…) always
 * gives the same pixels and different fingerprints give visibly different images.
 */
export function renderImage(width: number, height: number, fingerprint: string): Uint8Array {
  const hash = createHash('sha256').update(fingerprint).digest();
  const from = [hash[0]!, hash[1]!, hash[2]!];
  const to = [hash[3]!, hash[4]!, hash[5]!];
  const stripes = 2 + (hash[6]! % 9);
  const pixels = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const band = Math.floor((y * stripes) / height) % 2;
    for (let x = 0; x < width; x++) {
      const t = (x + y) / (width + height);
      const i = (y * width + x) * 3;
      for (let c = 0; c < 3; c++) {
        const value = from[c]! + (to[c]! - from[c]!) * t;
        pixels[i + c] = band ? 255 - value : value;
      }
    }
  }
  return pixels;
}
