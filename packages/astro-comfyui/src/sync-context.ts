import type { ComfyUISupervisor, Logger, PromptProgress } from '@astro-comfyui/comfyui';
import type { Manifest } from './manifest.js';
import type { ResolvedImage } from './resolve-image.js';

/** What the caller of `syncImages` (a build, dev, the CLI) gives a run besides the images and options. */
export interface SyncContext {
  logger: Logger;
  signal?: AbortSignal;
  /**
   * The signal of one image's generation (dev: it aborts when no post asks for the image any more); an
   * image stopped by it is dropped, not failed. Default: `signal`.
   */
  signalOf?: (image: ResolvedImage) => AbortSignal | undefined;
  /** Called when an image could not be generated (after it is logged; the run then fails with all of them). */
  onImageFailed?: (image: ResolvedImage, error: Error) => void;
  /** Called after each image file is written (its manifest entry follows in a batch); its failure is logged, not fatal. */
  onImageReady?: (image: ResolvedImage, made: { placeholder: boolean }) => void | Promise<void>;
  /** Report what would happen without generating or writing anything. */
  dryRun?: boolean;
  /** A ComfyUI supervisor that outlives this run (dev); without it the run starts and stops its own. */
  supervisor?: ComfyUISupervisor;
  /** Live progress of each generation (toolbar, CLI progress bars). */
  onProgress?: (image: ResolvedImage, progress: PromptProgress & { endpoint: string }) => void;
  /** The committed manifest as readCommittedManifest just returned it (dev reads it first to show what is committed); read here otherwise. */
  manifest?: Manifest;
  /** The images folder's file names as just listed (dev lists it for its index too); listed here otherwise. */
  files?: Set<string>;
  /**
   * When images that no ComfyUI answered for are made without anyone asking (dev: "as soon as a ComfyUI
   * answers…"); builds say "on the next build with ComfyUI".
   */
  whenComfyUIAnswers?: string;
  /** The same for images that no ComfyUI had the node types or model files for (dev: "as soon as a ComfyUI has…"). */
  whenComfyUICanRun?: string;
  /**
   * Images that cannot be made fail the run whatever `onMissing` says, and the advice offers no
   * placeholders: `generate` was asked to make the images, and placeholders written by it would be
   * committed as if it had.
   */
  realImagesOnly?: boolean;
}

/** What a run of `syncImages` found and did. */
export interface SyncSummary {
  /** The images as made: a `regenerate: true` prompt appears with the new seed it was generated with. */
  images: ResolvedImage[];
  total: number;
  ready: number;
  generated: number;
  placeholders: number;
  /** Images that would be generated (dry run) or were missing. */
  todo: ResolvedImage[];
  /** Keys of the images that had no committed file at the start. */
  missing: Set<string>;
  failed: Array<{ image: ResolvedImage; error: Error }>;
  /** The manifest when the run ended: what it read, or, once it committed images, what is on disk then. */
  manifest: Manifest;
  /**
   * Why the missing images became placeholders although ComfyUI was to make them: no ComfyUI answered, or
   * none had what they need. Null when they were made, failed, or frozen mode never asked.
   */
  waitingFor: 'comfyui' | 'requirements' | null;
}
