declare module 'virtual:astro-comfyui/images' {
  export const images: Record<string, Array<import('./images.js').IndexedPostImage>>;
  /**
   * The `content` option: globs of the posts that are read; a post matches one `include` pattern and no
   * `exclude` one. `root`: the project's folder, with `/` separators and a trailing `/`.
   */
  export const content: { root: string; globs: string[]; include: RegExp[]; exclude: RegExp[] };
}
