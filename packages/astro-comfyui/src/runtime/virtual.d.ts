declare module 'virtual:astro-comfyui/images' {
  export const images: Record<string, Array<import('./images.js').IndexedPostImage>>;
  /** The `content` option: globs of the posts that are read; a post matches one `include` pattern and no `exclude` one. */
  export const content: { globs: string[]; include: RegExp[]; exclude: RegExp[] };
}
