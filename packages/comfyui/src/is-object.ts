/** Whether a parsed JSON value is an object with keys (not null, not a list): what ComfyUI answers mostly are. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
