declare module 'virtual:astro-comfyui/images' {
  export const images: Record<string, Array<import('./images.js').IndexedPostImage>>;
}
