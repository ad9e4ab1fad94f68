/** Inputs whose name alone says the folder, whatever node has them (ComfyUI's loaders and hook nodes). */
const FOLDER_OF_INPUT: Record<string, string> = {
  ckpt_name: 'checkpoints',
  config_name: 'configs',
  vae_name: 'vae',
  unet_name: 'diffusion_models',
  lora_name: 'loras',
  control_net_name: 'controlnet',
  style_model_name: 'style_models',
  gligen_name: 'gligen',
  hypernetwork_name: 'hypernetworks',
  photomaker_model_name: 'photomaker',
  audio_encoder_name: 'audio_encoders',
};

/**
 * Inputs whose name other nodes use for something else: `model_name` is also the remote model of an API
 * node (KlingImageGenerationNode), and `name` anything at all. Only these nodes read them from a folder.
 */
const FOLDER_OF_NODE_INPUT: Record<string, string> = {
  'UpscaleModelLoader.model_name': 'upscale_models',
  'ModelPatchLoader.name': 'model_patches',
  'DiffusersLoader.model_path': 'diffusers',
};

/**
 * Which `ComfyUI/models/` folder a loader input's files live in, or undefined when the input is not a
 * model file. `text_encoders` also covers the legacy `clip/` folder, which ComfyUI searches too; a CLIP
 * vision loader's `clip_name` (CLIPVisionLoader, and custom nodes named so) is in `clip_vision/`.
 */
export function folderForModelInput(inputName: string, classType = ''): string | undefined {
  const ofNode = FOLDER_OF_NODE_INPUT[`${classType}.${inputName}`];
  if (ofNode) return ofNode;
  if (/^clip_name\d*$/.test(inputName)) return /clip_?vision/i.test(classType) ? 'clip_vision' : 'text_encoders';
  return Object.hasOwn(FOLDER_OF_INPUT, inputName) ? FOLDER_OF_INPUT[inputName] : undefined;
}
