/**
 * A stand-in PNG of the right size for machines without ComfyUI: a flat colour from the key, diagonal
 * stripes and the word PLACEHOLDER, so nobody mistakes it for a generated image. The prompt is set below
 * it in whole words, sized to the image's width, so square and portrait formats fit as well as wide ones.
 */
export async function renderPlaceholder(width: number, height: number, key: string, prompt: string): Promise<Buffer> {
  const hue = Number.parseInt(key.slice(0, 4), 16) % 360;
  // A sans-serif capital is about 0.68 em wide: "PLACEHOLDER" (11 letters) fills at most 80 % of the width.
  const label = Math.round(Math.min(height / 7, (width * 0.8) / (11 * 0.68)));
  const small = Math.max(10, Math.round(label / 2.6));
  const lines = wrapWords(prompt, Math.floor((width * 0.84) / (small * 0.52)), 3);
  const ink = `hsl(${hue},40%,28%)`;
  const top = height / 2 - ((lines.length + 1) * small * 1.3) / 2 + label / 3;
  const text = lines
    .map(
      (line, i) =>
        `<text x="50%" y="${Math.round(top + label * 0.9 + (i + 1) * small * 1.3)}" font-size="${small}" text-anchor="middle" fill="${ink}">${escapeXml(line)}</text>`,
    )
    .join('\n  ');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <defs><pattern id="s" width="48" height="48" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="24" height="48" fill="hsl(${hue},35%,86%)"/></pattern></defs>
  <rect width="100%" height="100%" fill="hsl(${hue},35%,80%)"/>
  <rect width="100%" height="100%" fill="url(#s)"/>
  <g font-family="DejaVu Sans, Helvetica, Arial, sans-serif">
  <text x="50%" y="${Math.round(top)}" font-size="${label}" font-weight="700" text-anchor="middle" fill="${ink}" dominant-baseline="middle">PLACEHOLDER</text>
  ${text}
  </g>
</svg>`;
  // Loaded on demand: builds that need no placeholder never pay for sharp's native library.
  const { default: sharp } = await import('sharp');
  return sharp(Buffer.from(svg)).png({ compressionLevel: 9 }).toBuffer();
}

/** Whole words in at most `maxLines` lines of `perLine` characters; an ellipsis after the last whole word that fits. */
export function wrapWords(text: string, perLine: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.replace(/\s+/g, ' ').trim().split(' ')) {
    const next = line ? `${line} ${word}` : word;
    if (next.length <= perLine) {
      line = next;
      continue;
    }
    if (line) lines.push(line);
    line = word.length > perLine ? `${word.slice(0, Math.max(1, perLine - 1))}…` : word;
    if (lines.length === maxLines) break;
  }
  if (line && lines.length < maxLines) lines.push(line);
  if (lines.length === maxLines && lines.join(' ').length < text.replace(/\s+/g, ' ').trim().length && !lines[maxLines - 1]!.endsWith('…')) {
    lines[maxLines - 1] = `${lines[maxLines - 1]}…`;
  }
  return lines;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
