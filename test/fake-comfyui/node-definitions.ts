import type { ModelFiles } from './model-files.js';
import { listTextEncoderFiles } from './model-files.js';

/** How a combo input is described in `/object_info`: classic `[[...options], {}]` or newer `["COMBO", {options}]`. */
export type ComboFormat = 'classic' | 'v3';

export interface InputOptions {
  default?: unknown;
  min?: number;
  max?: number;
  step?: number;
  multiline?: boolean;
  tooltip?: string;
  [key: string]: unknown;
}

/** One input as the fake understands it: a type name, or a list of allowed values for a combo. */
export interface InputSpec {
  type: string | string[];
  options: InputOptions;
}

export interface NodeDefinition {
  name: string;
  displayName: string;
  category: string;
  pythonModule: string;
  description: string;
  required: Record<string, InputSpec>;
  optional: Record<string, InputSpec>;
  hidden: Record<string, string>;
  output: string[];
  outputNode: boolean;
}

export const SAMPLERS = [
  'euler', 'euler_cfg_pp', 'euler_ancestral', 'euler_ancestral_cfg_pp', 'heun', 'heunpp2', 'dpm_2',
  'dpm_2_ancestral', 'lms', 'dpm_fast', 'dpm_adaptive', 'dpmpp_2s_ancestral', 'dpmpp_sde', 'dpmpp_sde_gpu',
  'dpmpp_2m', 'dpmpp_2m_sde', 'dpmpp_2m_sde_gpu', 'dpmpp_3m_sde', 'dpmpp_3m_sde_gpu', 'ddpm', 'lcm', 'ipndm',
  'ipndm_v', 'deis', 'res_multistep', 'gradient_estimation', 'er_sde', 'ddim', 'uni_pc', 'uni_pc_bh2',
];
export const SCHEDULERS = [
  'simple', 'sgm_uniform', 'karras', 'exponential', 'ddim_uniform', 'beta', 'normal', 'linear_quadratic', 'kl_optimal',
];
const CLIP_TYPES = [
  'stable_diffusion', 'stable_cascade', 'sd3', 'stable_audio', 'mochi', 'ltxv', 'pixart', 'cosmos', 'lumina2',
  'wan', 'hidream', 'chroma', 'ace', 'omnigen2', 'qwen_image',
];
const DUAL_CLIP_TYPES = ['sdxl', 'sd3', 'flux', 'hunyuan_video', 'hidream', 'hunyuan_image'];
const MAX_RESOLUTION = 16384;
const MAX_SEED = 0xffffffffffffffff;

const link = (type: string): InputSpec => ({ type, options: {} });
const combo = (values: string[], options: InputOptions = {}): InputSpec => ({ type: values, options });
const int = (options: InputOptions): InputSpec => ({ type: 'INT', options });
const float = (options: InputOptions): InputSpec => ({ type: 'FLOAT', options });

function define(
  name: string,
  displayName: string,
  fields: Partial<NodeDefinition> & Pick<NodeDefinition, 'category' | 'required' | 'output'>,
): NodeDefinition {
  return {
    name,
    displayName,
    pythonModule: 'nodes',
    description: '',
    optional: {},
    hidden: {},
    outputNode: false,
    ...fields,
  };
}

/** The SD3.5 node set with the real input names, types, defaults and ranges, for the given installed files. */
export function createNodeDefinitions(models: ModelFiles): Record<string, NodeDefinition> {
  const encoders = listTextEncoderFiles(models);
  const definitions = [
    define('CheckpointLoaderSimple', 'Load Checkpoint', {
      category: 'loaders',
      description: 'Loads a diffusion model checkpoint, diffusion models are used to denoise latents.',
      required: { ckpt_name: combo([...models.checkpoints], { tooltip: 'The name of the checkpoint (model) to load.' }) },
      output: ['MODEL', 'CLIP', 'VAE'],
    }),
    define('CLIPLoader', 'Load CLIP', {
      category: 'advanced/loaders',
      required: { clip_name: combo(encoders), type: combo(CLIP_TYPES) },
      optional: { device: combo(['default', 'cpu'], { advanced: true }) },
      output: ['CLIP'],
    }),
    define('DualCLIPLoader', 'DualCLIPLoader', {
      category: 'advanced/loaders',
      required: { clip_name1: combo(encoders), clip_name2: combo(encoders), type: combo(DUAL_CLIP_TYPES) },
      optional: { device: combo(['default', 'cpu'], { advanced: true }) },
      output: ['CLIP'],
    }),
    define('TripleCLIPLoader', 'TripleCLIPLoader', {
      category: 'advanced/loaders',
      pythonModule: 'comfy_extras.nodes_sd3',
      required: { clip_name1: combo(encoders), clip_name2: combo(encoders), clip_name3: combo(encoders) },
      output: ['CLIP'],
    }),
    define('VAELoader', 'Load VAE', {
      category: 'loaders',
      required: { vae_name: combo([...models.vae]) },
      output: ['VAE'],
    }),
    define('CLIPTextEncode', 'CLIP Text Encode (Prompt)', {
      category: 'conditioning',
      description: 'Encodes a text prompt using a CLIP model into an embedding that can be used to guide the diffusion model towards generating specific images.',
      required: {
        text: { type: 'STRING', options: { multiline: true, dynamicPrompts: true } },
        clip: link('CLIP'),
      },
      output: ['CONDITIONING'],
    }),
    define('EmptySD3LatentImage', 'EmptySD3LatentImage', {
      category: 'latent/sd3',
      pythonModule: 'comfy_extras.nodes_sd3',
      required: {
        width: int({ default: 1024, min: 16, max: MAX_RESOLUTION, step: 16 }),
        height: int({ default: 1024, min: 16, max: MAX_RESOLUTION, step: 16 }),
        batch_size: int({ default: 1, min: 1, max: 4096 }),
      },
      output: ['LATENT'],
    }),
    define('ModelSamplingSD3', 'ModelSamplingSD3', {
      category: 'advanced/model',
      pythonModule: 'comfy_extras.nodes_model_advanced',
      required: { model: link('MODEL'), shift: float({ default: 3.0, min: 0.0, max: 100.0, step: 0.01 }) },
      output: ['MODEL'],
    }),
    define('ConditioningZeroOut', 'ConditioningZeroOut', {
      category: 'advanced/conditioning',
      required: { conditioning: link('CONDITIONING') },
      output: ['CONDITIONING'],
    }),
    define('KSampler', 'KSampler', {
      category: 'sampling',
      description: 'Uses the provided model, positive and negative conditioning to denoise the latent image.',
      required: {
        model: link('MODEL'),
        seed: int({ default: 0, min: 0, max: MAX_SEED, control_after_generate: true }),
        steps: int({ default: 20, min: 1, max: 10000 }),
        cfg: float({ default: 8.0, min: 0.0, max: 100.0, step: 0.1, round: 0.01 }),
        sampler_name: combo(SAMPLERS),
        scheduler: combo(SCHEDULERS),
        positive: link('CONDITIONING'),
        negative: link('CONDITIONING'),
        latent_image: link('LATENT'),
        denoise: float({ default: 1.0, min: 0.0, max: 1.0, step: 0.01 }),
      },
      output: ['LATENT'],
    }),
    define('VAEDecode', 'VAE Decode', {
      category: 'latent',
      required: { samples: link('LATENT'), vae: link('VAE') },
      output: ['IMAGE'],
    }),
    define('SaveImage', 'Save Image', {
      category: 'image',
      description: 'Saves the input images to your ComfyUI output directory.',
      required: {
        images: link('IMAGE'),
        filename_prefix: { type: 'STRING', options: { default: 'ComfyUI' } },
      },
      hidden: { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' },
      output: [],
      outputNode: true,
    }),
    define('PreviewImage', 'Preview Image', {
      category: 'image',
      description: 'Saves the input images to your ComfyUI output directory.',
      required: { images: link('IMAGE') },
      hidden: { prompt: 'PROMPT', extra_pnginfo: 'EXTRA_PNGINFO' },
      output: [],
      outputNode: true,
    }),
  ];
  return Object.fromEntries(definitions.map((d) => [d.name, d]));
}

/** One node in `/object_info` shape, with combos in the chosen format. */
export function describeNode(definition: NodeDefinition, comboFormat: ComboFormat): Record<string, unknown> {
  const describeInputs = (inputs: Record<string, InputSpec>) =>
    Object.fromEntries(
      Object.entries(inputs).map(([name, spec]) => {
        if (Array.isArray(spec.type)) {
          return comboFormat === 'classic'
            ? [name, [spec.type, spec.options]]
            : [name, ['COMBO', { ...spec.options, options: spec.type }]];
        }
        return [name, Object.keys(spec.options).length > 0 ? [spec.type, spec.options] : [spec.type]];
      }),
    );
  const input: Record<string, unknown> = { required: describeInputs(definition.required) };
  if (Object.keys(definition.optional).length > 0) input.optional = describeInputs(definition.optional);
  if (Object.keys(definition.hidden).length > 0) input.hidden = definition.hidden;
  const inputOrder: Record<string, string[]> = { required: Object.keys(definition.required) };
  if (Object.keys(definition.optional).length > 0) inputOrder.optional = Object.keys(definition.optional);
  if (Object.keys(definition.hidden).length > 0) inputOrder.hidden = Object.keys(definition.hidden);
  return {
    input,
    input_order: inputOrder,
    output: definition.output,
    output_is_list: definition.output.map(() => false),
    output_name: definition.output,
    name: definition.name,
    display_name: definition.displayName,
    description: definition.description,
    python_module: definition.pythonModule,
    category: definition.category,
    output_node: definition.outputNode,
    deprecated: false,
    experimental: false,
  };
}
