import path from 'node:path';
import { redactComfyUIUrl } from '@astro-comfyui/comfyui/workflows';
import type { ViteDevServer } from 'vite';
import { cacheDirectory } from '../cache-directory.js';
import { relayComfyUI } from './relay-comfyui.js';
import { servePanelImages } from './serve-panel-images.js';
import { readPanelState } from './read-panel-state.js';
import { assertPost, describe, type EndpointState, generateCandidates, pinCandidate, readStatus, type ToolbarContext } from './toolbar-actions.js';
import { createToolbarChannel, type Reply } from './toolbar-channel.js';
import { COMFYUI_ROUTE } from './toolbar-events.js';
import { EVENTS, generateMessage, initMessage, pinMessage, statusMessage } from './toolbar-messages.js';

export interface ToolbarServer {
  dispose(): Promise<void>;
}

/**
 * The dev server side of the toolbar app: decides what each browser connection may do, validates
 * every message, generates candidates through the pool (the browser never talks to ComfyUI), and
 * pins a chosen candidate into a post inside the content globs only.
 */
export function setupToolbarServer(server: ViteDevServer, session: Omit<ToolbarContext, 'candidatesDir' | 'signal'>): ToolbarServer {
  const { options, logger, supervisor } = session;
  const controller = new AbortController();
  const context: ToolbarContext = { ...session, candidatesDir: path.join(cacheDirectory(options), 'candidates'), signal: controller.signal };
  const rules = { allowNetwork: options.toolbar.allowNetwork, allowedHosts: server.config.server.allowedHosts };
  const handle = createToolbarChannel(server, rules, logger, describe);

  handle(EVENTS.init, initMessage, 'read', async (message, reply, access) => {
    reply(EVENTS.state, await readPanelState(context, message, access));
  });
  handle(EVENTS.generate, generateMessage, 'write', async (message, reply) => {
    await assertPost(context, message.post);
    await generateCandidates(context, message, reply);
  });
  handle(EVENTS.pin, pinMessage, 'write', async (message, reply) => {
    await assertPost(context, message.post);
    await pinCandidate(context, message, reply);
  });
  handle(EVENTS.status, statusMessage, 'read', async ({ requestId }, reply) => {
    await readStatus(context, show(reply, requestId));
  });
  handle(EVENTS.start, statusMessage, 'write', async ({ requestId }, reply) => {
    if (!supervisor)
      throw new Error(
        options.startNotUsed ??
          'No start command is configured. Add start: { cwd: "/path/to/ComfyUI" } to the astro-comfyui options, or start ComfyUI yourself.',
      );
    await readStatus(context, show(reply, requestId), 'starting');
    await supervisor.ensureRunning();
    await readStatus(context, show(reply, requestId));
    // Images that could not be made while it was down are made now, not at the next save of a post.
    context.generateMissing();
  });
  handle(EVENTS.stop, statusMessage, 'write', async ({ requestId }, reply) => {
    if (!supervisor?.status().managed) throw new Error('This ComfyUI was not started by astro-comfyui, so it is left running.');
    await supervisor.stop();
    // Images still to be made wait for it: the terminal says why, not only the panel.
    logger.info(`ComfyUI at ${redactComfyUIUrl(supervisor.url)} was stopped from the dev toolbar; images still to be made wait until Start ComfyUI.`);
    await readStatus(context, show(reply, requestId));
  });
  servePanelImages(server, { candidates: context.candidatesDir, images: options.outDir }, rules);
  const relay = options.toolbar.comfyuiUI ? relayComfyUI(server, options.endpoints, rules, logger) : refuseRelay(server);

  return {
    async dispose() {
      controller.abort();
      relay.close();
    },
  };
}

/** With `toolbar.comfyuiUI: false`, the relay's address says why it shows nothing (an open tab, a bookmark). */
function refuseRelay(server: ViteDevServer): { close(): void } {
  server.middlewares.use(COMFYUI_ROUTE, (_req, res) => {
    res
      .writeHead(404, { 'Content-Type': 'text/plain' })
      .end("ComfyUI's web UI is not relayed: astro.config sets comfyui({ toolbar: { comfyuiUI: false } }). Open ComfyUI at its own address.");
  });
  return { close() {} };
}

/** Sends each status the Advanced tab is given as the answer to one request. */
const show = (reply: Reply, requestId: string) => (endpoints: EndpointState[], observedAt: number) =>
  reply(EVENTS.statusResult, { requestId, endpoints, observedAt });
