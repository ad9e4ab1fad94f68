import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ComfyUISupervisor } from '@astro-comfyui/comfyui';
import type { AstroIntegration } from 'astro';
import { assertNoProblems, collectPostImages, loadTemplate, type PostImages } from './collect-post-images.js';
import type { DevGeneration } from './dev-generation.js';
import { type DevSession, endDevSession, keepDevSession, takeOverDevSession } from './dev-session.js';
import { ImageIndex, shownImages } from './image-index.js';
import { explainNoPosts } from './explain-no-posts.js';
import { explainNoPrompts, findOrphans } from './find-orphans.js';
import { withProvenanceService } from './provenance-image-service.js';
import { listImageFiles } from './classify-images.js';
import { envFilesOf, loadComfyUIEnv } from './load-comfyui-env.js';
import { resolveOptions, type ResolvedOptions, type UserOptions } from './options.js';
import { removeUnshownImages } from './remove-unshown-images.js';
import { runInterruptibly } from './run-interruptibly.js';
import { syncImages } from './sync-images.js';
import type { ToolbarServer } from './toolbar/toolbar-server.js';
import { vitePluginToolbarRoutes } from './toolbar/vite-plugin-toolbar-routes.js';
import { vitePluginImages } from './vite-plugin-images.js';

/** The virtual module's type for the user's project; the element type is the page helper's own. */
const VIRTUAL_TYPES = `declare module 'virtual:astro-comfyui/images' {
  export const images: Record<string, Array<import('astro-comfyui/images').IndexedPostImage>>;
}
`;

/** Where the CLI finds the options the user passed, on the integration object in astro.config. */
export const USER_OPTIONS = Symbol.for('astro-comfyui.user-options');

/** The astro-comfyui integration: `integrations: [comfyui({ ... })]`. */
export function comfyui(userOptions?: UserOptions): AstroIntegration {
  let options: ResolvedOptions;
  const index = new ImageIndex();
  let dev: DevGeneration | undefined;
  let command: 'dev' | 'build' | 'preview' | 'sync' = 'build';
  let collected: PostImages | undefined;
  let toolbarServer: ToolbarServer | undefined;
  let supervisor: ComfyUISupervisor | undefined;
  let session: DevSession | undefined;
  let buildOutput: 'static' | 'server' = 'static';
  let assetsFolder = '_astro';
  /** The site's `base`, as final after every integration's setup. */
  let base = '/';

  const integration: AstroIntegration = {
    name: 'astro-comfyui',
    hooks: {
      'astro:config:setup': async ({ config, command: astroCommand, updateConfig, addWatchFile, addDevToolbarApp, injectScript, logger }) => {
        command = astroCommand;
        assetsFolder = config.build.assets;
        if (command === 'dev') {
          // Newly generated images reach open pages in place.
          injectScript('page', `import ${JSON.stringify(fileURLToPath(new URL('./dev-client.js', import.meta.url)))};`);
          addDevToolbarApp({
            id: 'astro-comfyui',
            name: 'ComfyUI images',
            icon: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="1.6"><rect x="3" y="4" width="18" height="16" rx="2"/><circle cx="9" cy="10" r="2"/><path d="m21 16-5-5-9 9"/></svg>',
            entrypoint: fileURLToPath(new URL('./toolbar/app.js', import.meta.url)),
          });
        }
        const root = fileURLToPath(config.root);
        // Astro's default modes: dev reads .env.development, every other command .env.production.
        const mode = command === 'dev' ? 'development' : 'production';
        const envDir = config.vite.envDir ?? root;
        const env = await loadComfyUIEnv(root, envDir, mode).catch((error: Error) => {
          // The site still builds, with the shell's variables, as it did before .env files were read.
          logger.warn(`The .env files were not read for COMFYUI_URL (${error.message}); set it in the shell instead.`);
          return process.env;
        });
        options = resolveOptions(userOptions, root, env, fileURLToPath(config.publicDir), fileURLToPath(config.srcDir));
        // Said where ComfyUI could be started for the command: dev and build, not preview or sync.
        if (options.startNotUsed && command !== 'preview' && command !== 'sync') logger.info(options.startNotUsed);
        // A URL saved into .env restarts dev with it, as a saved astro.config does.
        if (envDir !== false) for (const file of envFilesOf(path.resolve(root, envDir), mode)) addWatchFile(file);
        index.caption = options.disclosure.caption;
        if (options.workflow) addWatchFile(options.workflow.file);
        const service = options.disclosure.xmp ? withProvenanceService(config.image.service) : undefined;
        updateConfig({
          vite: { plugins: [vitePluginImages(() => index, options, { dev: command === 'dev' }), ...(command === 'dev' ? [vitePluginToolbarRoutes()] : [])] },
          ...(service?.setting ? { image: { service: service.setting } } : {}),
        });
        for (const other of service?.others ?? []) logger.warn(other);
      },
      'astro:config:done': async ({ config, injectTypes, buildOutput: output }) => {
        buildOutput = output;
        base = config.base;
        injectTypes({ filename: 'types.d.ts', content: VIRTUAL_TYPES });
        // Validate every post before Astro's content sync, which stops at the first schema error.
        if (command === 'build') {
          collected = await collectPostImages(options, await loadTemplate(options));
          assertNoProblems(collected.problems);
        }
      },
      'astro:build:start': async ({ logger }) => {
        const { posts, images, problems } = collected ?? (await collectPostImages(options, await loadTemplate(options)));
        assertNoProblems(problems);
        // Another build in this process (Astro's build() called twice) starts with no page shown.
        shownImages().clear();
        const summary = await runInterruptibly(logger, (signal) => syncImages(images, options, { logger, signal }));
        logger.info(
          `${summary.total} image${summary.total === 1 ? '' : 's'}: ${summary.ready} committed, ${summary.generated} generated${summary.placeholders ? `, ${summary.placeholders} PLACEHOLDER${summary.placeholders === 1 ? '' : 'S'}` : ''}.`,
        );
        // summary.images: a regenerated prompt's page shows the image made with its new seed.
        const files = await listImageFiles(options.outDir);
        index.update(summary.images, summary.manifest, options.outDir, files);
        const orphans = await findOrphans(summary.images, summary.manifest, options, files);
        const count = orphans.entries.length + orphans.strayFiles.length;
        if (count > 0 && summary.images.length === 0) logger.warn(explainNoPrompts(posts, count, options));
        else if (posts === 0) logger.warn(explainNoPosts(options));
        else if (count > 0)
          logger.info(
            `${count} generated image${count > 1 ? 's are' : ' is'} no longer used by any post; list or remove them with \`npx astro-comfyui prune --dry-run\`.`,
          );
      },
      'astro:build:done': async ({ dir, logger }) => {
        // Pages rendered on demand may show any image at request time: only a static site is known whole.
        if (buildOutput !== 'static') return;
        const removed = await removeUnshownImages(index.fileNames(), shownImages(), fileURLToPath(new URL(`${assetsFolder}/`, dir)));
        if (removed.length > 0) {
          logger.info(
            `Left ${removed.length} generated image${removed.length > 1 ? 's' : ''} that no page shows (drafts, posts the site does not build) out of the site: ${removed.slice(0, 5).join(', ')}${removed.length > 5 ? ', …' : ''}.`,
          );
        }
      },
      'astro:server:setup': async ({ server, logger }) => {
        // Builds and `astro sync` also create short-lived Vite servers: generate in the background only in dev.
        if (command !== 'dev') return;
        const { ComfyUISupervisor } = await import('@astro-comfyui/comfyui');
        const { setupToolbarServer } = await import('./toolbar/toolbar-server.js');
        const { startDevGeneration } = await import('./dev-generation.js');
        // One supervisor for the whole dev session: ComfyUI is started once, not per regeneration, and is
        // kept when Astro restarts dev for a saved astro.config.
        const startKey = JSON.stringify([options.endpoints[0], options.start ?? null]);
        supervisor =
          (await takeOverDevSession(options.root, startKey)) ??
          (options.start ? new ComfyUISupervisor({ url: options.endpoints[0]!, start: options.start, logger }) : undefined);
        dev = startDevGeneration(server, index, options, logger, supervisor);
        toolbarServer = setupToolbarServer(server, {
          options,
          logger,
          supervisor,
          refreshImages: (post) => dev!.reindex(post),
          generateMissing: () => void dev!.retry(),
          shownImage: (image) => index.shownFor(image),
          base,
          slugOf: (post) => dev!.slugOf(post),
          changesOf: (image) => dev!.changesOf(image),
        });
        session = {
          supervisor,
          startKey,
          stopWork: async () => {
            await toolbarServer?.dispose();
            await dev?.dispose();
          },
        };
        keepDevSession(options.root, session);
      },
      'astro:server:done': async () => {
        if (session && !endDevSession(options.root, session)) return;
        await toolbarServer?.dispose();
        await dev?.dispose();
        await supervisor?.dispose();
      },
    },
  };
  Object.defineProperty(integration, USER_OPTIONS, { value: userOptions ?? {} });
  return integration;
}
