/**
 * What a job is doing while ComfyUI runs one of its nodes, said in words (undefined for a node that takes
 * no time, which starts no phase of its own): the long, quiet stretches of a
 * generation are loading the model files (minutes for SD3.5 Large's ~25 GB, once per ComfyUI start),
 * encoding the prompt, moving the model to the GPU before the first step, and decoding the image.
 */
export function describeJobPhase(classType: string | undefined): string | undefined {
  if (classType === undefined) return 'running';
  if (/Loader/.test(classType)) return 'loading the model files';
  if (/^CLIPTextEncode/.test(classType)) return 'encoding the prompt';
  if (/^(KSampler|SamplerCustom)/.test(classType)) return 'sampling';
  if (/^VAEDecode/.test(classType)) return 'decoding the image';
  if (classType === 'SaveImage') return 'saving the image';
  // Bookkeeping nodes take no time: the phase around them goes on (ComfyUI runs ModelSamplingSD3 between
  // the checkpoint's loader and the text encoders', and a cold load is one wait).
  if (/^(ModelSampling|Empty\w*Latent|Conditioning)/.test(classType)) return undefined;
  // An author's own workflow may run any node: its class names it (ImageScaleBy, an upscaler…).
  return `running ${classType}`;
}
