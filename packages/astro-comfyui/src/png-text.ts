import { crc32 } from 'node:zlib';

const IHDR_END = 8 + 12 + 13;
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Whether `bytes` start with the PNG signature. */
export function startsAsPng(bytes: Uint8Array): boolean {
  return Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 8)).equals(PNG_SIGNATURE);
}

/** The width and height in the IHDR of a PNG that was checked already (its first chunk, after the signature). */
export function pngSize(png: Buffer): { width: number; height: number } {
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

/**
 * The PNG with an iTXt chunk `keyword` = `text` (UTF-8) right after its header; an existing text chunk
 * with that keyword is replaced. The pixels and every other chunk (ComfyUI's `prompt`, `workflow`) stay.
 */
export function setPngText(png: Buffer, keyword: string, text: string): Buffer {
  const data = Buffer.concat([Buffer.from(keyword, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(text, 'utf8')]);
  const chunk = Buffer.alloc(12 + data.length);
  chunk.writeUInt32BE(data.length, 0);
  chunk.write('iTXt', 4, 'latin1');
  data.copy(chunk, 8);
  chunk.writeUInt32BE(crc32(chunk.subarray(4, 8 + data.length)), 8 + data.length);
  const without = removePngText(png, keyword);
  return Buffer.concat([without.subarray(0, IHDR_END), chunk, without.subarray(IHDR_END)]);
}

/** The text of the first tEXt or iTXt chunk named `keyword` (uncompressed only), or undefined. */
export function getPngText(png: Buffer, keyword: string): string | undefined {
  for (const c of chunksOf(png)) {
    if ((c.type !== 'tEXt' && c.type !== 'iTXt') || textKeyword(c.data) !== keyword) continue;
    const afterKeyword = c.data.indexOf(0) + 1;
    if (c.type === 'tEXt') return c.data.toString('latin1', afterKeyword);
    // iTXt: compression flag, method, language\0, translated keyword\0, text.
    if (c.data[afterKeyword] !== 0) return undefined;
    const language = c.data.indexOf(0, afterKeyword + 2);
    const translated = c.data.indexOf(0, language + 1);
    return c.data.toString('utf8', translated + 1);
  }
  return undefined;
}

/**
 * `target` (a PNG re-encoded from `source`, which drops text chunks) with every text chunk of `source`
 * put back after its header, except those named in `except`.
 */
export function copyPngText(source: Buffer, target: Buffer, except: readonly string[] = []): Buffer {
  const text = [...chunksOf(source)].filter((c) => TEXT_CHUNKS.has(c.type) && !except.includes(textKeyword(c.data)));
  const rest = [...chunksOf(target)].filter((c) => c.offset >= IHDR_END && !TEXT_CHUNKS.has(c.type));
  return Buffer.concat([
    target.subarray(0, IHDR_END),
    ...text.map((c) => source.subarray(c.offset, c.end)),
    ...rest.map((c) => target.subarray(c.offset, c.end)),
  ]);
}

/** The PNG without its text chunk named `keyword`, if it has one. */
export function removePngText(png: Buffer, keyword: string): Buffer {
  const keep = [...chunksOf(png)].filter((c) => c.offset >= IHDR_END && !(TEXT_CHUNKS.has(c.type) && textKeyword(c.data) === keyword));
  return Buffer.concat([png.subarray(0, IHDR_END), ...keep.map((c) => png.subarray(c.offset, c.end))]);
}

/**
 * Whether the PNG's chunks run whole up to its IEND: a file cut short (a copy or a merge tool stopped
 * midway) does not, though a decoder may still draw its first rows without an error. Reads no pixels.
 */
export function endsWhole(png: Buffer): boolean {
  for (const c of chunksOf(png)) if (c.type === 'IEND') return true;
  return false;
}

const TEXT_CHUNKS = new Set(['tEXt', 'iTXt', 'zTXt']);

function textKeyword(data: Buffer): string {
  return data.toString('latin1', 0, Math.max(0, data.indexOf(0)));
}

/** Walks the chunks of a PNG that `checkPng` accepted; stops at the first malformed length. */
function* chunksOf(png: Buffer): Generator<{ type: string; data: Buffer; offset: number; end: number }> {
  let offset = 8;
  while (offset + 12 <= png.length) {
    const length = png.readUInt32BE(offset);
    const end = offset + 12 + length;
    if (end > png.length) return;
    yield { type: png.toString('latin1', offset + 4, offset + 8), data: png.subarray(offset + 8, offset + 8 + length), offset, end };
    offset = end;
  }
}
