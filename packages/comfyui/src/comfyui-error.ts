/** Stable codes for everything that can go wrong between this package and a ComfyUI server. */
export type ComfyUIErrorCode =
  | 'INVALID_OPTIONS'
  | 'UNREACHABLE'
  | 'TIMEOUT'
  | 'HTTP_ERROR'
  | 'VALIDATION_FAILED'
  | 'EXECUTION_FAILED'
  | 'INTERRUPTED'
  | 'NO_OUTPUT'
  | 'ABORTED'
  | 'WITHDRAWN'
  | 'UNSUPPORTED_SERVER'
  | 'DEADLINE_EXCEEDED'
  | 'MISSING_NODES_OR_MODELS'
  | 'INVALID_WORKFLOW'
  | 'START_FAILED'
  | 'CRASHED'
  | 'ALL_ENDPOINTS_DOWN'
  | 'BAD_OUTPUT';

/** The one error class of this package: a stable `code`, structured fields, and the `cause` when there is one. */
export class ComfyUIError extends Error {
  override name = 'ComfyUIError';
  readonly code: ComfyUIErrorCode;
  /** The ComfyUI base URL involved, when there is one. */
  readonly url: string | undefined;
  /** Structured details (validation node errors, HTTP status, log tail…) for programs; the message is for people. */
  readonly details: Record<string, unknown>;

  constructor(code: ComfyUIErrorCode, message: string, options: { url?: string; details?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.url = options.url;
    this.details = options.details ?? {};
  }
}

export function isComfyUIError(error: unknown, code?: ComfyUIErrorCode): error is ComfyUIError {
  return error instanceof ComfyUIError && (code === undefined || error.code === code);
}
