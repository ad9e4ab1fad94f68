import { mkdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { ComfyUISupervisor, Logger } from '@astro-comfyui/comfyui';
import type { z } from 'astro/zod';
import type { ViteDevServer, WebSocketClient } from 'vite';
import { collectPostImages, loadTemplate } from '../collect-post-images.js';
import { createPool } from '../create-pool.js';
import type { ResolvedOptions } from '../options.js';
import { type PinnedPrompt, pinImageIntoPost } from '../pin-image-into-post.js';
import { resolveImage, ResolveProblem, slugify } from '../resolve-image.js';
import { listPosts } from '../scan-posts.js';
import { cacheDirectory } from '../cache-directory.js';
import { preflightImages } from '../preflight-images.js';
import { writeFileAtomic } from '../write-file-atomic.js';
import { writeImage } from '../write-image.js';
import { ManifestWriter } from '../manifest-writer.js';
import { decideToolbarAccess, type ToolbarAccess } from './toolbar-access.js';
import { CANDIDATE_ROUTE, EVENTS, generateMessage, initMessage, pinMessage, statusMessage, type GenerateMessage, type PinMessage } from './toolbar-messages.js';

export interface ToolbarServer {
  dispose(): Promise<void>;
}

/** Sends one event to the connection that asked; other tabs and other pages never see it. */
type Reply = (event: string, payload: Record<string, unknown>) => void;

/**
 * The dev server side of the toolbar app: decides what each browser connection may do, validates
 * every message, generates candidates through the pool (the browser never talks to ComfyUI), and
 * pins a chosen candidate into a post inside the content globs only.
 */
export function setupToolbarServer(
  server: ViteDevServer,
  options: ResolvedOptions,
  logger: Logger,
  refreshImages: (post: string) => Promise<void>,
  supervisor: ComfyUISupervisor | undefined,
): ToolbarServer {
  const candidatesDir = path.join(cacheDirectory(options), 'candidates');
  const controller = new AbortController();
  const rules = { allowNetwork: options.toolbar.allowNetwork, allowedHosts: server.config.server.allowedHosts };
  // Decided once per connection from its upgrade request; a connection we did not see open is refused.
  const access = new WeakMap<object, ToolbarAccess>();
  server.ws.on('connection', (socket, request) => access.set(socket, decideToolbarAccess(request, rules)));
  const warned = new WeakSet<object>();

  const handle = <T>(event: string, schema: z.ZodType<T>, needs: 'read' | 'write', run: (message: T, reply: Reply, access: ToolbarAccess) => Promise<void>) => {
    server.ws.on(event, (data: unknown, client: WebSocketClient) => {
      const reply: Reply = (name, payload) => client.send(name, payload);
      const requestId = typeof (data as { requestId?: unknown })?.requestId === 'string' ? (data as { requestId: string }).requestId.slice(0, 64) : 'invalid';
      const allowed = access.get(client.socket) ?? { level: 'refused', reason: 'the connection was opened before the toolbar server started' };
      if (allowed.level === 'refused' || (needs === 'write' && allowed.level === 'read')) {
        if (!warned.has(client.socket)) logger.warn(`Refused a dev toolbar request (${event}): ${allowed.reason}`);
        warned.add(client.socket);
        reply(EVENTS.error, { requestId, message: allowed.level === 'read' ? allowed.reason : `Refused: ${allowed.reason}.` });
        return;
      }
      const parsed = schema.safeParse(data);
      if (!parsed.success) {
        const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'message'}: ${i.message}`).join('; ');
        reply(EVENTS.error, { requestId, message: `Invalid request (${why}).` });
        return;
      }
      run(parsed.data, reply, allowed).catch((error: Error) => {
        reply(EVENTS.error, { requestId, message: describe(error) });
      });
    });
  };

  /** Only posts matched by the content globs exist for the toolbar; anything else is refused. */
  const findPost = async (post: string) => {
    const posts = await listPosts(options.root, options.content);
    if (!posts.includes(post))
      throw new Error(`"${post}" is not a post inside the content folders (${options.content.join(', ')}); the toolbar only writes there.`);
  };

  handle(EVENTS.init, initMessage, 'read', async ({ requestId, pathname }, reply, access) => {
    const posts = await listPosts(options.root, options.content);
    const { images } = await collectPostImages(options, await loadTemplate(options));
    const segment = pathname.split('/').filter(Boolean).at(-1) ?? '';
    const current = posts.find((p) => slugify(p) === slugify(`${segment}.md`)) ?? null;
    const image = current ? images.find((i) => i.request.post === current && i.request.index === 0)?.request : undefined;
    reply(EVENTS.state, {
      requestId,
      // A read-only panel says why instead of offering buttons that would be refused.
      readOnly: access.level === 'read' ? access.reason : null,
      posts,
      post: current,
      image: image
        ? { prompt: image.prompt, negative: image.negative, style: image.style, format: image.format, preset: image.preset, seed: image.seed, alt: image.alt }
        : null,
      styles: Object.keys(options.styles),
      formats: Object.keys(options.formats),
      presets: Object.keys(options.presets),
      defaultFormat: options.defaultFormat,
      comfyuiUrl: options.endpoints[0],
    });
  });

  handle(EVENTS.generate, generateMessage, 'write', async (message, reply) => {
    await findPost(message.post);
    await generateCandidates(message, reply);
  });

  handle(EVENTS.pin, pinMessage, 'write', async (message, reply) => {
    await findPost(message.post);
    await pin(message, reply);
  });

  handle(EVENTS.status, statusMessage, 'read', async ({ requestId }, reply) => {
    reply(EVENTS.statusResult, { requestId, endpoints: await readStatus() });
  });

  handle(EVENTS.start, statusMessage, 'write', async ({ requestId }, reply) => {
    if (!supervisor)
      throw new Error('No start command is configured. Add start: { cwd: "/path/to/ComfyUI" } to the astro-comfyui options, or start ComfyUI yourself.');
    reply(EVENTS.statusResult, { requestId, endpoints: await readStatus('starting') });
    await supervisor.ensureRunning();
    reply(EVENTS.statusResult, { requestId, endpoints: await readStatus() });
  });

  handle(EVENTS.stop, statusMessage, 'write', async ({ requestId }, reply) => {
    if (!supervisor?.status().managed) throw new Error('This ComfyUI was not started by astro-comfyui, so it is left running.');
    await supervisor.stop();
    reply(EVENTS.statusResult, { requestId, endpoints: await readStatus() });
  });

  async function readStatus(override?: string) {
    const pool = await createPool(options, { logger, supervisor, timeoutMs: 3000 });
    try {
      return (await pool.describe()).map((report, i) => {
        const managed = i === 0 && supervisor ? supervisor.status() : undefined;
        return report.up
          ? {
              url: report.url,
              state: 'running',
              managed: managed?.managed ?? false,
              canStart: false,
              version: report.comfyuiVersion,
              devices: report.devices,
              queue: report.queue,
            }
          : {
              url: report.url,
              state: override ?? (managed?.state === 'crashed' ? 'crashed' : 'stopped'),
              managed: false,
              canStart: Boolean(managed),
              version: null,
              devices: [],
              queue: 0,
            };
      });
    } finally {
      await pool.close();
    }
  }

  async function generateCandidates(message: GenerateMessage, reply: Reply): Promise<void> {
    const { requestId } = message;
    const template = await loadTemplate(options);
    const candidates = Array.from({ length: message.count }, (_, i) =>
      resolveImage({ ...promptOf(message), seed: message.seed + i, post: message.post, field: options.field, index: 0 }, options, template),
    );
    const pool = await createPool(options, { logger, supervisor, pollIntervalMs: Math.min(options.pollIntervalMs, 500) });
    try {
      if ((await pool.connect()) === 0) {
        const reason = pool
          .status()
          .map((s) => s.lastError ?? s.url)
          .join('; ');
        throw new Error(`ComfyUI is not running: ${reason}${supervisor ? ' Start it in the Advanced tab.' : ''}`);
      }
      await preflightImages(pool, candidates, options);
      await mkdir(candidatesDir, { recursive: true });
      await Promise.all(
        candidates.map(async (image, index) => {
          const result = await pool.run(image.buildWorkflow(), {
            promptId: `astro-comfyui-${image.key.slice(0, 40)}`,
            signal: controller.signal,
            expectImage: { width: image.width, height: image.height },
            onProgress: (p) => reply(EVENTS.progress, { requestId, index, ...p }),
          });
          await writeFileAtomic(path.join(candidatesDir, `${image.key}.png`), result.images[0]!.data);
          reply(EVENTS.candidate, {
            requestId,
            index,
            key: image.key,
            seed: image.seed,
            width: image.width,
            height: image.height,
            url: `${CANDIDATE_ROUTE}${image.key}.png`,
          });
        }),
      );
      reply(EVENTS.done, { requestId });
    } finally {
      await pool.close();
    }
  }

  async function pin(message: PinMessage, reply: Reply): Promise<void> {
    const template = await loadTemplate(options);
    const image = resolveImage({ ...promptOf(message), post: message.post, field: options.field, index: 0 }, options, template);
    if (image.key !== message.key) throw new Error('The settings changed since this candidate was generated; generate again before pinning.');
    const candidate = path.join(candidatesDir, `${image.key}.png`);
    const png = await readFile(candidate).catch(() => {
      throw new Error('This candidate is gone from the cache; generate it again.');
    });
    const manifest = new ManifestWriter(options.manifestFile, cacheDirectory(options), { onWait: (m) => logger.info(`Waiting: ${m}.`) });
    await writeImage(image, png, options, { placeholder: false, durationMs: 0, comfyuiVersion: null }, manifest);
    await manifest.flush();
    await pinImageIntoPost(path.join(options.root, message.post), options.field, promptOf(message));
    await refreshImages(path.join(options.root, message.post));
    reply(EVENTS.pinned, { requestId: message.requestId, post: message.post, file: image.fileName, key: image.key });
  }

  const serveCandidate = async (req: IncomingMessage, res: ServerResponse, next: () => void) => {
    const name = decodeURIComponent((req.url ?? '').split('?')[0]!.replace(/^\//, ''));
    if (!/^[0-9a-f]{64}\.png$/.test(name)) return next();
    // Only the dev server's own pages (an <img> there is same-origin) and programs may read candidates.
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
  server.middlewares.use(CANDIDATE_ROUTE, (req, res, next) => void serveCandidate(req, res, next));

  return {
    async dispose() {
      controller.abort();
    },
  };
}

/** The prompt of a toolbar request, as the frontmatter holds one. */
function promptOf(message: GenerateMessage | PinMessage): PinnedPrompt {
  const { requestId: _id, post: _post, ...rest } = message;
  const { count: _count, key: _key, ...prompt } = rest as typeof rest & { count?: number; key?: string };
  return prompt;
}

/** A bad prompt reads better without the post and field, which the panel already shows. */
function describe(error: Error): string {
  return error instanceof ResolveProblem ? error.problem.message : error.message;
}
