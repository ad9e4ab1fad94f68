import type { ResolvedOptions } from './options.js';

/**
 * When the one endpoint, a local ComfyUI on its own port 8188 that astro-comfyui does not start, does not
 * answer: the sentence that points at a ComfyUI Desktop answering on its port 8000 instead, if one does.
 * Said where "no ComfyUI answers" is, so that its users' first build says what to set.
 */
export async function suggestComfyUIDesktop(options: Pick<ResolvedOptions, 'endpoints' | 'start'>): Promise<string | undefined> {
  if (options.start || options.endpoints.length !== 1) return undefined;
  const { findComfyUIDesktop } = await import('@astro-comfyui/comfyui');
  const desktop = await findComfyUIDesktop(options.endpoints[0]!);
  return (
    desktop && `A ComfyUI answers at ${desktop}, the port ComfyUI Desktop uses: set COMFYUI_URL=${desktop} (in the shell or the site's .env file) to use it.`
  );
}
