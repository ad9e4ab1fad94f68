import type { AstroConfig } from 'astro';

type ImageServiceSetting = AstroConfig['image']['service'];
type ImageService = Extract<ImageServiceSetting, { entrypoint: string }>;

/** Astro's default image service, which astro-comfyui wraps to keep provenance in derivatives. */
const SHARP_SERVICE = 'astro/assets/services/sharp';
const PROVENANCE_SERVICE = 'astro-comfyui/image-service';

/**
 * The `image.service` setting with each of Astro's sharp services replaced by astro-comfyui's, which is
 * the same service keeping the provenance XMP of generated images in their derivatives: one service, or
 * (Astro 7.4+) a `build` one, also used in dev, and a `runtime` one for on-demand pages. `setting` is
 * undefined when no service is sharp; `others` says, one line each, which ones are not and lose the XMP.
 */
export function withProvenanceService(current: ImageServiceSetting): { setting: ImageServiceSetting | undefined; others: string[] } {
  const others: string[] = [];
  const wrap = (service: ImageService, name: string, makes: string): ImageService => {
    if (service.entrypoint === SHARP_SERVICE) return { ...service, entrypoint: PROVENANCE_SERVICE };
    others.push(
      `${name} is "${service.entrypoint}", not Astro's sharp service: the AVIF/WebP copies it makes of generated images${makes} will not carry their provenance XMP (the committed PNGs do).`,
    );
    return service;
  };
  if ('build' in current) {
    const setting = {
      build: wrap(current.build, 'image.service.build', ' (builds, dev)'),
      runtime: wrap(current.runtime, 'image.service.runtime', ' (on-demand pages)'),
    };
    return { setting: others.length < 2 ? setting : undefined, others };
  }
  const setting = wrap(current, 'image.service', '');
  return { setting: others.length === 0 ? setting : undefined, others };
}
