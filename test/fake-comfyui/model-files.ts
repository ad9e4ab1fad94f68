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

/** ComfyUI 0.3.64's model folder keys in the order `GET /models` lists them (recorded); `clip` is not one. */
const FOLDERS = [
  'checkpoints',
  'configs',
  'loras',
  'vae',
  'text_encoders',
  'diffusion_models',
  'clip_vision',
  'style_models',
  'embeddings',
  'diffusers',
  'vae_approx',
  'controlnet',
  'gligen',
  'upscale_models',
  'custom_nodes',
  'hypernetworks',
  'photomaker',
  'classifiers',
  'model_patches',
  'audio_encoders',
];

export const defaultModelFiles: ModelFiles = {
  ...(Object.fromEntries(FOLDERS.map((folder) => [folder, []])) as unknown as ModelFiles),
  checkpoints: ['sd3.5_large.safetensors', 'sd3.5_large_turbo.safetensors', 'sd3.5_medium.safetensors', 'sd3.5_large_fp8_scaled.safetensors'],
  text_encoders: ['clip_g.safetensors', 'clip_l.safetensors', 't5xxl_fp16.safetensors', 't5xxl_fp8_e4m3fn.safetensors'],
  // The legacy models/clip folder: its files appear in the CLIP loaders, but it is no folder key.
  clip: [],
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
