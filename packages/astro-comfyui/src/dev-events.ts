// The HMR event of a newly generated image, shared by the dev server side and the page script.
export const IMAGE_READY_EVENT = 'astro-comfyui:image-ready';
