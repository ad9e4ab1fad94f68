import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { ViteDevServer } from 'vite';
import { decideToolbarAccess, type ToolbarAccessRules } from './toolbar-access.js';
import { CANDIDATE_ROUTE } from './toolbar-events.js';

/** Serves candidate previews by key, to the dev server's own pages (an <img> there is same-origin) and programs only. */
export function serveCandidatePreviews(server: ViteDevServer, candidatesDir: string, rules: ToolbarAccessRules): void {
  const serve = async (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const name = decodeURIComponent((req.url ?? '').split('?')[0]!.replace(/^\//, ''));
    if (!/^[0-9a-f]{64}\.png$/.test(name)) return next();
    const site = req.headers['sec-fetch-site'];
    if (decideToolbarAccess(req, rules).level === 'refused' || (site !== undefined && site !== 'same-origin')) return void res.writeHead(403).end();
    try {
      const bytes = await readFile(path.join(candidatesDir, name));
      res.writeHead(200, { 'Content-Type': 'image/png', 'Cache-Control': 'no-store' });
      res.end(bytes);
    } catch {
      res.writeHead(404).end();
    }
  };
  server.middlewares.use(CANDIDATE_ROUTE, (req, res, next) => void serve(req, res, next));
}
