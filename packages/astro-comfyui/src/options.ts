import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'astro/zod';
import { DEFAULT_JOB_DEADLINE_MS, isLocalComfyUIUrl, parseComfyUIUrl, redactComfyUIUrl, sd35Defaults } from '@astro-comfyui/comfyui/workflows';
import type { StartCommand } from '@astro-comfyui/comfyui';
import { AstroComfyUIError } from './astro-comfyui-error.js';
import { describeZodIssue, type ZodIssueLike } from './describe-zod-issue.js';
import type { DeepSame } from './deep-same.js';
import type { UserOptions } from './user-options.js';
import { isInside } from './is-inside.js';

const sizeSchema = z
  .number()
  .int()
  .min(64)
  .max(4096)
  .refine((n) => n % 16 === 0, 'must be a multiple of 16');

const styleSchema = z
  .object({
    /** Text put before the post's prompt. */
    prefix: z.string().default(''),
    /** Text put after the post's prompt. */
    suffix: z.string().default(''),
    /** Negative prompt added for this style. */
    negative: z.string().default(''),
  })
  .strict();

const formatSchema = z.object({ width: sizeSchema, height: sizeSchema }).strict();

const presetSchema = z
  .object({
    style: z.string().optional(),
    format: z.string().optional(),
    negative: z.string().optional(),
    seed: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .strict();

const startSchema = z
  .object({
    cwd: z.string().min(1),
    python: z.string().optional(),
    args: z.array(z.string()).optional(),
    extraArgs: z.array(z.string()).optional(),
    env: z.record(z.string(), z.string()).optional(),
    startTimeoutMs: z.number().int().positive().optional(),
    restartOnCrash: z.boolean().optional(),
    maxRestarts: z.number().int().min(0).max(100).optional(),
  })
  .strict();

const modelSchema = z
  .object({
    /** Which SD3.5 variant's defaults to use. */
    preset: z.enum(['large-turbo', 'large', 'medium']).default('large-turbo'),
    /** Checkpoint file in ComfyUI/models/checkpoints. Default: the preset's official file. */
    checkpoint: z.string().min(1).optional(),
    /** "embedded", or 1–3 files in ComfyUI/models/text_encoders. Default clip_l, clip_g, t5xxl_fp16. */
    textEncoders: z.union([z.literal('embedded'), z.array(z.string().min(1)).min(1).max(3)]).optional(),
    steps: z.number().int().min(1).max(10_000).optional(),
    cfg: z.number().min(0).max(100).optional(),
    sampler: z.string().min(1).optional(),
    scheduler: z.string().min(1).optional(),
    shift: z.number().min(0).max(100).optional(),
  })
  .strict();

const workflowSchema = z
  .object({
    /** An API-format workflow file ("Save (API Format)" in ComfyUI), relative to the project root. */
    file: z.string().min(1),
    /** Where each value goes: `{ prompt: "6.inputs.text", seed: "3.inputs.seed" }`. */
    bindings: z.record(z.string(), z.union([z.string(), z.array(z.string())])),
  })
  .strict();

export const optionsSchema = z
  .object({
    /** ComfyUI URL(s). Several URLs spread the work over several GPU machines. Default: `COMFYUI_URL` or http://127.0.0.1:8188. */
    endpoints: z.union([z.string(), z.array(z.string()).min(1)]).optional(),
    /** Start ComfyUI when the (single, local) endpoint does not answer. Default: not started. */
    start: startSchema.optional(),
    /** Jobs queued ahead on each endpoint so the GPU never waits for the network. Default 1. */
    queueAhead: z.number().int().min(0).max(16).default(1),
    /** Globs of posts, relative to the project root. Default `<srcDir>/content/**\/*.{md,mdx}` (`src/content/…`). */
    content: z.array(z.string().min(1)).min(1).optional(),
    /** Frontmatter field of the image prompt; `<field>s` holds a list. Default `image`. */
    field: z
      .string()
      .regex(/^[A-Za-z_][\w-]*$/)
      .default('image'),
    model: modelSchema.default({ preset: 'large-turbo' }),
    /** A user workflow instead of the built-in SD3.5 one. */
    workflow: workflowSchema.optional(),
    /** Named styles: prompt prefix/suffix and negative. */
    styles: z.record(z.string(), styleSchema).default({}),
    /** Named formats (sizes). Defaults: square 1024², hero 1344×768, wide 1216×832, portrait 832×1216, og 1216×640. */
    formats: z.record(z.string(), formatSchema).default({}),
    /** Named style + format (+ negative, seed) combinations. */
    presets: z.record(z.string(), presetSchema).default({}),
    /** Format used when a post names none. Default `hero`. */
    defaultFormat: z.string().default('hero'),
    /** Where generated images and the manifest are committed, relative to the root. Default `<srcDir>/assets/generated` (`src/assets/generated`). */
    outDir: z.string().min(1).optional(),
    /** `generate` makes missing images; `frozen` never contacts ComfyUI; `force` runs every image again on ComfyUI, bypassing its cache. Default: `frozen` when `CI` is set, else `generate`. */
    mode: z.enum(['generate', 'frozen', 'force']).optional(),
    /** When an image cannot be made now (frozen mode, or no ComfyUI answers): `error` or a marked `placeholder`. Default `error`. */
    onMissing: z.enum(['error', 'placeholder']).default('error'),
    /** Images generated at once. Default: endpoints × (1 + queueAhead). */
    concurrency: z.number().int().min(1).max(256).optional(),
    /** Longest time one image may take, in ms. Default 30 minutes. */
    imageDeadlineMs: z.number().int().positive().default(DEFAULT_JOB_DEADLINE_MS),
    /** How often ComfyUI is polled for a running job, in ms. Default 1000. */
    pollIntervalMs: z.number().int().positive().default(1000),
    disclosure: z
      .object({
        /** Provenance XMP (IPTC Digital Source Type, prompt, seed, models…) in generated PNGs and their AVIF/WebP copies. Default true. */
        xmp: z.boolean().default(true),
        /** The caption getPostImage() returns for a generated image, for the page to show. Default none. */
        caption: z.string().min(1).max(300).optional(),
        /** A small text mark burnt into a corner of each generated image. Default none. */
        mark: z
          .object({
            text: z
              .string()
              .min(1)
              .max(60)
              .regex(/^[^\p{Cc}]+$/u, 'must be one line of text'),
            position: z.enum(['bottom-right', 'bottom-left', 'top-right', 'top-left']).default('bottom-right'),
            opacity: z.number().min(0.1).max(1).default(0.8),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({ xmp: true }),
    toolbar: z
      .object({
        /**
         * Let browsers on other machines (`astro dev --host`) generate, pin into posts and start or stop
         * ComfyUI from the dev toolbar. Default false: they get a read-only panel, because anyone who can
         * reach the dev server could otherwise use the GPU and write into the posts.
         */
        allowNetwork: z.boolean().default(false),
        /**
         * Show ComfyUI's own web UI in the Advanced tab, relayed by the dev server. It then runs as a page
         * of the dev server, and so does every web extension of the custom nodes installed on that
         * ComfyUI. False: the tab links to ComfyUI's own address, and graphs are downloaded instead.
         */
        comfyuiUI: z.boolean().default(true),
      })
      .strict()
      .default({ allowNetwork: false, comfyuiUI: true }),
  })
  .strict();

export type { UserOptions } from './user-options.js';

// The documented interface and the schema describe the same options, at every level (checked by tsc).
const documentedOptionsMatchSchema: DeepSame<UserOptions, z.input<typeof optionsSchema>> = true;
void documentedOptionsMatchSchema;

export const defaultFormats: Record<string, { width: number; height: number }> = {
  square: { width: 1024, height: 1024 },
  hero: { width: 1344, height: 768 },
  wide: { width: 1216, height: 832 },
  portrait: { width: 832, height: 1216 },
  og: { width: 1216, height: 640 },
};

/** The corner mark of `disclosure.mark`, with its defaults filled in. */
export interface DisclosureMark {
  text: string;
  position: 'bottom-right' | 'bottom-left' | 'top-right' | 'top-left';
  opacity: number;
}

export interface ResolvedOptions {
  root: string;
  endpoints: string[];
  start: StartCommand | undefined;
  /** Why the configured start command is not used (COMFYUI_URL points at other machines), to say once. */
  startNotUsed: string | undefined;
  queueAhead: number;
  content: string[];
  field: string;
  listField: string;
  model: z.output<typeof modelSchema> & { checkpoint: string };
  workflow: { file: string; bindings: Record<string, string | string[]> } | undefined;
  styles: Record<string, z.output<typeof styleSchema>>;
  formats: Record<string, { width: number; height: number }>;
  presets: Record<string, z.output<typeof presetSchema>>;
  defaultFormat: string;
  outDir: string;
  manifestFile: string;
  mode: 'generate' | 'frozen' | 'force';
  onMissing: 'error' | 'placeholder';
  concurrency: number;
  imageDeadlineMs: number;
  pollIntervalMs: number;
  disclosure: { xmp: boolean; caption: string | undefined; mark: DisclosureMark | undefined };
  toolbar: { allowNetwork: boolean; comfyuiUI: boolean };
}

function valueAt(input: unknown, at: PropertyKey[]): unknown {
  return at.reduce<unknown>((value, key) => (value !== null && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key] : undefined), input);
}

/**
 * Validates what the user wrote once, at the boundary, and fills in every default. `publicDir` and
 * `srcDir` are Astro's (default `<root>/public` and `<root>/src`): the default posts and images folders
 * are in the site's srcDir, as Astro's own folders are.
 */
export function resolveOptions(
  input: UserOptions | undefined,
  root: string,
  env: NodeJS.ProcessEnv = process.env,
  publicDir = path.join(root, 'public'),
  srcDir = path.join(root, 'src'),
): ResolvedOptions {
  const parsed = optionsSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues
      .map((issue) =>
        issue.code === 'unrecognized_keys' && issue.path.length === 0
          ? `- unknown option${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}; the options are ${Object.keys(optionsSchema.shape).join(', ')}.`
          : `- ${issue.path.join('.')} ${describeZodIssue(issue as ZodIssueLike, valueAt(input, issue.path))}.`,
      )
      .join('\n');
    throw new AstroComfyUIError(
      'INVALID_OPTIONS',
      `Invalid astro-comfyui options in astro.config:\n${problems}`,
      'Fix the options passed to comfyui({...}); the README lists every option with its default.',
    );
  }
  const o = parsed.data;
  // An empty COMFYUI_URL (`COMFYUI_URL=` in a .env made from a template) is no URL: the default applies.
  const envUrls = (env.COMFYUI_URL ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const fromEnv = o.endpoints === undefined && envUrls.length > 0;
  const endpoints = [o.endpoints ?? (fromEnv ? envUrls : 'http://127.0.0.1:8188')].flat().map((url) => {
    // The client's own rule, applied once here so a bad URL is an options error that names the option.
    try {
      return parseComfyUIUrl(url).href.replace(/\/$/, '');
    } catch (error) {
      throw new AstroComfyUIError(
        'INVALID_OPTIONS',
        `Invalid ComfyUI endpoint "${redactComfyUIUrl(url)}" in ${fromEnv ? 'COMFYUI_URL (the environment or a .env file)' : 'astro-comfyui options'}: ${(error as Error).message}`,
        `Set ${fromEnv ? 'COMFYUI_URL' : 'endpoints (or COMFYUI_URL)'} to the address ComfyUI prints at start, such as http://127.0.0.1:8188.`,
        { cause: error },
      );
    }
  });
  // Two endpoints at one address (once with a trailing slash, or with another sign-in) are one ComfyUI
  // written twice. The pool refuses them too, but only once images are to be made, naming no option.
  const shownEndpoints = endpoints.map(redactComfyUIUrl);
  const twice = shownEndpoints.find((url, i) => shownEndpoints.indexOf(url) !== i);
  if (twice) {
    throw new AstroComfyUIError(
      'INVALID_OPTIONS',
      `${fromEnv ? 'COMFYUI_URL' : 'endpoints'} lists ${twice} twice; each endpoint is one ComfyUI.`,
      `List each ComfyUI once. To keep more jobs waiting in one ComfyUI's queue, raise queueAhead (${o.queueAhead} now).`,
    );
  }
  // A start command starts ComfyUI on this machine. COMFYUI_URL is a machine's own setting (its shell or
  // .env): pointed at another machine, or at several ComfyUIs, it says "use those", so a shared config's
  // start (one local ComfyUI) is set aside, and said so. Written in the options themselves, the two contradict each other: that is the config's error.
  let startNotUsed: string | undefined;
  if (o.start && (endpoints.length > 1 || !isLocalComfyUIUrl(endpoints[0]!))) {
    const shown = shownEndpoints.join(', ');
    if (fromEnv) {
      startNotUsed = `COMFYUI_URL points at ${shown}, ${endpoints.length > 1 ? 'several ComfyUIs' : 'another machine'}: the start command in astro.config, which starts ComfyUI on this machine, is not used.`;
    } else if (endpoints.length > 1) {
      throw new AstroComfyUIError(
        'INVALID_OPTIONS',
        'astro-comfyui: "start" works with a single endpoint.',
        'Remove "start" or list one endpoint; remote GPU machines run their own ComfyUI.',
      );
    } else {
      throw new AstroComfyUIError(
        'INVALID_OPTIONS',
        `astro-comfyui: "start" starts ComfyUI on this machine, but endpoints is ${shown}, another machine.`,
        'Remove "start" to use that machine\'s ComfyUI as it is (it runs its own), or set endpoints to a local address such as http://127.0.0.1:8188.',
      );
    }
  }
  const formats = { ...defaultFormats, ...o.formats };
  const check = (kind: string, name: string | undefined, known: Record<string, unknown>, where: string) => {
    if (name !== undefined && !Object.hasOwn(known, name)) {
      throw new AstroComfyUIError(
        'INVALID_OPTIONS',
        `astro-comfyui: ${where} uses unknown ${kind} "${name}".`,
        `Known ${kind}s: ${Object.keys(known).join(', ') || '(none)'}. Add it to "${kind}s" in the options.`,
      );
    }
  };
  check('format', o.defaultFormat, formats, 'defaultFormat');
  for (const [name, preset] of Object.entries(o.presets)) {
    check('style', preset.style, o.styles, `preset "${name}"`);
    check('format', preset.format, formats, `preset "${name}"`);
  }
  // Globs and the folder are written relative to the root, with "/" (tinyglobby and the manifest's paths).
  const src = isInside(srcDir, root) ? path.relative(root, srcDir).split(path.sep).join('/') : 'src';
  const inSrc = (rest: string) => (src ? `${src}/${rest}` : rest);
  const content = o.content ?? [inSrc('content/**/*.{md,mdx}')];
  const outDirText = o.outDir ?? inSrc('assets/generated');
  const outDir = path.resolve(root, outDirText);
  // "/src/assets/generated" reads as the project's folder to an Astro author (as in an import), but it is
  // the disk's: images would go to a new folder at / and never be committed. A folder outside the project
  // that exists already is taken as meant (a site in a subfolder of its repository, say).
  if (!isInside(outDir, root) && !existsSync(outDir)) {
    const relative = outDirText.replace(/^[/\\]+/, '');
    throw new AstroComfyUIError(
      'INVALID_OPTIONS',
      `astro-comfyui: outDir "${outDirText}" is outside the project (${path.resolve(root)}) and does not exist; images there would not be committed with the site.`,
      path.isAbsolute(outDirText) && relative && isInside(path.resolve(root, relative), root)
        ? `outDir is relative to the project root: write "${relative}", without the leading "${outDirText[0]}". For a folder outside the project, create it first.`
        : 'Use a folder of the project, such as src/assets/generated (the default). For a folder outside the project, create it first.',
    );
  }
  if (outDir.split(path.sep).includes('node_modules')) {
    throw new AstroComfyUIError(
      'INVALID_OPTIONS',
      `astro-comfyui: outDir "${outDirText}" is inside node_modules.`,
      'Generated images are committed with the site; use a folder such as src/assets/generated.',
    );
  }
  if (isInside(outDir, path.resolve(publicDir))) {
    // Astro copies public/ to the site as it is: besides the optimised copies, every full-size PNG and
    // images.lock.json (every prompt, drafts' too) would be published.
    throw new AstroComfyUIError(
      'INVALID_OPTIONS',
      `astro-comfyui: outDir "${outDirText}" is inside Astro's public folder, which is published as it is: besides the optimised copies, every full-size PNG and images.lock.json, with every prompt (drafts' too), would be on the site.`,
      'Use a folder outside it, such as src/assets/generated (the default); getPostImage() still gives pages the images.',
    );
  }
  const mode = o.mode ?? (isCI(env) ? 'frozen' : 'generate');
  return {
    root,
    endpoints,
    // Relative to the project, like every other path here, not to wherever astro was run from.
    start: o.start && !startNotUsed ? { ...o.start, cwd: path.resolve(root, o.start.cwd) } : undefined,
    startNotUsed,
    queueAhead: o.queueAhead,
    content,
    field: o.field,
    listField: `${o.field}s`,
    model: { ...o.model, checkpoint: o.model.checkpoint ?? sd35Defaults[o.model.preset].checkpoint },
    workflow: o.workflow ? { file: path.resolve(root, o.workflow.file), bindings: o.workflow.bindings } : undefined,
    styles: o.styles,
    formats,
    presets: o.presets,
    defaultFormat: o.defaultFormat,
    outDir,
    manifestFile: path.join(outDir, 'images.lock.json'),
    mode,
    onMissing: o.onMissing,
    concurrency: o.concurrency ?? endpoints.length * (1 + o.queueAhead),
    imageDeadlineMs: o.imageDeadlineMs,
    pollIntervalMs: o.pollIntervalMs,
    disclosure: { xmp: o.disclosure.xmp, caption: o.disclosure.caption, mark: o.disclosure.mark },
    toolbar: o.toolbar,
  };
}

/** Whether `env` is a CI machine's (`CI` set, and not to "0" or "false"). */
export function isCI(env: Record<string, string | undefined>): boolean {
  return Boolean(env.CI) && env.CI !== '0' && env.CI !== 'false';
}
