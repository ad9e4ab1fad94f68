import { randomUUID } from 'node:crypto';
import type { ApiWorkflow } from './types.js';

/** The undeclared input that carries the nonce; ComfyUI neither validates nor passes it to the node. */
export const FRESH_RUN_INPUT = 'astro_comfyui_fresh_run';

/**
 * A copy of the graph that ComfyUI must execute node by node instead of answering from its cache, with
 * the same pixels. ComfyUI's cache key of a node is its class and every key of its `inputs`, declared
 * or not (comfy_execution/caching.py), while validation and execution only read the declared ones
 * (execution.py); so a new value in an undeclared input on every node is a cache miss everywhere, and
 * model files replaced under the same name are loaded again.
 */
export function withFreshRun(graph: ApiWorkflow, nonce: string = randomUUID()): ApiWorkflow {
  return Object.fromEntries(Object.entries(graph).map(([id, node]) => [id, { ...node, inputs: { ...node.inputs, [FRESH_RUN_INPUT]: nonce } }]));
}
