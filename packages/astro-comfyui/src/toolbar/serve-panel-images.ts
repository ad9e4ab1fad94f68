import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { ViteDevServer } from 'vite';
import { isPlainFileName } from '../plain-file-name.js';
import { decideToolbarAccess, type ToolbarAccessRules } from './toolbar-access.js';
import { CANDIDATE_ROUTE, IMAGE_ROUTE } from './toolbar-events.js';

/**
 * Serves the panel's pictures to the dev server's own pages (an <img> there is same-origin) and programs
 * only: candidate previews by key, and the committed images by their plain file name.
 */
export function servePanelImages(server: ViteDevServer, folders: { candidates: string; images: string }, rules: ToolbarAccessRules): void {
  const serve = (folder: string, accepts: (name: string) => boolean) => async (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    let name: string;
    try {
      name = decodeURIComponent((req.url ?? '').split('?')[0]!.replace(/^\//, ''));
    } catch {
      return next();
    }
    if (!isPlainFileName(name) || !accepts(name)) return next();
    const site = req.headers['sec-fetch-site'];
    if (decideToolbarAccess(req, rules).level === 'refused' || (site !== undefined && site !== 'same-origin')) return void res.writeHead(403).end();
    try {
      const bytes = await readFile(path.join(folder, name));
      res.writeHead(200, { 'Content-Type': 'image/png', 'Cache-Control': 'no-store' });
      res.end(bytes);
    } catch {
      res.writeHead(404).end();
    }
  };
  const candidates = serve(folders.candidates, (name) => /^[0-9a-f]{64}\.png$/.test(name));
  const images = serve(folders.images, (name) => name.endsWith('.png'));
  server.middlewares.use(CANDIDATE_ROUTE, (req, res, next) => void candidates(req, res, next));
  server.middlewares.use(IMAGE_ROUTE, (req, res, next) => void images(req, res, next));
}
