import { crc32, inflateSync } from 'node:zlib';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** Channels per pixel for each PNG colour type. */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
/** Larger than any image SD3.5 makes (about 4 MP); a header claiming more is refused before inflating. */
export const MAX_PNG_PIXELS = 64 * 1024 * 1024;
/** Largest image file taken from ComfyUI (a `/view` body): far above any SD3.5 PNG, far below what could exhaust memory. */
export const MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024;

export interface PngInfo {
  width: number;
  height: number;
}

/**
 * Checks that `bytes` is one whole, decodable PNG: signature, chunk lengths and CRCs, IHDR, IEND, and
 * that the image data inflates to exactly the size the header promises, with valid row filters. With
 * `expected`, its size must match too. Returns the size, or throws an Error that says what is wrong.
 */
export function checkPng(bytes: Uint8Array, expected?: PngInfo): PngInfo {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < SIGNATURE.length || !buf.subarray(0, 8).equals(SIGNATURE)) {
    throw new Error(`it is not a PNG (it starts with ${JSON.stringify(buf.subarray(0, 16).toString('latin1'))})`);
  }
  let offset = 8;
  let header: { width: number; height: number; depth: number; colour: number; interlace: number } | undefined;
  const idat: Buffer[] = [];
  let ended = false;
  while (offset < buf.length && !ended) {
    if (offset + 12 > buf.length) throw new Error('it is truncated inside a chunk header');
    const length = buf.readUInt32BE(offset);
    const type = buf.toString('latin1', offset + 4, offset + 8);
    const end = offset + 12 + length;
    if (end > buf.length) throw new Error(`it is truncated inside its ${type} chunk`);
    const data = buf.subarray(offset + 8, offset + 8 + length);
    if (crc32(buf.subarray(offset + 4, offset + 8 + length)) !== buf.readUInt32BE(offset + 8 + length)) {
      throw new Error(`its ${type} chunk is corrupt (CRC mismatch)`);
    }
    if (!header && type !== 'IHDR') throw new Error('it does not start with an IHDR chunk');
    if (type === 'IHDR') {
      header = { width: data.readUInt32BE(0), height: data.readUInt32BE(4), depth: data[8]!, colour: data[9]!, interlace: data[12]! };
      checkHeader(header, expected);
    } else if (type === 'IDAT') {
      idat.push(data);
    } else if (type === 'IEND') {
      ended = true;
    }
    offset = end;
  }
  if (!header) throw new Error('it has no IHDR chunk');
  if (!ended) throw new Error('it is truncated (no IEND chunk)');
  if (idat.length === 0) throw new Error('it has no image data');
  checkPixels(Buffer.concat(idat), header);
  return { width: header.width, height: header.height };
}

function checkHeader(h: { width: number; height: number; depth: number; colour: number }, expected?: PngInfo): void {
  if (h.width === 0 || h.height === 0 || CHANNELS[h.colour] === undefined || ![1, 2, 4, 8, 16].includes(h.depth)) {
    throw new Error(`its header is invalid (${h.width}x${h.height}, colour type ${h.colour}, depth ${h.depth})`);
  }
  if (expected && (h.width !== expected.width || h.height !== expected.height)) {
    throw new Error(`it is ${h.width}x${h.height}, not the ${expected.width}x${expected.height} that was asked for`);
  }
  if (h.width * h.height > MAX_PNG_PIXELS) throw new Error(`it claims ${h.width}x${h.height} pixels, more than any generated image`);
}

/** Inflates the image data and walks its rows: a PNG that passes decodes. */
function checkPixels(data: Buffer, h: { width: number; height: number; depth: number; colour: number; interlace: number }): void {
  const bitsPerPixel = CHANNELS[h.colour]! * h.depth;
  const passes = h.interlace === 1 ? adam7Passes(h.width, h.height) : [{ width: h.width, height: h.height }];
  let expectedBytes = 0;
  for (const pass of passes) if (pass.width > 0 && pass.height > 0) expectedBytes += pass.height * (1 + Math.ceil((pass.width * bitsPerPixel) / 8));
  let raw: Buffer;
  try {
    raw = inflateSync(data, { maxOutputLength: expectedBytes + 1 });
  } catch (error) {
    throw new Error(`its image data does not decode (${(error as Error).message})`);
  }
  if (raw.length !== expectedBytes) throw new Error(`its image data has ${raw.length} bytes, not the ${expectedBytes} its header promises`);
  let row = 0;
  for (const pass of passes) {
    if (pass.width === 0 || pass.height === 0) continue;
    const stride = 1 + Math.ceil((pass.width * bitsPerPixel) / 8);
    for (let y = 0; y < pass.height; y++, row += stride) {
      if (raw[row]! > 4) throw new Error(`its image data has an invalid row filter (${raw[row]})`);
    }
  }
}

function adam7Passes(width: number, height: number): PngInfo[] {
  const starts = [
    [0, 0, 8, 8],
    [4, 0, 8, 8],
    [0, 4, 4, 8],
    [2, 0, 4, 4],
    [0, 2, 2, 4],
    [1, 0, 2, 2],
    [0, 1, 1, 2],
  ] as const;
  return starts
    .map(([x0, y0, dx, dy]) => ({ width: Math.ceil((width - x0) / dx), height: Math.ceil((height - y0) / dy) }))
    .map((p) => ({ width: Math.max(0, p.width), height: Math.max(0, p.height) }));
}
