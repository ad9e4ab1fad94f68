import { AstroError } from 'astro/errors';

export type AstroComfyUIErrorCode =
  | 'INVALID_OPTIONS'
  | 'INVALID_FRONTMATTER'
  | 'MISSING_IMAGES'
  | 'GENERATION_FAILED'
  | 'COMFYUI_UNAVAILABLE'
  | 'MISSING_REQUIREMENTS'
  | 'MANIFEST_CORRUPT'
  | 'MANIFEST_CONFLICT'
  | 'LOCKED'
  | 'PIN_REFUSED'
  | 'NOT_WRITABLE'
  | 'IMAGES_NOT_FETCHED'
  | 'IMAGE_DAMAGED'
  | 'IMAGES_ELSEWHERE'
  | 'PRUNE_REFUSED'
  | 'STOPPED';

/**
 * The integration's one error class: a stable `code`, a message that says what happened and a `hint` that
 * says what to do. It is an AstroError so Astro prints the hint under the message.
 */
export class AstroComfyUIError extends AstroError {
  override name = 'AstroComfyUIError';
  readonly code: AstroComfyUIErrorCode;

  constructor(code: AstroComfyUIErrorCode, message: string, hint?: string, options: { cause?: unknown } = {}) {
    super(message, hint);
    this.code = code;
    if (options.cause !== undefined) this.cause = options.cause;
    // These errors explain a mistake in a post, an option or the machine; they are no crash, so Astro
    // prints the message and the hint without a stack trace of this package's internals.
    this.stack = '';
  }
}
