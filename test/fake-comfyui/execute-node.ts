import { mkdir, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { encodePng } from './encode-png.js';
import { dumpJsonLikePython } from './python-format.js';
import { renderImage } from './render-image.js';

/** What flows along the links of the fake graph: enough to fingerprint the final pixels and fail like ComfyUI. */
export type NodeValue =
  | { kind: 'MODEL'; checkpoint: string; shift: number | null }
  | { kind: 'CLIP'; encoders: string[]; type: string }
  | { kind: 'VAE'; name: string }
  | { kind: 'CONDITIONING'; text: string; zero: boolean }
  | { kind: 'LATENT'; width: number; height: number; batch: number; sampled: string | null }
  | { kind: 'IMAGE'; width: number; height: number; fingerprints: string[] }
  | null;

export interface ImageRef {
  filename: string;
  subfolder: string;
  type: 'output' | 'temp';
}

export interface NodeResult {
  outputs: NodeValue[];
  ui: { images: ImageRef[] } | null;
}

export interface NodeContext {
  nodeId: string;
  prompt: unknown;
  extraPngInfo: Record<string, unknown> | undefined;
  outputDirectory: string;
  tempDirectory: string;
  checkpointsWithTextEncoders: string[];
  /** Installed text encoder files: a V3 loader's missing file fails here, not at POST /prompt. */
  textEncoderFiles: string[];
  disableMetadata: boolean;
  /** Called once per sampler step; waits the configured delay and throws if the prompt was interrupted. */
  step(value: number, max: number): Promise<void>;
  /** Waits the configured delay for loading a model or decoding/saving one image. */
  pause(kind: 'load' | 'image'): Promise<void>;
}

/** A Python exception raised inside a node, reported as `execution_error` with its type and message. */
export class NodeExecutionError extends Error {
  constructor(
    message: string,
    readonly exceptionType = 'RuntimeError',
  ) {
    super(message);
  }
}

type Inputs = Record<string, unknown>;
const value = <T extends NonNullable<NodeValue>['kind']>(inputs: Inputs, name: string, kind: T) => {
  const v = inputs[name] as NodeValue;
  if (!v || v.kind !== kind) throw new NodeExecutionError(`'NoneType' object has no attribute '${kind.toLowerCase()}'`, 'AttributeError');
  return v as Extract<NodeValue, { kind: T }>;
};

/** Runs one node of the SD3.5 set on already-resolved inputs. */
export async function executeNode(classType: string, inputs: Inputs, context: NodeContext): Promise<NodeResult> {
  const only = (v: NodeValue): NodeResult => ({ outputs: [v], ui: null });
  switch (classType) {
    case 'CheckpointLoaderSimple': {
      await context.pause('load');
      const checkpoint = String(inputs.ckpt_name);
      const clip: NodeValue = context.checkpointsWithTextEncoders.includes(checkpoint)
        ? { kind: 'CLIP', encoders: [`${checkpoint}#embedded`], type: 'sd3' }
        : null; // SD3.5 checkpoints from Stability carry no text encoders: the CLIP output is None.
      return { outputs: [{ kind: 'MODEL', checkpoint, shift: null }, clip, { kind: 'VAE', name: `${checkpoint}#vae` }], ui: null };
    }
    case 'CLIPLoader':
      await context.pause('load');
      return only({ kind: 'CLIP', encoders: [String(inputs.clip_name)], type: String(inputs.type) });
    case 'DualCLIPLoader':
      await context.pause('load');
      return only({ kind: 'CLIP', encoders: [String(inputs.clip_name1), String(inputs.clip_name2)], type: String(inputs.type) });
    case 'TripleCLIPLoader':
      for (const name of [inputs.clip_name1, inputs.clip_name2, inputs.clip_name3].map(String)) {
        if (!context.textEncoderFiles.includes(name))
          throw new NodeExecutionError(`Model in folder 'text_encoders' with filename '${name}' not found.`, 'FileNotFoundError');
      }
      await context.pause('load');
      return only({ kind: 'CLIP', encoders: [inputs.clip_name1, inputs.clip_name2, inputs.clip_name3].map(String), type: 'sd3' });
    case 'VAELoader':
      await context.pause('load');
      return only({ kind: 'VAE', name: String(inputs.vae_name) });
    case 'CLIPTextEncode': {
      if (inputs.clip === null || inputs.clip === undefined) {
        throw new NodeExecutionError(
          'ERROR: clip input is invalid: None\n\nIf the clip is from a checkpoint loader node your checkpoint does not contain a valid clip or text encoder model.',
        );
      }
      const clip = value(inputs, 'clip', 'CLIP');
      return only({ kind: 'CONDITIONING', text: `${clip.encoders.join('+')}:${String(inputs.text)}`, zero: false });
    }
    case 'ConditioningZeroOut':
      return only({ ...value(inputs, 'conditioning', 'CONDITIONING'), zero: true });
    case 'EmptySD3LatentImage':
      return only({ kind: 'LATENT', width: Number(inputs.width), height: Number(inputs.height), batch: Number(inputs.batch_size), sampled: null });
    case 'ModelSamplingSD3':
      return only({ ...value(inputs, 'model', 'MODEL'), shift: Number(inputs.shift) });
    case 'KSampler': {
      const model = value(inputs, 'model', 'MODEL');
      const positive = value(inputs, 'positive', 'CONDITIONING');
      const negative = value(inputs, 'negative', 'CONDITIONING');
      const latent = value(inputs, 'latent_image', 'LATENT');
      const steps = Number(inputs.steps);
      for (let i = 1; i <= steps; i++) await context.step(i, steps);
      const sampled = JSON.stringify([model, positive, negative, inputs.seed, steps, inputs.cfg, inputs.sampler_name, inputs.scheduler, inputs.denoise]);
      return only({ ...latent, sampled });
    }
    case 'VAEDecode': {
      const latent = value(inputs, 'samples', 'LATENT');
      value(inputs, 'vae', 'VAE');
      const fingerprints = [];
      for (let i = 0; i < latent.batch; i++) {
        await context.pause('image');
        fingerprints.push(`${latent.sampled ?? 'empty'}#${i}`);
      }
      return only({ kind: 'IMAGE', width: latent.width, height: latent.height, fingerprints });
    }
    case 'ImageScaleBy': {
      // nodes.py ImageScaleBy.upscale: round(side * scale_by) per side; Python rounds halves to even.
      const image = value(inputs, 'image', 'IMAGE');
      const scale = Number(inputs.scale_by);
      const scaled = (side: number) => roundHalfEven(side * scale);
      return only({ ...image, width: scaled(image.width), height: scaled(image.height), fingerprints: image.fingerprints.map((f) => `${f}@${scale}`) });
    }
    case 'SaveImage':
    case 'PreviewImage': {
      const image = value(inputs, 'images', 'IMAGE');
      const temp = classType === 'PreviewImage';
      const prefix = temp ? `ComfyUI_temp_${randomSuffix()}` : String(inputs.filename_prefix ?? 'ComfyUI');
      const images = await saveImages(image, prefix, temp ? context.tempDirectory : context.outputDirectory, temp ? 'temp' : 'output', context);
      return { outputs: [], ui: { images } };
    }
    default:
      throw new NodeExecutionError(`fake ComfyUI cannot execute ${classType}`);
  }
}

async function saveImages(
  image: Extract<NodeValue, { kind: 'IMAGE' }>,
  prefix: string,
  baseDirectory: string,
  type: 'output' | 'temp',
  context: NodeContext,
): Promise<ImageRef[]> {
  // Like folder_paths.get_save_image_path: the prefix may carry a subfolder but must stay inside the folder.
  const subfolder = path.dirname(path.normalize(prefix)) === '.' ? '' : path.dirname(path.normalize(prefix));
  const base = path.basename(prefix);
  const folder = path.resolve(baseDirectory, subfolder);
  if (path.relative(path.resolve(baseDirectory), folder).startsWith('..') || path.isAbsolute(subfolder)) {
    throw new NodeExecutionError(
      `**** ERROR: Saving image outside the output folder is not allowed.\n full_output_folder: ${folder}\n         output_dir: ${baseDirectory}`,
      'Exception',
    );
  }
  await mkdir(folder, { recursive: true });
  let counter = (await findLastCounter(folder, base)) + 1;
  const text: Record<string, string> = {};
  if (!context.disableMetadata) {
    text.prompt = dumpJsonLikePython(context.prompt);
    for (const [key, extra] of Object.entries(context.extraPngInfo ?? {})) text[key] = dumpJsonLikePython(extra);
  }
  const refs: ImageRef[] = [];
  for (const fingerprint of image.fingerprints) {
    const filename = `${base}_${String(counter).padStart(5, '0')}_.png`;
    const png = encodePng(image.width, image.height, renderImage(image.width, image.height, fingerprint), text);
    await writeFile(path.join(folder, filename), png);
    refs.push({ filename, subfolder, type });
    counter++;
  }
  return refs;
}

/** ComfyUI continues numbering after the highest existing `<prefix>_NNNNN_.png` in the folder. */
async function findLastCounter(folder: string, base: string): Promise<number> {
  let last = 0;
  for (const name of await readdir(folder)) {
    if (!name.startsWith(`${base}_`)) continue;
    const match = /^(\d+)_?\./.exec(name.slice(base.length + 1));
    if (match) last = Math.max(last, Number(match[1]));
  }
  return last;
}

function randomSuffix(): string {
  return Array.from({ length: 5 }, () => 'abcdefghijklmnopqrstupvxyz'[Math.floor(Math.random() * 26)]).join('');
}

/** Python 3's round(): a half goes to the even neighbour (round(2.5) == 2, round(3.5) == 4). */
function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const fraction = x - floor;
  if (fraction !== 0.5) return Math.round(x);
  return floor % 2 === 0 ? floor : floor + 1;
}
