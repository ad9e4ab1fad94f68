import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import type { DisclosureMark } from './options.js';
import { copyPngText, getPngText, removePngText, setPngText } from './png-text.js';

/** The PNG text chunk that keeps the original pixels under the mark, so a new mark needs no GPU. */
export const PNG_UNMARKED_KEYWORD = 'astro-comfyui:unmarked';
/** Bump when the drawing changes, so committed images are stamped again. */
const MARK_VERSION = 1;

/** What identifies a mark in the manifest: sha256 of its settings, 16 hex digits. */
export function markId(mark: DisclosureMark): string {
  return createHash('sha256')
    .update(canonicalJson({ ...mark, version: MARK_VERSION }))
    .digest('hex')
    .slice(0, 16);
}

interface KeptPixels {
  left: number;
  top: number;
  width: number;
  height: number;
  /** The original pixels of that rectangle, as a base64 PNG. */
  png: string;
}

/**
 * The image with `mark` burnt into its corner, or with no mark when `mark` is undefined. A mark already
 * in the image is taken out first by putting back the original pixels it keeps, so marking again, or
 * changing the mark, starts from the generated pixels. Every text chunk (ComfyUI's graph, the manifest
 * entry, the XMP) stays.
 */
export async function stampMark(png: Buffer, mark: DisclosureMark | undefined): Promise<Buffer> {
  const { default: sharp } = await import('sharp');
  let original = png;
  const kept = readKept(png);
  if (kept) {
    const { hasAlpha } = await sharp(png).metadata();
    const composed = sharp(png).composite([{ input: Buffer.from(kept.png, 'base64'), left: kept.left, top: kept.top }]);
    const restored = await (hasAlpha ? composed : composed.removeAlpha()).png().toBuffer();
    original = copyPngText(png, restored, [PNG_UNMARKED_KEYWORD]);
  }
  if (!mark) return kept ? removePngText(original, PNG_UNMARKED_KEYWORD) : png;

  const { width, height, hasAlpha } = await sharp(original).metadata();
  const overlay = await drawMark(mark, width, height);
  const margin = Math.round(overlay.size * 0.5);
  const left = mark.position.endsWith('left') ? margin : Math.max(0, width - overlay.width - margin);
  const top = mark.position.startsWith('top') ? margin : Math.max(0, height - overlay.height - margin);
  const area = { left, top, width: Math.min(overlay.width, width - left), height: Math.min(overlay.height, height - top) };
  const under = await sharp(original).extract(area).png().toBuffer();
  const composed = sharp(original).composite([
    { input: await sharp(overlay.data).extract({ left: 0, top: 0, width: area.width, height: area.height }).toBuffer(), left, top },
  ]);
  // The mark is drawn with transparency; the image keeps the channels it had.
  const marked = await (hasAlpha ? composed : composed.removeAlpha()).png().toBuffer();
  const record: KeptPixels = { ...area, png: under.toString('base64') };
  return setPngText(copyPngText(original, marked, [PNG_UNMARKED_KEYWORD]), PNG_UNMARKED_KEYWORD, JSON.stringify(record));
}

/** The mark as an RGBA PNG: the text in white on a dark, rounded plate, both at the mark's opacity. */
async function drawMark(mark: DisclosureMark, imageWidth: number, imageHeight: number): Promise<{ data: Buffer; width: number; height: number; size: number }> {
  const { default: sharp } = await import('sharp');
  // Readable on a 256 px thumbnail, discreet on a 1344 px hero.
  const size = Math.max(9, Math.min(40, Math.round(Math.min(imageWidth, imageHeight) * 0.035)));
  const text = await sharp({
    text: { text: `<span foreground="white">${escapeMarkup(mark.text)}</span>`, font: `sans bold ${size}`, dpi: 72, rgba: true },
  })
    .png()
    .toBuffer({ resolveWithObject: true });
  const pad = Math.round(size * 0.45);
  // Wider than a tiny image, the mark is cut at its edge (stampMark keeps only what is inside).
  const width = text.info.width + 2 * pad;
  const height = text.info.height + 2 * pad;
  const radius = Math.round(pad * 0.8);
  const plate = Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="${width}" height="${height}" rx="${radius}" fill="black" fill-opacity="${(0.55 * mark.opacity).toFixed(3)}"/></svg>`,
  );
  const faded = await sharp(text.data).ensureAlpha().linear([1, 1, 1, mark.opacity], [0, 0, 0, 0]).png().toBuffer();
  const data = await sharp(plate)
    .composite([{ input: faded, left: pad, top: pad }])
    .png()
    .toBuffer();
  return { data, width, height, size };
}

function readKept(png: Buffer): KeptPixels | undefined {
  const text = getPngText(png, PNG_UNMARKED_KEYWORD);
  if (text === undefined) return undefined;
  const kept = JSON.parse(text) as KeptPixels;
  if (![kept.left, kept.top, kept.width, kept.height].every((n) => Number.isInteger(n) && n >= 0) || typeof kept.png !== 'string') {
    throw new Error('its kept original pixels are damaged');
  }
  return kept;
}

function escapeMarkup(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
