import { ComfyUIError } from './comfyui-error.js';
import { defaultSd35TextEncoders, sd35Defaults, type Sd35Model } from './sd35-models.js';
import type { ApiWorkflow } from './types.js';

export interface Sd35WorkflowInput {
  /** Which SD3.5 variant's defaults to use. Default `large-turbo`. */
  model?: Sd35Model;
  /** Checkpoint file in ComfyUI/models/checkpoints. Default: the variant's official file. */
  checkpoint?: string;
  /**
   * `"embedded"` when the checkpoint contains its text encoders, otherwise 1–3 files from
   * ComfyUI/models/text_encoders, loaded by CLIPLoader (type sd3), DualCLIPLoader or TripleCLIPLoader.
   * Default: clip_l, clip_g and t5xxl_fp16.
   */
  textEncoders?: 'embedded' | string[];
  prompt: string;
  negative?: string;
  width: number;
  height: number;
  seed: number;
  steps?: number;
  cfg?: number;
  sampler?: string;
  scheduler?: string;
  shift?: number;
  batchSize?: number;
  /** SaveImage filename prefix (may contain a subfolder). Default `astro-comfyui`. */
  filenamePrefix?: string;
}

/** Every setting that ends up in the graph, after defaults: part of what determines the pixels. */
export interface Sd35Settings {
  model: Sd35Model;
  checkpoint: string;
  textEncoders: 'embedded' | string[];
  prompt: string;
  negative: string;
  width: number;
  height: number;
  seed: number;
  steps: number;
  cfg: number;
  sampler: string;
  scheduler: string;
  shift: number;
  batchSize: number;
}

export interface Sd35Workflow {
  workflow: ApiWorkflow;
  settings: Sd35Settings;
  outputNodeId: string;
}

/** The settings every image of one model setup shares: what is left of Sd35Settings without the image's own values. */
export type Sd35ModelSettings = Omit<Sd35Settings, 'prompt' | 'negative' | 'width' | 'height' | 'seed'>;

/**
 * Fills in a variant's defaults for the model half of the settings and checks them. It depends on the
 * model options only, so callers resolving thousands of images can do it once.
 */
export function resolveSd35Model(input: Omit<Sd35WorkflowInput, 'filenamePrefix' | 'prompt' | 'negative' | 'width' | 'height' | 'seed'>): Sd35ModelSettings {
  const model = input.model ?? 'large-turbo';
  const defaults = Object.hasOwn(sd35Defaults, model) ? sd35Defaults[model] : undefined;
  if (!defaults) throw invalid(`Unknown SD3.5 model "${String(model)}". Use one of: ${Object.keys(sd35Defaults).join(', ')}.`);
  const textEncoders = input.textEncoders ?? defaultSd35TextEncoders;
  if (
    textEncoders !== 'embedded' &&
    (!Array.isArray(textEncoders) || textEncoders.length < 1 || textEncoders.length > 3 || textEncoders.some((f) => typeof f !== 'string' || f === ''))
  ) {
    throw invalid('textEncoders must be "embedded" or a list of 1 to 3 file names from ComfyUI/models/text_encoders (clip_l, clip_g, t5xxl).');
  }
  return {
    model,
    checkpoint: input.checkpoint ?? defaults.checkpoint,
    textEncoders,
    steps: checkInteger('steps', input.steps ?? defaults.steps, 1, 10_000),
    cfg: checkNumber('cfg', input.cfg ?? defaults.cfg, 0, 100),
    sampler: input.sampler ?? defaults.sampler,
    scheduler: input.scheduler ?? defaults.scheduler,
    shift: checkNumber('shift', input.shift ?? defaults.shift, 0, 100),
    batchSize: checkInteger('batchSize', input.batchSize ?? 1, 1, 64),
  };
}

/**
 * Fills in a variant's defaults and checks every value against what SD3.5 and ComfyUI accept. `model`,
 * when given, is what resolveSd35Model returned for the same model options, resolved once for many images.
 */
export function resolveSd35Settings(input: Omit<Sd35WorkflowInput, 'filenamePrefix'>, model: Sd35ModelSettings = resolveSd35Model(input)): Sd35Settings {
  if (typeof input.prompt !== 'string' || input.prompt.trim() === '') throw invalid('The prompt is empty. Describe the image to generate.');
  return {
    ...model,
    prompt: input.prompt,
    negative: input.negative ?? '',
    width: checkSize('width', input.width),
    height: checkSize('height', input.height),
    seed: checkInteger('seed', input.seed, 0, Number.MAX_SAFE_INTEGER),
  };
}

/**
 * Builds the API-format graph for SD3.5 text-to-image. Node ids are stable so the same settings always
 * give the same JSON (and ComfyUI's cache can serve an identical rerun).
 */
export function buildSd35Workflow(input: Sd35WorkflowInput): Sd35Workflow {
  const s = resolveSd35Settings(input);
  const zeroNegative = sd35Defaults[s.model].zeroNegative;
  const workflow: ApiWorkflow = {
    '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: s.checkpoint } },
  };
  let clip: [string, number] = ['1', 1];
  if (s.textEncoders !== 'embedded') {
    const files = s.textEncoders;
    clip = ['2', 0];
    workflow['2'] =
      files.length === 1
        ? { class_type: 'CLIPLoader', inputs: { clip_name: files[0], type: 'sd3' } }
        : files.length === 2
          ? { class_type: 'DualCLIPLoader', inputs: { clip_name1: files[0], clip_name2: files[1], type: 'sd3' } }
          : { class_type: 'TripleCLIPLoader', inputs: { clip_name1: files[0], clip_name2: files[1], clip_name3: files[2] } };
  }
  workflow['3'] = { class_type: 'CLIPTextEncode', inputs: { text: s.prompt, clip } };
  let negative: [string, number] = ['4', 0];
  if (zeroNegative && s.cfg === 1) {
    // At cfg 1 ComfyUI never evaluates the negative (comfy/samplers.py skips uncond when cond_scale is
    // 1): zeroing the positive gives the same image without encoding a negative (a whole T5-XXL pass).
    workflow['5'] = { class_type: 'ConditioningZeroOut', inputs: { conditioning: ['3', 0] } };
    negative = ['5', 0];
  } else {
    workflow['4'] = { class_type: 'CLIPTextEncode', inputs: { text: s.negative, clip } };
    if (zeroNegative) {
      workflow['5'] = { class_type: 'ConditioningZeroOut', inputs: { conditioning: ['4', 0] } };
      negative = ['5', 0];
    }
  }
  workflow['6'] = { class_type: 'EmptySD3LatentImage', inputs: { width: s.width, height: s.height, batch_size: s.batchSize } };
  workflow['7'] = { class_type: 'ModelSamplingSD3', inputs: { model: ['1', 0], shift: s.shift } };
  workflow['8'] = {
    class_type: 'KSampler',
    inputs: {
      model: ['7', 0],
      seed: s.seed,
      steps: s.steps,
      cfg: s.cfg,
      sampler_name: s.sampler,
      scheduler: s.scheduler,
      positive: ['3', 0],
      negative,
      latent_image: ['6', 0],
      denoise: 1,
    },
  };
  workflow['9'] = { class_type: 'VAEDecode', inputs: { samples: ['8', 0], vae: ['1', 2] } };
  workflow['10'] = { class_type: 'SaveImage', inputs: { images: ['9', 0], filename_prefix: input.filenamePrefix ?? 'astro-comfyui' } };
  return { workflow, settings: s, outputNodeId: '10' };
}

function invalid(message: string): ComfyUIError {
  return new ComfyUIError('INVALID_OPTIONS', message);
}

function checkSize(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 16 || value > 16384 || value % 16 !== 0) {
    throw invalid(
      `${name} must be a whole number of pixels from 16 to 16384 and a multiple of 16 (SD3.5 latents), got ${String(value)}. Around one megapixel works best, e.g. 1024×1024 or 1344×768.`,
    );
  }
  return value;
}

function checkInteger(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) throw invalid(`${name} must be a whole number from ${min} to ${max}, got ${String(value)}.`);
  return value;
}

function checkNumber(name: string, value: number, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max)
    throw invalid(`${name} must be a number from ${min} to ${max}, got ${String(value)}.`);
  return value;
}
