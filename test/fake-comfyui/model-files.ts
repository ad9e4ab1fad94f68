/** The model files a fake ComfyUI has "installed", by folder, as `GET /models/{folder}` lists them. */
export interface ModelFiles {
  checkpoints: string[];
  text_encoders: string[];
  clip: string[];
  vae: string[];
  diffusion_models: string[];
  loras: string[];
  [folder: string]: string[];
}

export const defaultModelFiles: ModelFiles = {
  checkpoints: [
    'sd3.5_large.safetensors',
    'sd3.5_large_turbo.safetensors',
    'sd3.5_medium.safetensors',
    'sd3.5_large_fp8_scaled.safetensors',
  ],
  text_encoders: ['clip_g.safetensors', 'clip_l.safetensors', 't5xxl_fp16.safetensors', 't5xxl_fp8_e4m3fn.safetensors'],
  clip: [],
  vae: [],
  diffusion_models: [],
  loras: [],
};

/**
 * Stability's own SD3.5 checkpoints ship without text encoders; Comfy-Org's repackaged "_fp8_scaled"
 * files have them inside. The fake needs to know which is which to fail like the real server.
 */
export const defaultCheckpointsWithTextEncoders = ['sd3.5_large_fp8_scaled.safetensors'];

/** ComfyUI lists `text_encoders` and the legacy `clip` folder together in every CLIP loader's combo. */
export function listTextEncoderFiles(models: ModelFiles): string[] {
  return [...new Set([...models.text_encoders, ...models.clip])].sort();
}
