import { readFileSync } from 'node:fs';
import type { ModelFiles } from './model-files.js';
import { listTextEncoderFiles } from './model-files.js';

/**
 * How combo inputs are described in `/object_info`. `recorded` (the default) answers each node exactly
 * as the recorded ComfyUI 0.3.64 did: classic `[[...options], {...}]` for most nodes and V3
 * `["COMBO", {options}]` for V3 nodes such as TripleCLIPLoader. `classic` and `v3` force one format on
 * every node, as older and newer servers do, so clients are tested against both.
 */
export type ComboFormat = 'recorded' | 'classic' | 'v3';

export interface InputOptions {
  default?: unknown;
  min?: number;
  max?: number;
  step?: number;
  [key: string]: unknown;
}

/** One input as the fake understands it: a type name, or a list of allowed values for a combo. */
export interface InputSpec {
  type: string | string[];
  options: InputOptions;
  /**
   * A V3 combo (`["COMBO", {...}]`). ComfyUI 0.3.64 does not check its value at POST /prompt (its
   * validation only checks inputs whose type is a list); a missing file fails at execution instead.
   */
  v3Combo: boolean;
}

export interface NodeDefinition {
  name: string;
  required: Record<string, InputSpec>;
  optional: Record<string, InputSpec>;
  hidden: Record<string, string>;
  output: string[];
  outputNode: boolean;
  /** The recorded `/object_info` entry, with the installed model files in its model combos. */
  recorded: RecordedNode;
}

/**
 * The whole recorded `/object_info` of a real ComfyUI 0.3.64 (a verbatim copy of
 * shared/comfyui-recordings/object_info-0.3.64.json, 496 node types): the fake describes and validates
 * every one, as ComfyUI's own web UI needs its core nodes to boot and load graphs; it executes the nodes
 * this project's graphs use (execute-node.ts).
 */
const RECORDED = JSON.parse(readFileSync(new URL('./object-info-0.3.64.json', import.meta.url), 'utf8')) as Record<string, RecordedNode>;

interface RecordedNode {
  input: { required?: Record<string, unknown[]>; optional?: Record<string, unknown[]>; hidden?: Record<string, string> };
  output: string[];
  output_node: boolean;
  [key: string]: unknown;
}

/** The loaders of this project's graphs: their model inputs list the installed files, not the recording's. */
const LOADERS = new Set(['CheckpointLoaderSimple', 'CLIPLoader', 'DualCLIPLoader', 'TripleCLIPLoader', 'VAELoader']);

/** Inputs of those loaders whose options are the installed model files of a folder. */
const MODEL_INPUTS: Record<string, (models: ModelFiles) => string[]> = {
  ckpt_name: (m) => [...m.checkpoints],
  clip_name: listTextEncoderFiles,
  clip_name1: listTextEncoderFiles,
  clip_name2: listTextEncoderFiles,
  clip_name3: listTextEncoderFiles,
  // VAELoader adds its built-in "pixel_space" choice after the installed files (recorded).
  vae_name: (m) => [...m.vae, 'pixel_space'],
};

/** The node set with the recorded input names, types, defaults and ranges, for the given installed files. */
export function createNodeDefinitions(models: ModelFiles): Record<string, NodeDefinition> {
  return Object.fromEntries(
    Object.entries(RECORDED).map(([name, node]) => {
      const recorded = structuredClone(node);
      const parse = (inputs: Record<string, unknown[]> = {}) =>
        Object.fromEntries(
          Object.entries(inputs).map(([input, config]) => {
            const files = LOADERS.has(name) ? MODEL_INPUTS[input]?.(models) : undefined;
            if (files) {
              if (config[0] === 'COMBO') (config[1] as { options: string[] }).options = files;
              else config[0] = files;
            }
            return [input, parseInput(config)];
          }),
        );
      const definition: NodeDefinition = {
        name,
        required: parse(recorded.input.required),
        optional: parse(recorded.input.optional),
        hidden: recorded.input.hidden ?? {},
        output: recorded.output,
        outputNode: recorded.output_node,
        recorded,
      };
      return [name, definition];
    }),
  );
}

function parseInput(config: unknown[]): InputSpec {
  const [type, options = {}] = config as [unknown, InputOptions | undefined];
  if (Array.isArray(type)) return { type: type as string[], options, v3Combo: false };
  if (type === 'COMBO') {
    const { options: values, ...rest } = options as InputOptions & { options: string[] };
    // Some V3 combos list no options (their values come from elsewhere): nothing is allowed then.
    return { type: values ?? [], options: rest, v3Combo: true };
  }
  return { type: String(type), options, v3Combo: false };
}

/** One node in `/object_info` shape: as recorded, or with every combo in one format. */
export function describeNode(definition: NodeDefinition, comboFormat: ComboFormat): RecordedNode {
  const node = structuredClone(definition.recorded);
  if (comboFormat === 'recorded') return node;
  for (const [category, specs] of [
    ['required', definition.required],
    ['optional', definition.optional],
  ] as const) {
    const inputs = node.input[category];
    if (!inputs) continue;
    for (const [name, spec] of Object.entries(specs)) {
      if (!Array.isArray(spec.type)) continue;
      inputs[name] =
        comboFormat === 'classic'
          ? Object.keys(spec.options).length > 0
            ? [spec.type, spec.options]
            : [spec.type]
          : ['COMBO', { ...spec.options, options: spec.type }];
    }
  }
  return node;
}
