import type { StartCommand } from '@astro-comfyui/comfyui';

/**
 * What you can pass to `comfyui({...})` in astro.config. Every field is optional. This interface is the
 * documentation your editor shows; options.ts checks at compile time that it matches the schema that
 * validates the options at run time.
 */
export interface UserOptions {
  /**
   * ComfyUI URL, or a list of URLs to spread the work over several GPU machines.
   * @default COMFYUI_URL (comma-separated; from the environment or the site's .env files) or "http://127.0.0.1:8188"
   */
  endpoints?: string | string[];
  /**
   * Start ComfyUI when the single local endpoint does not answer, and stop it when the build or dev
   * server ends (even if it is killed). `cwd` is the ComfyUI folder, relative to the project root; a
   * relative `python` is taken from `cwd`. On a machine with no GPU that PyTorch can use (ComfyUI finds an
   * NVIDIA, AMD, Intel or Apple one by itself, given the PyTorch build for it) add `extraArgs: ["--cpu"]`.
   * @default undefined (ComfyUI is not started)
   */
  start?: StartCommand;
  /**
   * Jobs queued on each endpoint beyond the running one, so the GPU never waits for the network.
   * @default 1
   */
  queueAhead?: number;
  /**
   * Globs of the posts to read, relative to the project root.
   * @default ["src/content/**\/*.{md,mdx}"] (in Astro's srcDir: "<srcDir>/content/…")
   */
  content?: string[];
  /**
   * Frontmatter field of the image prompt; `<field>s` holds a list of prompts.
   * @default "image"
   */
  field?: string;
  /**
   * The built-in SD3.5 graph: variant, files and sampler settings.
   * @default { preset: "large-turbo" }
   */
  model?: {
    /** Which SD3.5 variant's defaults to use. @default "large-turbo" */
    preset?: 'large-turbo' | 'large' | 'medium';
    /** Checkpoint file in ComfyUI/models/checkpoints. @default the preset's official file, e.g. "sd3.5_large_turbo.safetensors" */
    checkpoint?: string;
    /** "embedded" (the checkpoint carries them), or 1 to 3 files in ComfyUI/models/text_encoders. @default ["clip_l.safetensors", "clip_g.safetensors", "t5xxl_fp16.safetensors"] */
    textEncoders?: 'embedded' | string[];
    /** Sampler steps. @default the preset's (Turbo 4, Large 28, Medium 40) */
    steps?: number;
    /** Classifier-free guidance. @default the preset's (Turbo 1, Large and Medium 4.5) */
    cfg?: number;
    /** KSampler sampler name. @default "euler" */
    sampler?: string;
    /** KSampler scheduler. @default "sgm_uniform" */
    scheduler?: string;
    /** ModelSamplingSD3 shift. @default 3 */
    shift?: number;
  };
  /**
   * Your own API-format workflow ("Save (API Format)" in ComfyUI) instead of the built-in graph.
   * @default undefined
   */
  workflow?: {
    /** The workflow file, relative to the project root. */
    file: string;
    /** Where each value goes: `{ prompt: "6.inputs.text", seed: "3.inputs.seed" }`. */
    bindings: Record<string, string | string[]>;
  };
  /**
   * Named styles a post can pick with `style:`.
   * @default {}
   */
  styles?: Record<
    string,
    {
      /** Text put before the post's prompt. */
      prefix?: string;
      /** Text put after the post's prompt. */
      suffix?: string;
      /** Negative prompt added for this style. */
      negative?: string;
    }
  >;
  /**
   * Named sizes a post can pick with `format:` (multiples of 16), added to the built-in ones.
   * @default square 1024×1024, hero 1344×768, wide 1216×832, portrait 832×1216, og 1216×640
   */
  formats?: Record<string, { width: number; height: number }>;
  /**
   * Named style + format (+ negative, seed) combinations a post can pick with `preset:`.
   * @default {}
   */
  presets?: Record<string, { style?: string; format?: string; negative?: string; seed?: number }>;
  /**
   * Format of prompts that name none.
   * @default "hero"
   */
  defaultFormat?: string;
  /**
   * Where generated images and `images.lock.json` are committed, relative to the root.
   * @default "src/assets/generated" (in Astro's srcDir: "<srcDir>/assets/generated")
   */
  outDir?: string;
  /**
   * `generate` makes missing images; `frozen` never contacts ComfyUI; `force` runs every image again on
   * ComfyUI, bypassing its cache (`astro dev` does that once, then makes only what is missing).
   * @default "frozen" when the CI environment variable is set, otherwise "generate"
   */
  mode?: 'generate' | 'frozen' | 'force';
  /**
   * When an image cannot be made now (frozen mode, no ComfyUI answers, or none has the model files or
   * node types it needs): fail, or build with a clearly marked placeholder that the next build with
   * ComfyUI replaces (`astro dev` replaces it as soon as a ComfyUI can make it). `astro-comfyui generate`
   * always fails instead: it was asked for the images themselves.
   * @default "error"
   */
  onMissing?: 'error' | 'placeholder';
  /**
   * How generated images say that they are AI-made.
   */
  disclosure?: {
    /**
     * Write provenance XMP into each generated PNG (IPTC Digital Source Type "trainedAlgorithmicMedia",
     * prompt, negative, seed, model files, ComfyUI version, workflow, date) and keep it in the AVIF/WebP
     * copies astro:assets makes of it (images you add yourself are left as Astro makes them).
     * @default true
     */
    xmp?: boolean;
    /**
     * A caption that getPostImage() returns with each generated image (not with placeholders), for the
     * page to show, e.g. "AI-generated with Stable Diffusion 3.5".
     */
    caption?: string;
    /**
     * A small text mark burnt into a corner of each generated image (not placeholders), e.g.
     * `{ text: "AI-generated" }`. Changing it generates nothing again: the committed images are
     * re-stamped from the original pixels they keep under the mark.
     */
    mark?: {
      /** One line of text, at most 60 characters. */
      text: string;
      /** @default "bottom-right" */
      position?: 'bottom-right' | 'bottom-left' | 'top-right' | 'top-left';
      /** From 0.1 to 1. @default 0.8 */
      opacity?: number;
    };
  };
  /**
   * Images in flight at once.
   * @default endpoints × (1 + queueAhead)
   */
  concurrency?: number;
  /**
   * Longest time one image may take, in ms.
   * @default 1800000 (30 minutes)
   */
  imageDeadlineMs?: number;
  /**
   * How often a running job is checked besides the WebSocket, in ms.
   * @default 1000
   */
  pollIntervalMs?: number;
  /** The dev toolbar app. */
  toolbar?: {
    /**
     * Let browsers on other machines (`astro dev --host`) generate, pin into posts and start or stop
     * ComfyUI. Otherwise they get a read-only panel, because anyone who can reach the dev server could
     * use the GPU and write into the posts.
     * @default false
     */
    allowNetwork?: boolean;
    /**
     * Show ComfyUI's own web UI in the Advanced tab, relayed by the dev server. It then runs as a page of
     * the dev server, with the toolbar's rights and able to read what the dev server serves, and so does
     * the web extension of every custom node installed on that ComfyUI. Set false for a ComfyUI whose
     * custom nodes you do not trust (a shared GPU machine): the tab then links to ComfyUI at its own
     * address, and "Open in ComfyUI" downloads the graph to drop onto that page.
     * @default true
     */
    comfyuiUI?: boolean;
  };
}
