declare module 'virtual:astro-comfyui/images' {
  export const images: Record<string, Array<import('./images.js').IndexedPostImage>>;
  /** The `content` option: globs of the posts that are read, and the same as patterns. */
  export const content: { globs: string[]; patterns: RegExp[] };
}
