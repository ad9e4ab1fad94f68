import { isObject } from './is-object.js';
import type { HistoryEntry, ObjectInfo, QueuePromptResult, QueueState, SystemStats } from './types.js';

/**
 * The shapes of ComfyUI's JSON answers that this package reads. An answer is untrusted: a proxy's sign-in
 * page, another service on the port or a broken server can answer 200 with any JSON. Each reader returns
 * the answer typed, or throws an Error saying what is not as ComfyUI answers (the client names the call).
 */
export type AnswerReader<T> = (value: unknown) => T;

/** `GET /queue`: `{ queue_running: [[number, prompt_id, …]], queue_pending: […] }`. */
export const readQueueState: AnswerReader<QueueState> = (value) => {
  if (!isObject(value)) throw new Error('it is not an object');
  for (const list of ['queue_running', 'queue_pending'] as const) {
    const items = value[list];
    if (!Array.isArray(items)) throw new Error(`"${list}" is not a list`);
    if (!items.every((item) => Array.isArray(item) && typeof item[1] === 'string')) throw new Error(`an item of "${list}" has no prompt id`);
  }
  return value as unknown as QueueState;
};

/** `GET /history/{id}`: `{}` while the prompt is unknown, else `{ [id]: { outputs, status, … } }`. */
export const readHistory: AnswerReader<Record<string, HistoryEntry>> = (value) => {
  if (!isObject(value)) throw new Error('it is not an object');
  for (const [id, entry] of Object.entries(value)) {
    const problem = historyEntryProblem(entry);
    if (problem) throw new Error(`the entry of ${id.slice(0, 80)} ${problem}`);
  }
  return value as Record<string, HistoryEntry>;
};

function historyEntryProblem(entry: unknown): string | undefined {
  if (!isObject(entry)) return 'is not an object';
  if (entry.outputs !== undefined && !isObject(entry.outputs)) return 'has "outputs" that are not an object';
  for (const [node, output] of Object.entries(entry.outputs ?? {})) {
    if (!isObject(output)) return `has an output of node ${node.slice(0, 40)} that is not an object`;
    const images = output.images;
    if (images === undefined) continue;
    if (!Array.isArray(images)) return `has "images" of node ${node.slice(0, 40)} that are not a list`;
    const ref = (image: unknown) => isObject(image) && ['filename', 'subfolder', 'type'].every((key) => typeof image[key] === 'string');
    if (!images.every(ref)) return `has an image of node ${node.slice(0, 40)} without a filename, subfolder and type`;
  }
  const status = entry.status;
  if (status === undefined || status === null) return undefined;
  if (!isObject(status) || typeof status.status_str !== 'string' || !Array.isArray(status.messages)) {
    return 'has a "status" without "status_str" and "messages"';
  }
  if (!status.messages.every((message) => Array.isArray(message) && typeof message[0] === 'string')) return 'has a status message that is not [type, data]';
  return undefined;
}

/** `GET /system_stats`: `{ system: { comfyui_version, … }, devices: [{ name, vram_total, vram_free, … }] }`. */
export const readSystemStats: AnswerReader<SystemStats> = (value) => {
  if (!isObject(value) || !isObject(value.system)) throw new Error('it has no "system" object');
  for (const key of ['comfyui_version', 'python_version', 'pytorch_version'] as const) {
    if (value.system[key] !== undefined && typeof value.system[key] !== 'string') throw new Error(`"system.${key}" is not a text`);
  }
  const devices = value.devices ?? [];
  if (!Array.isArray(devices)) throw new Error('"devices" is not a list');
  const device = (d: unknown) => isObject(d) && typeof d.name === 'string' && typeof d.vram_total === 'number' && typeof d.vram_free === 'number';
  if (!devices.every(device)) throw new Error('a device has no name, vram_total and vram_free');
  return { ...value, devices } as unknown as SystemStats;
};

/** `GET /models/{folder}`: a list of file names. */
export const readModelList: AnswerReader<string[]> = (value) => {
  if (!Array.isArray(value) || !value.every((name) => typeof name === 'string')) throw new Error('it is not a list of file names');
  return value;
};

/** `GET /object_info`: node descriptions by class name (each one is checked where it is used). */
export const readObjectInfo: AnswerReader<ObjectInfo> = (value) => {
  if (!isObject(value)) throw new Error('it is not an object of node types');
  return value as ObjectInfo;
};

/** `POST /prompt` when accepted: `{ prompt_id, number, node_errors }`. */
export const readQueuedPrompt: AnswerReader<QueuePromptResult> = (value) => {
  if (!isObject(value) || typeof value.prompt_id !== 'string' || typeof value.number !== 'number') throw new Error('it has no "prompt_id" and "number"');
  return { node_errors: {}, ...value } as QueuePromptResult;
};
