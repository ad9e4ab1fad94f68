/**
 * Kinds of model file whose members stand in for one another: the SD3 checkpoints, and each of the three
 * SD3 text encoders in its precisions (t5xxl_fp16, t5xxl_fp8_e4m3fn, t5xxl_fp8_e4m3fn_scaled…).
 */
const KINDS = [/t5xxl/i, /(^|[_-])clip_l([_.-]|$)/i, /(^|[_-])clip_g([_.-]|$)/i, /sd3|stable.?diffusion.?3/i];

/**
 * The files among `files` (one model folder, as ComfyUI lists it) of the same kind as `file`, which is
 * not among them: what an author who asked for sd3.5_large_turbo or t5xxl_fp16 has installed instead.
 * None for a file of no known kind.
 */
export function findSameKindFiles(file: string, files: readonly string[]): string[] {
  // By the file's own name: a subfolder ("sd3/clip_l.safetensors") says nothing of its kind.
  const nameOf = (path: string) => path.split(/[\\/]/).pop()!;
  const kind = KINDS.find((pattern) => pattern.test(nameOf(file)));
  return kind ? files.filter((other) => other !== file && kind.test(nameOf(other))) : [];
}
