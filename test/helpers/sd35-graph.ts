/** A hand-written SD3.5 Large API graph (encoders loaded by TripleCLIPLoader) for tests of the fake itself. */
export function buildTestGraph(
  overrides: { seed?: number; text?: string; width?: number; height?: number; steps?: number; checkpoint?: string; prefix?: string; batch?: number } = {},
) {
  return {
    '1': { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: overrides.checkpoint ?? 'sd3.5_large.safetensors' } },
    '2': {
      class_type: 'TripleCLIPLoader',
      inputs: { clip_name1: 'clip_l.safetensors', clip_name2: 'clip_g.safetensors', clip_name3: 't5xxl_fp16.safetensors' },
    },
    '3': { class_type: 'CLIPTextEncode', inputs: { text: overrides.text ?? 'a lighthouse at dusk', clip: ['2', 0] } },
    '4': { class_type: 'CLIPTextEncode', inputs: { text: '', clip: ['2', 0] } },
    '5': {
      class_type: 'EmptySD3LatentImage',
      inputs: { width: overrides.width ?? 64, height: overrides.height ?? 48, batch_size: overrides.batch ?? 1 },
    },
    '6': { class_type: 'ModelSamplingSD3', inputs: { model: ['1', 0], shift: 3 } },
    '7': {
      class_type: 'KSampler',
      inputs: {
        model: ['6', 0],
        seed: overrides.seed ?? 7,
        steps: overrides.steps ?? 3,
        cfg: 4.5,
        sampler_name: 'euler',
        scheduler: 'sgm_uniform',
        positive: ['3', 0],
        negative: ['4', 0],
        latent_image: ['5', 0],
        denoise: 1,
      },
    },
    '8': { class_type: 'VAEDecode', inputs: { samples: ['7', 0], vae: ['1', 2] } },
    '9': { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: overrides.prefix ?? 'test' } },
  } as Record<string, { class_type: string; inputs: Record<string, unknown> }>;
}
