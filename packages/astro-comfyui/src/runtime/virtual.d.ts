declare module 'virtual:astro-comfyui/images' {
  export const images: Record<string, Array<{ src: import('astro').ImageMetadata; alt: string; prompt: string; index: number; placeholder: boolean }>>;
}
