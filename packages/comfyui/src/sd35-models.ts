/** The SD3.5 variants with the settings their ComfyUI examples use. */
export type Sd35Model = 'large' | 'large-turbo' | 'medium';

export interface Sd35Defaults {
  checkpoint: string;
  steps: number;
  cfg: number;
  sampler: string;
  scheduler: string;
  shift: number;
  /** Turbo is distilled for cfg 1: its negative is zeroed out rather than encoded. */
  zeroNegative: boolean;
}

export const sd35Defaults: Record<Sd35Model, Sd35Defaults> = {
  large: { checkpoint: 'sd3.5_large.safetensors', steps: 28, cfg: 4.5, sampler: 'euler', scheduler: 'sgm_uniform', shift: 3, zeroNegative: false },
  'large-turbo': { checkpoint: 'sd3.5_large_turbo.safetensors', steps: 4, cfg: 1, sampler: 'euler', scheduler: 'sgm_uniform', shift: 3, zeroNegative: true },
  medium: { checkpoint: 'sd3.5_medium.safetensors', steps: 40, cfg: 4.5, sampler: 'euler', scheduler: 'sgm_uniform', shift: 3, zeroNegative: false },
};

/** Stability's SD3.5 checkpoints carry no text encoders; these are the files ComfyUI's examples load beside them. */
export const defaultSd35TextEncoders = ['clip_l.safetensors', 'clip_g.safetensors', 't5xxl_fp16.safetensors'];
