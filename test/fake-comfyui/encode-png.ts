import { crc32, deflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Encodes 8-bit RGB pixels as a PNG with optional tEXt chunks (ComfyUI stores `prompt` and `workflow` there). */
export function encodePng(width: number, height: number, rgb: Uint8Array, text: Record<string, string> = {}): Buffer {
  if (rgb.length !== width * height * 3) {
    throw new RangeError(`expected ${width * height * 3} RGB bytes, got ${rgb.length}`);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: truecolour
  const stride = width * 3;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    // Each scanline starts with filter type 0 (none).
    raw.set(rgb.subarray(y * stride, (y + 1) * stride), y * (stride + 1) + 1);
  }
  const chunks: PngChunk[] = [{ type: 'IHDR', data: header }];
  for (const [keyword, value] of Object.entries(text)) {
    chunks.push({ type: 'tEXt', data: Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0]), Buffer.from(value, 'latin1')]) });
  }
  chunks.push({ type: 'IDAT', data: deflateSync(raw, { level: 1 }) }, { type: 'IEND', data: Buffer.alloc(0) });
  return assemblePng(chunks);
}

/** Reads width, height and tEXt chunks back from a PNG; used by tests and by clients that check outputs. */
export function readPngInfo(png: Buffer): { width: number; height: number; text: Record<string, string> } {
  if (!png.subarray(0, 8).equals(SIGNATURE)) throw new Error('not a PNG file');
  const text: Record<string, string> = {};
  let width = 0;
  let height = 0;
  for (const { type, data } of readPngChunks(png)) {
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
    } else if (type === 'tEXt') {
      const nul = data.indexOf(0);
      text[data.toString('latin1', 0, nul)] = data.toString('latin1', nul + 1);
    }
  }
  return { width, height, text };
}

export interface PngChunk {
  type: string;
  data: Buffer;
}

/** A PNG's chunks in order, as its lengths say (CRCs unchecked: tests break them on purpose). */
export function readPngChunks(png: Buffer): PngChunk[] {
  const chunks: PngChunk[] = [];
  for (let offset = 8; offset + 8 <= png.length; offset += 12 + png.readUInt32BE(offset)) {
    const length = png.readUInt32BE(offset);
    chunks.push({ type: png.toString('latin1', offset + 4, offset + 8), data: png.subarray(offset + 8, offset + 8 + length) });
  }
  return chunks;
}

/** A PNG of these chunks, each with its length and a correct CRC. */
export function assemblePng(chunks: PngChunk[]): Buffer {
  return Buffer.concat([SIGNATURE, ...chunks.map(({ type, data }) => pngChunk(type, data))]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
