import { randomBytes } from 'node:crypto';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import type { DisclosureMark } from '../src/options.js';
import { getPngText, setPngText } from '../src/png-text.js';
import { markId, PNG_UNMARKED_KEYWORD, stampMark } from '../src/stamp-mark.js';

const mark: DisclosureMark = { text: 'AI-generated', position: 'bottom-right', opacity: 0.8 };

/** A noisy 320×180 RGB PNG with text chunks, like one ComfyUI saved and astro-comfyui described. */
async function generated(): Promise<Buffer> {
  const png = await sharp(randomBytes(320 * 180 * 3), { raw: { width: 320, height: 180, channels: 3 } })
    .png()
    .toBuffer();
  return setPngText(setPngText(png, 'prompt', '{"8": {"class_type": "KSampler"}}'), 'astro-comfyui', '{"key":"k"}');
}

const pixels = async (png: Buffer) => (await sharp(png).raw().toBuffer({ resolveWithObject: true })).data;

/** Bounding box of the pixels that differ between two images of the same size. */
async function changedArea(a: Buffer, b: Buffer) {
  const [pa, pb] = [await pixels(a), await pixels(b)];
  let [minX, minY, maxX, maxY] = [Infinity, Infinity, -1, -1];
  for (let i = 0; i < pa.length; i += 3) {
    if (pa[i] === pb[i] && pa[i + 1] === pb[i + 1] && pa[i + 2] === pb[i + 2]) continue;
    const x = (i / 3) % 320;
    const y = Math.floor(i / 3 / 320);
    [minX, minY, maxX, maxY] = [Math.min(minX, x), Math.min(minY, y), Math.max(maxX, x), Math.max(maxY, y)];
  }
  return maxX < 0 ? null : { minX, minY, maxX, maxY };
}

describe('stampMark', () => {
  it('burns the mark into the chosen corner only and keeps every text chunk', async () => {
    const original = await generated();
    const stamped = await stampMark(original, mark);
    const area = (await changedArea(original, stamped))!;
    expect(area.maxX).toBeLessThan(320);
    expect(area.minX).toBeGreaterThan(160);
    expect(area.minY).toBeGreaterThan(120);
    expect(getPngText(stamped, 'prompt')).toBe('{"8": {"class_type": "KSampler"}}');
    expect(getPngText(stamped, 'astro-comfyui')).toBe('{"key":"k"}');

    const topLeft = (await changedArea(original, await stampMark(original, { ...mark, position: 'top-left' })))!;
    expect(topLeft.maxX).toBeLessThan(160);
    expect(topLeft.maxY).toBeLessThan(60);
  });

  it('changes or removes the mark from the original pixels it keeps, exactly', async () => {
    const original = await generated();
    const first = await stampMark(original, mark);
    const changed = await stampMark(first, { ...mark, text: 'Made with SD3.5', position: 'top-left' });
    // The old corner is the original again; only the new one differs.
    const area = (await changedArea(original, changed))!;
    expect(area.maxX).toBeLessThan(200);
    expect(area.maxY).toBeLessThan(60);
    // Stamping twice with the same mark does not stack marks.
    expect(await pixels(await stampMark(first, mark))).toEqual(await pixels(first));
    const removed = await stampMark(changed, undefined);
    expect(await pixels(removed)).toEqual(await pixels(original));
    expect(getPngText(removed, PNG_UNMARKED_KEYWORD)).toBeUndefined();
    expect(getPngText(removed, 'prompt')).toBe('{"8": {"class_type": "KSampler"}}');
  });

  it('names each mark by its settings', () => {
    expect(markId(mark)).toMatch(/^[0-9a-f]{16}$/);
    expect(markId(mark)).toBe(markId({ ...mark }));
    expect(markId({ ...mark, opacity: 0.5 })).not.toBe(markId(mark));
  });
});
