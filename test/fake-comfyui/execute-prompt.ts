import { createHash } from 'node:crypto';
import { executeNode, NodeExecutionError, type NodeContext, type NodeResult, type NodeValue } from './execute-node.js';
import type { ApiPrompt } from './validate-prompt.js';

/** Raised at a step or node boundary after `POST /interrupt`, like comfy.model_management.InterruptProcessingException. */
export class InterruptedError extends Error {}

export interface CacheEntry {
  result: NodeResult;
  nodeId: string;
}

export interface ExecutionHooks {
  /** Sends one WebSocket message for this prompt (to its client only). */
  send(type: string, data: Record<string, unknown>): void;
  /** Checks for interrupt and stall before each node and step. */
  checkpoint(): Promise<void>;
  /** A node that tests want to fail with `execution_error`. */
  failureFor(nodeId: string, classType: string): { message: string; exceptionType: string } | undefined;
  context: Omit<NodeContext, 'nodeId' | 'prompt'>;
  /** Newer servers re-send `executed` with the cached UI output for cached output nodes. */
  cachedExecutedMessages: boolean;
  /** Newer servers send `progress_state` (every node's state so far) around each node and step. */
  progressState: boolean;
}

export interface ExecutionOutcome {
  success: boolean;
  messages: Array<[string, Record<string, unknown>]>;
  /** UI outputs of every output node of this prompt, executed now or cached earlier. */
  uiOutputs: Record<string, { images: unknown[] }>;
  executedUiOutputs: Record<string, { images: unknown[] }>;
  meta: Record<string, unknown>;
  executedNodes: string[];
}

/**
 * Runs a validated prompt like ComfyUI's PromptExecutor: outputs of nodes whose input signature is unchanged
 * come from the cache (only the current prompt's signatures survive), everything else executes in
 * dependency order, and the first failure stops the prompt.
 */
export async function executePrompt(
  promptId: string,
  prompt: ApiPrompt,
  outputsToExecute: string[],
  cache: Map<string, CacheEntry>,
  hooks: ExecutionHooks,
): Promise<ExecutionOutcome> {
  const messages: Array<[string, Record<string, unknown>]> = [];
  const addMessage = (type: string, data: Record<string, unknown>) => {
    const stamped = { ...data, timestamp: Date.now() };
    messages.push([type, stamped]);
    hooks.send(type, stamped);
  };
  addMessage('execution_start', { prompt_id: promptId });

  const signatures = computeSignatures(prompt);
  const current = new Set(Object.values(signatures));
  for (const key of cache.keys()) if (!current.has(key)) cache.delete(key);
  const cachedNodes = Object.keys(prompt).filter((id) => cache.has(signatures[id]!));
  addMessage('execution_cached', { nodes: cachedNodes, prompt_id: promptId });

  const executed: string[] = [];
  const outputs = new Map<string, NodeValue[]>();
  // The prompt's progress state as 0.3.64 sends it: every node that ran so far, with its last value.
  const states: Record<string, Record<string, unknown>> = {};
  const reportState = (id: string, value: number, max: number, state: 'running' | 'finished') => {
    if (!hooks.progressState) return;
    states[id] = { value, max, state, node_id: id, prompt_id: promptId, display_node_id: id, parent_node_id: null, real_node_id: id };
    hooks.send('progress_state', { prompt_id: promptId, nodes: structuredClone(states) });
  };
  const executedUiOutputs: ExecutionOutcome['executedUiOutputs'] = {};
  let success = true;

  const run = async (id: string): Promise<NodeValue[]> => {
    const known = outputs.get(id);
    if (known) return known;
    const node = prompt[id]!;
    const hit = cache.get(signatures[id]!);
    if (hit) {
      if (hit.result.ui && hooks.cachedExecutedMessages) {
        hooks.send('executed', { node: id, display_node: id, output: hit.result.ui, prompt_id: promptId });
        reportState(id, 1, 1, 'finished');
      }
      outputs.set(id, hit.result.outputs);
      return hit.result.outputs;
    }
    const inputs: Record<string, unknown> = {};
    for (const [name, input] of Object.entries(node.inputs)) {
      if (Array.isArray(input) && input.length === 2 && typeof input[0] === 'string' && prompt[input[0]]) {
        inputs[name] = (await run(input[0]))[input[1] as number] ?? null;
      } else {
        inputs[name] = input;
      }
    }
    await hooks.checkpoint();
    reportState(id, 0, 1, 'running');
    hooks.send('executing', { node: id, display_node: id, prompt_id: promptId });
    let last = { value: 1, max: 1 };
    const failure = hooks.failureFor(id, node.class_type);
    if (failure) throw Object.assign(new NodeExecutionError(failure.message, failure.exceptionType), { nodeId: id, inputs });
    let result: NodeResult;
    try {
      result = await executeNode(node.class_type, inputs, {
        ...hooks.context,
        nodeId: id,
        prompt,
        step: async (value, max) => {
          await hooks.checkpoint();
          await hooks.context.step(value, max);
          await hooks.checkpoint();
          last = { value, max };
          reportState(id, value, max, 'running');
          hooks.send('progress', { value, max, prompt_id: promptId, node: id });
        },
      });
    } catch (error) {
      throw Object.assign(error as Error, { nodeId: id, inputs });
    }
    if (result.ui) {
      executedUiOutputs[id] = result.ui;
      hooks.send('executed', { node: id, display_node: id, output: result.ui, prompt_id: promptId });
    }
    reportState(id, last.value, last.max, 'finished');
    cache.set(signatures[id]!, { result, nodeId: id });
    outputs.set(id, result.outputs);
    executed.push(id);
    return result.outputs;
  };

  try {
    for (const output of outputsToExecute) await run(output);
    addMessage('execution_success', { prompt_id: promptId });
  } catch (error) {
    success = false;
    const failed = error as Error & { nodeId?: string; inputs?: Record<string, unknown> };
    const nodeId = failed.nodeId ?? outputsToExecute[0]!;
    const base = { prompt_id: promptId, node_id: nodeId, node_type: prompt[nodeId]?.class_type ?? '', executed: [...executed] };
    if (error instanceof InterruptedError) {
      addMessage('execution_interrupted', base);
    } else {
      addMessage('execution_error', {
        ...base,
        exception_message: `${failed.message}\n`,
        exception_type: error instanceof NodeExecutionError ? error.exceptionType : 'Exception',
        traceback: [`  File "execution.py", line 1, in execute\n`],
        current_inputs: formatInputs(failed.inputs ?? {}),
        current_outputs: [...cache.values()].map((entry) => entry.nodeId),
      });
    }
  }

  const uiOutputs: ExecutionOutcome['uiOutputs'] = {};
  const meta: Record<string, unknown> = {};
  for (const [id] of Object.entries(prompt)) {
    const entry = cache.get(signatures[id]!);
    if (!entry?.result.ui) continue;
    uiOutputs[id] = entry.result.ui;
    meta[id] = { node_id: id, display_node: id, parent_node: null, real_node_id: id };
  }
  return { success, messages, uiOutputs, executedUiOutputs, meta, executedNodes: executed };
}

/** A node's cache key: its class and inputs, with each link replaced by the key of the node it comes from. */
function computeSignatures(prompt: ApiPrompt): Record<string, string> {
  const signatures: Record<string, string> = {};
  const sign = (id: string, seen: Set<string>): string => {
    if (signatures[id]) return signatures[id];
    if (seen.has(id)) throw new NodeExecutionError(`cycle at node ${id}`);
    seen.add(id);
    const node = prompt[id]!;
    const inputs = Object.keys(node.inputs)
      .sort()
      .map((name) => {
        const input = node.inputs[name];
        if (Array.isArray(input) && input.length === 2 && typeof input[0] === 'string' && prompt[input[0]]) {
          return [name, ['link', sign(input[0], seen), input[1]]];
        }
        return [name, input];
      });
    signatures[id] = createHash('sha1')
      .update(JSON.stringify([node.class_type, inputs]))
      .digest('hex');
    return signatures[id];
  };
  for (const id of Object.keys(prompt)) sign(id, new Set());
  return signatures;
}

function formatInputs(inputs: Record<string, unknown>): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(inputs).map(([name, v]) => [name, [v !== null && typeof v === 'object' ? `<${(v as { kind: string }).kind}>` : String(v)]]),
  );
}
