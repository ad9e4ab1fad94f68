/**
 * Which `ComfyUI/models/` folder a loader input's files live in. `text_encoders` also covers the legacy
 * `clip/` folder, which ComfyUI searches too.
 */
export function folderForModelInput(inputName: string): string | undefined {
  if (inputName === 'ckpt_name') return 'checkpoints';
  if (/^clip_name\d*$/.test(inputName)) return 'text_encoders';
  if (inputName === 'vae_name') return 'vae';
  if (inputName === 'unet_name') return 'diffusion_models';
  if (inputName === 'lora_name') return 'loras';
  if (inputName === 'control_net_name') return 'controlnet';
  if (inputName === 'model_name') return 'upscale_models';
  return undefined;
}
