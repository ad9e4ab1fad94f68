import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { renderPlaceholder, wrapWords } from '../src/render-placeholder.js';

describe('placeholders', () => {
  it('wrap the prompt in whole words, at most the lines asked, with an ellipsis when it is cut', () => {
    const prompt = 'a wooden mountain hut above a fjord, morning mist rolling over the water, golden hour light';
    const lines = wrapWords(prompt, 24, 3);
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line.replace(/…$/, '').length).toBeLessThanOrEqual(24);
    const words = new Set(prompt.split(' '));
    for (const word of lines.join(' ').replace(/…$/, '').split(' ')) expect(words.has(word)).toBe(true);
    expect(lines.at(-1)).toMatch(/…$/);
    expect(wrapWords('a short prompt', 40, 3)).toEqual(['a short prompt']);
    expect(wrapWords('supercalifragilisticexpialidocious', 10, 2)).toEqual(['supercali…']);
  });

  it('are PNGs of exactly the asked size for wide, square and portrait formats', async () => {
    for (const [width, height] of [
      [1344, 768],
      [1024, 1024],
      [832, 1216],
      [64, 64],
    ] as const) {
      const meta = await sharp(await renderPlaceholder(width, height, 'abcd1234', 'a lighthouse at dusk')).metadata();
      expect([meta.format, meta.width, meta.height]).toEqual(['png', width, height]);
    }
  });
});
