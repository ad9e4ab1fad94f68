/** One node of an API-format ComfyUI graph: inputs are literal values or `[sourceNodeId, outputIndex]` links. */
export interface ApiNode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: { title?: string };
}

/** An API-format graph ("Save (API Format)" in ComfyUI), keyed by node id. */
export type ApiWorkflow = Record<string, ApiNode>;

/** Where ComfyUI put an output file; pass it to `/view`. */
export interface ImageRef {
  filename: string;
  subfolder: string;
  type: string;
}

export interface QueuePromptResult {
  prompt_id: string;
  number: number;
  node_errors: Record<string, unknown>;
}

/** `[number, prompt_id, prompt, extra_data, outputs_to_execute]` */
export type QueueItem = [number, string, ApiWorkflow, Record<string, unknown>, string[], ...unknown[]];

export interface QueueState {
  queue_running: QueueItem[];
  queue_pending: QueueItem[];
}

export interface HistoryEntry {
  prompt: QueueItem;
  outputs: Record<string, { images?: ImageRef[]; [key: string]: unknown }>;
  status?: { status_str: 'success' | 'error'; completed: boolean; messages: Array<[string, Record<string, unknown>]> } | null;
  meta?: Record<string, unknown>;
}

export interface SystemStats {
  system: {
    os: string;
    comfyui_version?: string;
    python_version?: string;
    pytorch_version?: string;
    ram_total?: number;
    ram_free?: number;
    [key: string]: unknown;
  };
  devices: Array<{ name: string; type: string; vram_total: number; vram_free: number; [key: string]: unknown }>;
}

/** `/object_info` for one node class; combo inputs come as `[[...options], {}]` or `["COMBO", {options}]`. */
export interface NodeInfo {
  input: {
    required?: Record<string, [unknown, Record<string, unknown>?]>;
    optional?: Record<string, [unknown, Record<string, unknown>?]>;
    hidden?: Record<string, unknown>;
  };
  output: string[];
  output_node: boolean;
  name: string;
  display_name?: string;
  category?: string;
  [key: string]: unknown;
}
export type ObjectInfo = Record<string, NodeInfo>;

/** A WebSocket message; unknown types are passed through untouched. */
export interface ComfyUIMessage {
  type: string;
  data: Record<string, unknown>;
}

/** Minimal logger; Astro's AstroIntegrationLogger and `console` both fit. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
  debug?(message: string): void;
}

export const silentLogger: Logger = { info() {}, warn() {}, error() {}, debug() {} };
