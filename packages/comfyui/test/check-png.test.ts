import sharp, { type Sharp } from 'sharp';
import { deflateSync, inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { assemblePng, readPngChunks } from '../../../test/fake-comfyui/encode-png.js';
import { checkPng } from '../src/check-png.js';

// Every image a run downloads goes through checkPng. ComfyUI's SaveImage writes 8-bit RGB without
// interlacing, but a user's API workflow may save through other nodes: whatever a real encoder writes
// must pass, and nothing that would not decode may.

/** Smooth pixels of an odd size, so that filters vary and Adam7's passes are uneven (some empty at 1 px). */
function gradient(width: number, height: number): Sharp {
  const pixels = Buffer.alloc(width * height * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37 + Math.floor(i / (width * 3)) * 11) & 0xff;
  return sharp(pixels, { raw: { width, height, channels: 3 } });
}

/** How sharp is asked to write, and the colour type and bit depth that its header then says. */
const encodings = {
  'RGB, 8-bit': [(image: Sharp) => image.png(), { colour: 2, depth: 8 }],
  'RGBA, 8-bit': [(image: Sharp) => image.ensureAlpha().png(), { colour: 6, depth: 8 }],
  'grey, 8-bit': [(image: Sharp) => image.toColourspace('b-w').png(), { colour: 0, depth: 8 }],
  'grey and alpha, 8-bit': [(image: Sharp) => image.toColourspace('b-w').ensureAlpha().png(), { colour: 4, depth: 8 }],
  'RGB, 16-bit': [(image: Sharp) => image.toColourspace('rgb16').png(), { colour: 2, depth: 16 }],
  'palette of 2 colours, 1 bit a pixel': [(image: Sharp) => image.png({ palette: true, colours: 2, dither: 0 }), { colour: 3, depth: 1 }],
  'palette of 256 colours': [(image: Sharp) => image.png({ palette: true, colours: 256 }), { colour: 3, depth: 8 }],
} as const;

const sizes = [
  [1, 1],
  [2, 3],
  [13, 7],
  [64, 48],
  [97, 33],
] as const;

describe('checkPng', () => {
  const cases = Object.keys(encodings).flatMap((name) => [false, true].map((interlaced) => [name, interlaced] as const));

  it.each(cases)('accepts a PNG that sharp writes as %s (interlaced: %s), at every size', async (name, interlaced) => {
    for (const [width, height] of sizes) {
      const [encode, format] = encodings[name as keyof typeof encodings];
      const png = await encode(gradient(width, height)).png({ progressive: interlaced }).toBuffer();
      const ihdr = readPngChunks(png)[0]!.data;
      // The encoding asked for is the one written, or this would test something else.
      expect({ colour: ihdr[9], depth: ihdr[8], interlace: ihdr[12] }).toEqual({ ...format, interlace: interlaced ? 1 : 0 });
      expect(checkPng(png), `${width}x${height}`).toEqual({ width, height });
      expect(checkPng(png, { width, height })).toEqual({ width, height });
    }
  });

  it('checks the rows of every Adam7 pass: a bad filter byte in the last pass is found', async () => {
    const png = await gradient(13, 7).png({ progressive: true, compressionLevel: 0 }).toBuffer();
    const chunks = readPngChunks(png);
    const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
    // Pass 7 holds rows 1, 3 and 5 at full width: 3 rows of 1 + 13 × 3 bytes, at the end of the data.
    const lastRow = raw.length - (1 + 13 * 3);
    expect(raw[lastRow]).toBeLessThanOrEqual(4);
    raw[lastRow] = 7;
    const broken = assemblePng([chunks[0]!, { type: 'IDAT', data: deflateSync(raw) }, { type: 'IEND', data: Buffer.alloc(0) }]);
    expect(() => checkPng(broken)).toThrow('its image data has an invalid row filter (7)');
  });

  it('refuses image data that is one byte short of what the interlaced header promises', async () => {
    const png = await gradient(13, 7).png({ progressive: true }).toBuffer();
    const chunks = readPngChunks(png);
    const raw = inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
    const short = assemblePng([chunks[0]!, { type: 'IDAT', data: deflateSync(raw.subarray(0, -1)) }, { type: 'IEND', data: Buffer.alloc(0) }]);
    expect(() => checkPng(short)).toThrow(`its image data has ${raw.length - 1} bytes, not the ${raw.length} its header promises`);
  });

  it('stops inflating data that would grow past what the header promises (a decompression bomb)', async () => {
    const png = await gradient(1, 1).png().toBuffer();
    const [ihdr] = readPngChunks(png);
    // 64 MiB of zeros deflate to ~64 KiB; a 1x1 RGB header promises 4 bytes.
    const bomb = assemblePng([ihdr!, { type: 'IDAT', data: deflateSync(Buffer.alloc(64 * 1024 * 1024)) }, { type: 'IEND', data: Buffer.alloc(0) }]);
    const before = process.memoryUsage().arrayBuffers;
    expect(() => checkPng(bomb)).toThrow(/^its image data does not decode \(/);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 1024 * 1024);
  });

  it('refuses a chunk whose CRC does not match, naming the chunk', async () => {
    const png = Buffer.from(await gradient(13, 7).png().toBuffer());
    const idat = png.indexOf('IDAT', 8, 'latin1');
    png[idat + 6]! ^= 0xff;
    expect(() => checkPng(png)).toThrow('its IDAT chunk is corrupt (CRC mismatch)');
  });

  it('refuses a header that is not first, missing image data, and a missing end', async () => {
    const chunks = readPngChunks(await gradient(13, 7).png().toBuffer());
    const [ihdr] = chunks;
    const idat = chunks.filter((c) => c.type === 'IDAT');
    const text = { type: 'tEXt', data: Buffer.from('prompt\0{}', 'latin1') };
    const iend = { type: 'IEND', data: Buffer.alloc(0) };
    expect(() => checkPng(assemblePng([text, ihdr!, ...idat, iend]))).toThrow('it does not start with an IHDR chunk');
    expect(() => checkPng(assemblePng([ihdr!, text, iend]))).toThrow('it has no image data');
    expect(() => checkPng(assemblePng([ihdr!, ...idat]))).toThrow('it is truncated (no IEND chunk)');
  });

  it('refuses a header with an impossible format or more pixels than any generated image, before inflating', () => {
    const header = (width: number, height: number, depth: number, colour: number) => {
      const data = Buffer.alloc(13);
      data.writeUInt32BE(width, 0);
      data.writeUInt32BE(height, 4);
      data[8] = depth;
      data[9] = colour;
      return assemblePng([
        { type: 'IHDR', data },
        { type: 'IDAT', data: deflateSync(Buffer.alloc(1)) },
        { type: 'IEND', data: Buffer.alloc(0) },
      ]);
    };
    expect(() => checkPng(header(64, 48, 8, 5))).toThrow('its header is invalid (64x48, colour type 5, depth 8)');
    expect(() => checkPng(header(64, 48, 3, 2))).toThrow('its header is invalid (64x48, colour type 2, depth 3)');
    expect(() => checkPng(header(0, 48, 8, 2))).toThrow('its header is invalid (0x48, colour type 2, depth 8)');
    expect(() => checkPng(header(50_000, 50_000, 8, 2))).toThrow('it claims 50000x50000 pixels, more than any generated image');
    expect(() => checkPng(header(64, 48, 8, 2), { width: 64, height: 64 })).toThrow('it is 64x48, not the 64x64 that was asked for');
  });
});
