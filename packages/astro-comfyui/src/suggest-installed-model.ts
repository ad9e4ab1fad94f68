import { defaultSd35TextEncoders, type MissingRequirements, type Sd35Model, sd35Defaults } from '@astro-comfyui/comfyui/workflows';
import type { ResolvedOptions } from './options.js';

/**
 * The model options that use the SD3.5 files a ComfyUI has where the configured ones are missing: the
 * author kept the default (Large Turbo, t5xxl_fp16) and installed Large, or T5 in fp8. A preset, not a
 * bare checkpoint name, for another SD3.5 variant: Large with Turbo's 4 steps and no cfg draws a blur.
 * Undefined unless following it makes every missing file one that ComfyUI has, and with the author's
 * own workflow, whose files are theirs to choose.
 */
export function suggestInstalledModel(options: Pick<ResolvedOptions, 'model' | 'workflow'>, missing: MissingRequirements): string | undefined {
  if (options.workflow || missing.nodeTypes.length > 0 || missing.values.length > 0 || missing.modelFiles.length === 0) return undefined;
  const { model } = options;
  let preset: Sd35Model | undefined;
  let checkpoint: string | undefined;
  const encoders = model.textEncoders === 'embedded' ? undefined : [...(model.textEncoders ?? defaultSd35TextEncoders)];
  // A file used by several nodes is listed once per node.
  const files = [...new Map(missing.modelFiles.map((m) => [`${m.folder}/${m.file}`, m])).values()];
  for (const { folder, file, sameKind } of files) {
    if (folder === 'checkpoints' && file === sd35Defaults[model.preset].checkpoint) {
      // The configured variant first, then the others; of each, Stability's own file (in a subfolder too)
      // before any other whose name says the variant, such as Comfy-Org's sd3.5_large_fp8_scaled.
      const presets = [model.preset, ...(Object.keys(sd35Defaults) as Sd35Model[]).filter((other) => other !== model.preset)];
      const found = presets
        .flatMap((other) => [
          ...sameKind.filter((name) => baseName(name) === sd35Defaults[other].checkpoint),
          ...sameKind.filter((name) => variantOf(name) === other),
        ])
        .at(0);
      if (found === undefined) return undefined;
      preset = variantOf(found)!;
      if (found !== sd35Defaults[preset].checkpoint) checkpoint = found;
    } else if (folder === 'text_encoders' && encoders?.includes(file) && sameKind.length > 0) {
      encoders[encoders.indexOf(file)] = sameKind[0]!;
    } else {
      return undefined;
    }
  }
  // Written with "/" whatever the machine lists: each ComfyUI is sent its own spelling.
  const quote = (name: string) => JSON.stringify(name.replaceAll('\\', '/'));
  const settings = [
    ...(preset && preset !== model.preset ? [`model.preset: "${preset}"${checkpoint ? '' : ` (which uses ${sd35Defaults[preset].checkpoint})`}`] : []),
    ...(checkpoint ? [`model.checkpoint: ${quote(checkpoint)}`] : []),
    ...(encoders && files.some((m) => m.folder === 'text_encoders') ? [`model.textEncoders: [${encoders.map(quote).join(', ')}]`] : []),
  ];
  const listed = settings.length > 1 ? `${settings.slice(0, -1).join(', ')} and ${settings.at(-1)}` : settings[0];
  return `Or use the SD3.5 files it has: set ${listed} in the astro-comfyui options.`;
}

const baseName = (file: string) => file.split(/[\\/]/).pop()!;

/** Which SD3.5 variant a checkpoint's name says it is (`sd3.5_large_turbo…`, `…medium_incl_clips…`). */
function variantOf(file: string): Sd35Model | undefined {
  const name = baseName(file).toLowerCase();
  return /large.?turbo/.test(name) ? 'large-turbo' : /large/.test(name) ? 'large' : /medium/.test(name) ? 'medium' : undefined;
}
