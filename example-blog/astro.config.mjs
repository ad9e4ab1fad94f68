import { defineConfig, sharpImageService } from 'astro/config';
import comfyui from 'astro-comfyui';

export default defineConfig({
  site: 'https://example.com',
  // AVIF at sharp's effort 2 instead of 4: the demo's 66 derivatives encode in ~6 s instead of ~35 s on
  // two cores, for AVIF files ~10% larger. A site that builds rarely can leave this out for smaller files.
  image: { service: sharpImageService({ avif: { effort: 2 } }) },
  integrations: [
    comfyui({
      // COMFYUI_URL=http://gpu-box:8188 (or several, comma-separated) points the build at real ComfyUI.
      styles: {
        watercolor: { prefix: 'a loose watercolor painting of', suffix: ', soft washes, paper texture', negative: 'photo, text, watermark' },
        ink: { prefix: 'a detailed ink drawing of', suffix: ', crosshatching, black and white', negative: 'color, photo' },
        photo: { prefix: 'a photograph of', suffix: ', 35mm, natural light', negative: 'illustration, painting, text' },
      },
      formats: {
        hero: { width: 1344, height: 768 },
        square: { width: 1024, height: 1024 },
        portrait: { width: 832, height: 1216 },
      },
      presets: {
        cover: { style: 'watercolor', format: 'hero' },
        sketch: { style: 'ink', format: 'square', negative: 'blurry' },
      },
      // Without a reachable ComfyUI the demo still builds, with clearly marked placeholder images.
      onMissing: 'placeholder',
      // Generated images say so: in their files (XMP, on by default), in a corner mark, and under each picture.
      disclosure: { mark: { text: 'AI-generated' }, caption: 'AI-generated with Stable Diffusion 3.5' },
    }),
  ],
});
