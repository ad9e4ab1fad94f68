import { createComfyUIClient, type ObjectInfo } from '@astro-comfyui/comfyui';
import { describeMissingRequirements, findMissingRequirements } from '@astro-comfyui/comfyui/workflows';
import { describe, expect, it } from 'vitest';
import { startFakeComfyUI } from '../../../test/fake-comfyui/fake-comfyui.js';
import { resolveOptions, type ResolvedOptions } from '../src/options.js';
import type { UserOptions } from '../src/user-options.js';
import { buildSiteGraph } from '../src/preflight-images.js';
import { suggestInstalledModel } from '../src/suggest-installed-model.js';

/** The /object_info of a ComfyUI with these model files (the recorded node definitions otherwise). */
async function objectInfoWith(models: { checkpoints?: string[]; text_encoders?: string[] }): Promise<ObjectInfo> {
  const server = await startFakeComfyUI({ models });
  const client = createComfyUIClient({ url: server.url });
  try {
    return await client.getObjectInfo();
  } finally {
    await client.close();
    await server.close();
  }
}

const optionsOf = (input: UserOptions = {}) => resolveOptions(input, '/site', {});
const missingFor = (options: ResolvedOptions, info: ObjectInfo) => findMissingRequirements(buildSiteGraph(options, undefined)!, info);

/** The options the suggestion names, applied the way an author would write them into astro.config. */
function follow(input: UserOptions, suggestion: string): UserOptions {
  const preset = /model\.preset: "([^"]+)"/.exec(suggestion)?.[1] as 'large' | 'medium' | 'large-turbo' | undefined;
  const checkpoint = /model\.checkpoint: ("[^"]+")/.exec(suggestion)?.[1];
  const encoders = /model\.textEncoders: (\[[^\]]*\])/.exec(suggestion)?.[1];
  return {
    ...input,
    model: {
      ...input.model,
      ...(preset ? { preset } : {}),
      ...(checkpoint ? { checkpoint: JSON.parse(checkpoint) as string } : {}),
      ...(encoders ? { textEncoders: JSON.parse(encoders) as string[] } : {}),
    },
  };
}

/** The suggestion for a ComfyUI with `info`, checked to leave nothing missing once an author follows it. */
function suggestionThatWorks(info: ObjectInfo, input: UserOptions = {}): string {
  const suggestion = suggestInstalledModel(optionsOf(input), missingFor(optionsOf(input), info));
  expect(suggestion).toBeDefined();
  expect(missingFor(optionsOf(follow(input, suggestion!)), info)).toEqual({ nodeTypes: [], modelFiles: [], values: [] });
  return suggestion!;
}

describe('suggestInstalledModel', () => {
  it('names the preset and text encoders that use the SD3.5 files a ComfyUI has, and following it leaves nothing missing', async () => {
    // A common first machine: Large (not Turbo) and T5 in fp8, as ComfyUI's own guides download them.
    const info = await objectInfoWith({
      checkpoints: ['sd3.5_large.safetensors', 'SDXL/juggernaut.safetensors'],
      text_encoders: ['clip_g.safetensors', 'clip_l.safetensors', 't5xxl_fp8_e4m3fn_scaled.safetensors'],
    });
    const missing = missingFor(optionsOf(), info);
    expect(describeMissingRequirements(missing)).toEqual([
      'sd3.5_large_turbo.safetensors is missing: put it in ComfyUI/models/checkpoints/ (used by CheckpointLoaderSimple ckpt_name); that folder has sd3.5_large.safetensors.',
      't5xxl_fp16.safetensors is missing: put it in ComfyUI/models/text_encoders/ (used by TripleCLIPLoader clip_name3); that folder has t5xxl_fp8_e4m3fn_scaled.safetensors.',
    ]);
    expect(suggestionThatWorks(info)).toBe(
      'Or use the SD3.5 files it has: set model.preset: "large" (which uses sd3.5_large.safetensors) and model.textEncoders: ["clip_l.safetensors", "clip_g.safetensors", "t5xxl_fp8_e4m3fn_scaled.safetensors"] in the astro-comfyui options.',
    );

    // Only what is missing changes: here the encoders, with the author's own steps kept.
    const turbo = await objectInfoWith({ text_encoders: ['clip_g.safetensors', 'clip_l.safetensors', 't5xxl_fp8_e4m3fn.safetensors'] });
    expect(suggestionThatWorks(turbo, { model: { steps: 6 } })).toBe(
      'Or use the SD3.5 files it has: set model.textEncoders: ["clip_l.safetensors", "clip_g.safetensors", "t5xxl_fp8_e4m3fn.safetensors"] in the astro-comfyui options.',
    );

    // Files kept in a subfolder, as a ComfyUI on Windows lists them: the variant asked for is found there
    // first, and the settings write them with "/", which every ComfyUI is sent in its own spelling.
    const sorted = await objectInfoWith({
      checkpoints: ['SD3.5\\sd3.5_large.safetensors', 'SD3.5\\sd3.5_large_turbo.safetensors'],
      text_encoders: ['sd3\\clip_g.safetensors', 'sd3\\clip_l.safetensors', 'sd3\\t5xxl_fp16.safetensors'],
    });
    expect(suggestionThatWorks(sorted)).toBe(
      'Or use the SD3.5 files it has: set model.checkpoint: "SD3.5/sd3.5_large_turbo.safetensors" and model.textEncoders: ["sd3/clip_l.safetensors", "sd3/clip_g.safetensors", "sd3/t5xxl_fp16.safetensors"] in the astro-comfyui options.',
    );
    // The other way round: the options name a subfolder the machine does not have; a file's kind is in its
    // own name, not its folder's.
    const flat = await objectInfoWith({});
    const inSd3 = { model: { textEncoders: ['sd3/clip_l.safetensors', 'sd3/clip_g.safetensors', 'sd3/t5xxl_fp16.safetensors'] } };
    expect(suggestionThatWorks(flat, inSd3)).toBe(
      'Or use the SD3.5 files it has: set model.textEncoders: ["clip_l.safetensors", "clip_g.safetensors", "t5xxl_fp16.safetensors"] in the astro-comfyui options.',
    );
    const medium = await objectInfoWith({ checkpoints: ['sd3.5/sd3.5_medium.safetensors'] });
    expect(suggestionThatWorks(medium)).toBe(
      'Or use the SD3.5 files it has: set model.preset: "medium" and model.checkpoint: "sd3.5/sd3.5_medium.safetensors" in the astro-comfyui options.',
    );
  });

  it("takes another maker's file of a variant by its name, with the variant's preset", async () => {
    // ComfyUI's examples' "fp8" setup: Comfy-Org's repackaged Large, and the encoders beside it.
    const fp8 = await objectInfoWith({
      checkpoints: ['sd3.5_large_fp8_scaled.safetensors', 'other/dreamshaper.safetensors'],
      text_encoders: ['clip_g.safetensors', 'clip_l.safetensors', 't5xxl_fp8_e4m3fn.safetensors'],
    });
    expect(suggestionThatWorks(fp8)).toBe(
      'Or use the SD3.5 files it has: set model.preset: "large", model.checkpoint: "sd3.5_large_fp8_scaled.safetensors" and model.textEncoders: ["clip_l.safetensors", "clip_g.safetensors", "t5xxl_fp8_e4m3fn.safetensors"] in the astro-comfyui options.',
    );
    // The variant the options name is kept while a file of it is there, whoever made it; of another
    // variant, Stability's own file comes first.
    const turbo = await objectInfoWith({ checkpoints: ['sd3.5_medium.safetensors', 'sd3.5_large_turbo_fp8.safetensors'] });
    expect(suggestionThatWorks(turbo)).toBe(
      'Or use the SD3.5 files it has: set model.checkpoint: "sd3.5_large_turbo_fp8.safetensors" in the astro-comfyui options.',
    );
    const others = await objectInfoWith({ checkpoints: ['sd3.5_large_fp8_scaled.safetensors', 'sd3.5_large.safetensors'] });
    expect(suggestionThatWorks(others)).toBe(
      'Or use the SD3.5 files it has: set model.preset: "large" (which uses sd3.5_large.safetensors) in the astro-comfyui options.',
    );
  });

  it('suggests nothing that would leave a file missing, guess at a checkpoint, or change an own workflow', async () => {
    // An SD3 checkpoint whose name says no variant: which settings suit it is not known.
    const unnamed = await objectInfoWith({ checkpoints: ['sd3_finetune_v2.safetensors'] });
    const missing = missingFor(optionsOf(), unnamed);
    expect(describeMissingRequirements(missing)[0]).toContain('; that folder has sd3_finetune_v2.safetensors.');
    expect(suggestInstalledModel(optionsOf(), missing)).toBeUndefined();
    // A text encoder with nothing of its kind there: the suggestion could not make the graph run.
    const noT5 = await objectInfoWith({ checkpoints: ['sd3.5_large.safetensors'], text_encoders: ['clip_g.safetensors', 'clip_l.safetensors'] });
    expect(describeMissingRequirements(missingFor(optionsOf(), noT5))[1]).toMatch(/\(used by TripleCLIPLoader clip_name3\)\.$/);
    expect(suggestInstalledModel(optionsOf(), missingFor(optionsOf(), noT5))).toBeUndefined();
    // A checkpoint the author named, though a preset's file is there: theirs to choose, as are an own
    // workflow's files.
    const largeOnly = await objectInfoWith({ checkpoints: ['sd3.5_large.safetensors'] });
    expect(suggestInstalledModel(optionsOf(), missingFor(optionsOf(), largeOnly))).toContain('model.preset: "large"');
    const named = optionsOf({ model: { checkpoint: 'finetunes/sd3.5_lighthouse_v2.safetensors' } });
    expect(describeMissingRequirements(missingFor(named, largeOnly))[0]).toContain('; that folder has sd3.5_large.safetensors.');
    expect(suggestInstalledModel(named, missingFor(named, largeOnly))).toBeUndefined();
    const repackaged = await objectInfoWith({ checkpoints: ['sd3.5_large_fp8_scaled.safetensors'] });
    const withWorkflow = { ...optionsOf(), workflow: { file: '/site/flow.json', bindings: {} } };
    expect(suggestInstalledModel(withWorkflow, missingFor(optionsOf(), repackaged))).toBeUndefined();
    // A missing node type is not fixed by model options.
    expect(suggestInstalledModel(optionsOf(), { ...missingFor(optionsOf(), noT5), nodeTypes: [{ nodeId: '9', classType: 'X' }] })).toBeUndefined();
  });
});
