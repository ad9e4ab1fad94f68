import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import { empty, json, readJson, reply } from './http-answers.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.css': 'text/css',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
};

/**
 * What ComfyUI's web UI needs from the server to boot, as ComfyUI 0.3.64 answers it: the built frontend
 * (PyPI's comfyui-frontend-package) served from `/`, and the user, settings and userdata routes of
 * app/user_manager.py and app/app_settings.py, kept in memory for one default user. Returns false for
 * routes it does not answer.
 */
export function createFrontendRoutes(frontendDirectory: string | undefined) {
  const settings: Record<string, unknown> = {};
  const userdata = new Map<string, Buffer>();

  return async function answer(method: string, route: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const key = `${method} ${route}`;
    const send = (status: number, body: unknown) => {
      json(res, status, body);
      return true;
    };
    // Single-user mode: the settings live on the server from the start.
    if (key === 'GET /users') return send(200, { storage: 'server', migrated: true });
    if (key === 'GET /settings') return send(200, settings);
    if (key === 'POST /settings') {
      Object.assign(settings, await readJson(req));
      return send(200, null);
    }
    if (route.startsWith('/settings/')) {
      const id = decodeURIComponent(route.slice('/settings/'.length));
      if (method === 'GET') return send(200, settings[id] ?? null);
      if (method === 'POST') {
        settings[id] = JSON.parse((await readBody(req)).toString('utf8') || 'null');
        return send(200, null);
      }
    }
    if (key === 'GET /userdata') return listUserdata(url.searchParams.get('dir'), res);
    if (route.startsWith('/userdata/')) return answerUserdata(method, decodeURIComponent(route.slice('/userdata/'.length)), url, req, res);
    if (key === 'GET /features') return send(200, { supports_preview_metadata: true, max_upload_size: 100 * 1024 * 1024 });
    if (key === 'GET /workflow_templates' || key === 'GET /i18n') return send(200, {});
    if (key === 'GET /experiment/models') return send(200, []);
    if (method === 'GET' && frontendDirectory && !url.pathname.startsWith('/api/')) return serveStatic(frontendDirectory, route, res);
    return false;
  };

  function listUserdata(dir: string | null, res: ServerResponse): boolean {
    if (!dir) {
      reply(res, 400, 'Directory not provided');
      return true;
    }
    const prefix = `${dir.replace(/\/+$/, '')}/`;
    const files = [...userdata.keys()].filter((file) => file.startsWith(prefix));
    // The directory exists once a file was saved into it.
    if (files.length === 0) reply(res, 404, 'Directory not found');
    else
      json(
        res,
        200,
        files.map((file) => file.slice(prefix.length)),
      );
    return true;
  }

  async function answerUserdata(method: string, file: string, url: URL, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    if (file.split('/').includes('..')) {
      empty(res, 403);
    } else if (method === 'GET') {
      const body = userdata.get(file);
      if (!body) empty(res, 404);
      else {
        // Served as a download, never rendered in the UI's origin (as user_manager.py does).
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'X-Content-Type-Options': 'nosniff', 'Content-Disposition': 'attachment' });
        res.end(body);
      }
    } else if (method === 'POST') {
      if (url.searchParams.get('overwrite') === 'false' && userdata.has(file)) empty(res, 409);
      else {
        userdata.set(file, await readBody(req));
        json(res, 200, file);
      }
    } else if (method === 'DELETE') {
      empty(res, userdata.delete(file) ? 204 : 404);
    } else {
      return false;
    }
    return true;
  }
}

async function serveStatic(root: string, route: string, res: ServerResponse): Promise<boolean> {
  const relative = route === '/' ? 'index.html' : decodeURIComponent(route).replace(/^\/+/, '');
  const file = path.resolve(root, relative);
  if (!file.startsWith(root + path.sep)) return false;
  const info = await stat(file).catch(() => null);
  if (!info?.isFile()) return false;
  const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
  // ComfyUI sends its page uncached, so a new frontend version shows on reload.
  res.writeHead(200, { 'Content-Type': type, 'Content-Length': info.size, ...(route === '/' ? { 'Cache-Control': 'no-cache' } : {}) });
  res.end(await readFile(file));
  return true;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
