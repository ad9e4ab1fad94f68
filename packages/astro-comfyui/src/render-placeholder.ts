/**
 * A stand-in PNG of the right size for machines without ComfyUI: a flat colour from the key and the
 * word PLACEHOLDER, so nobody mistakes it for a generated image.
 */
export async function renderPlaceholder(width: number, height: number, key: string, prompt: string): Promise<Buffer> {
  const hue = Number.parseInt(key.slice(0, 4), 16) % 360;
  const size = Math.round(Math.min(width, height) / 8);
  const escaped = prompt.slice(0, 60).replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
  <rect width="100%" height="100%" fill="hsl(${hue},35%,82%)"/>
  <text x="50%" y="48%" font-family="sans-serif" font-size="${size}" font-weight="700" text-anchor="middle" fill="hsl(${hue},40%,30%)">PLACEHOLDER</text>
  <text x="50%" y="60%" font-family="sans-serif" font-size="${Math.round(size / 3)}" text-anchor="middle" fill="hsl(${hue},40%,30%)">${escaped}</text>
</svg>`;
  // Loaded on demand: builds that need no placeholder never pay for sharp's native library.
  const { default: sharp } = await import('sharp');
  return sharp(Buffer.from(svg)).png({ compressionLevel: 9 }).toBuffer();
}
