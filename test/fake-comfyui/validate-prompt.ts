import type { InputSpec, NodeDefinition } from './node-definitions.js';
import { formatPython, reprPython } from './python-format.js';

export interface ComfyError {
  type: string;
  message: string;
  details: string;
  extra_info: Record<string, unknown>;
}

export interface NodeErrors {
  [nodeId: string]: { errors: ComfyError[]; dependent_outputs: string[]; class_type: string };
}

export interface ApiNode {
  class_type: string;
  inputs: Record<string, unknown>;
}
export type ApiPrompt = Record<string, ApiNode>;

export type ValidationResult = { ok: true; outputs: string[]; nodeErrors: NodeErrors } | { ok: false; error: ComfyError; nodeErrors: NodeErrors };

type NodeVerdict = { valid: boolean; reasons: ComfyError[] };

/** Thrown where ComfyUI's validator would raise (e.g. a link to a node that is not in the prompt). */
class ValidationException extends Error {
  constructor(
    message: string,
    readonly exceptionType: string,
  ) {
    super(message);
  }
}

/**
 * Validates an API-format prompt like ComfyUI's `execution.validate_prompt`: the same checks in the same
 * order, the same error types, messages and details, and the same rule that a prompt is queued when at
 * least one output node is valid.
 */
export function validatePrompt(
  prompt: Record<string, unknown>,
  definitions: Record<string, NodeDefinition>,
  partialExecutionTargets?: string[],
): ValidationResult {
  const outputs: string[] = [];
  for (const [id, node] of Object.entries(prompt)) {
    if (!isRecord(node) || !('class_type' in node)) {
      return { ok: false, error: invalidPrompt('Cannot execute because a node is missing the class_type property.', id), nodeErrors: {} };
    }
    const definition = definitions[String(node.class_type)];
    if (!definition) {
      return { ok: false, error: invalidPrompt(`Cannot execute because node ${String(node.class_type)} does not exist.`, id), nodeErrors: {} };
    }
    if (definition.outputNode && (!partialExecutionTargets || partialExecutionTargets.includes(id))) outputs.push(id);
  }
  if (outputs.length === 0) {
    return { ok: false, error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} }, nodeErrors: {} };
  }

  const nodes = prompt as Record<string, ApiNode>;
  const validated = new Map<string, NodeVerdict>();
  const goodOutputs: string[] = [];
  const failures: Array<[string, ComfyError[]]> = [];
  const nodeErrors: NodeErrors = {};
  for (const output of outputs) {
    let verdict: NodeVerdict;
    try {
      verdict = validateNode(output, nodes, definitions, validated);
    } catch (error) {
      const exception = error as ValidationException;
      verdict = {
        valid: false,
        reasons: [
          {
            type: 'exception_during_validation',
            message: 'Exception when validating node',
            details: exception.message,
            extra_info: { exception_type: exception.exceptionType ?? 'Exception', traceback: [] },
          },
        ],
      };
      validated.set(output, verdict);
    }
    if (verdict.valid) {
      goodOutputs.push(output);
      continue;
    }
    failures.push([output, verdict.reasons]);
    // Nodes downstream of a bad node are invalid without reasons; ComfyUI does not report them.
    for (const [id, result] of validated) {
      if (result.valid || result.reasons.length === 0) continue;
      nodeErrors[id] ??= { errors: result.reasons, dependent_outputs: [], class_type: nodes[id]!.class_type };
      nodeErrors[id].dependent_outputs.push(output);
    }
  }
  if (goodOutputs.length === 0) {
    const details = failures.flatMap(([, reasons]) => reasons.map((r) => `${r.message}: ${r.details}`)).join('\n');
    return {
      ok: false,
      error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details, extra_info: {} },
      nodeErrors,
    };
  }
  return { ok: true, outputs: goodOutputs, nodeErrors };
}

function validateNode(
  id: string,
  prompt: Record<string, ApiNode>,
  definitions: Record<string, NodeDefinition>,
  validated: Map<string, NodeVerdict>,
): NodeVerdict {
  const cached = validated.get(id);
  if (cached) return cached;
  const node = prompt[id]!;
  const definition = definitions[node.class_type]!;
  const inputs: Record<string, unknown> = isRecord(node.inputs) ? node.inputs : {};
  const errors: ComfyError[] = [];
  let valid = true;
  const specs: Array<[string, InputSpec, 'required' | 'optional']> = [
    ...Object.entries(definition.required).map(([n, s]) => [n, s, 'required'] as [string, InputSpec, 'required']),
    ...Object.entries(definition.optional).map(([n, s]) => [n, s, 'optional'] as [string, InputSpec, 'optional']),
  ];
  for (const [name, spec, category] of specs) {
    const inputConfig = [spec.type, spec.options];
    if (!(name in inputs)) {
      if (category === 'required') {
        errors.push({ type: 'required_input_missing', message: 'Required input is missing', details: name, extra_info: { input_name: name } });
      }
      continue;
    }
    let value = inputs[name];
    if (Array.isArray(value)) {
      if (value.length !== 2) {
        errors.push({
          type: 'bad_linked_input',
          message: 'Bad linked input, must be a length-2 list of [node_id, slot_index]',
          details: name,
          extra_info: { input_name: name, input_config: inputConfig, received_value: value },
        });
        continue;
      }
      const [sourceId, slot] = value as [unknown, unknown];
      const source = typeof sourceId === 'string' ? prompt[sourceId] : undefined;
      if (!source) throw new ValidationException(reprPython(sourceId), 'KeyError');
      if (typeof slot !== 'number') throw new ValidationException('tuple indices must be integers or slices, not str', 'TypeError');
      const receivedType = definitions[source.class_type]!.output[slot];
      if (receivedType === undefined) throw new ValidationException('tuple index out of range', 'IndexError');
      if (!typesMatch(receivedType, spec.type)) {
        errors.push({
          type: 'return_type_mismatch',
          message: 'Return type mismatch between linked nodes',
          details: `${name}, received_type(${receivedType}) mismatch input_type(${formatPython(spec.type)})`,
          extra_info: { input_name: name, input_config: inputConfig, received_type: receivedType, linked_node: value },
        });
        continue;
      }
      try {
        if (!validateNode(sourceId as string, prompt, definitions, validated).valid) valid = false;
      } catch (error) {
        // An exception inside the linked node's validation is reported on that node (execution.py).
        const exception = error as ValidationException;
        validated.set(sourceId as string, {
          valid: false,
          reasons: [
            {
              type: 'exception_during_inner_validation',
              message: 'Exception when validating inner node',
              details: exception.message,
              extra_info: {
                input_name: name,
                input_config: inputConfig,
                exception_message: exception.message,
                exception_type: exception.exceptionType ?? 'Exception',
                traceback: [],
                linked_node: value,
              },
            },
          ],
        });
        valid = false;
      }
      continue;
    }
    if (isRecord(value) && '__value__' in value) value = value.__value__;
    const converted = convertValue(value, spec.type);
    if ('error' in converted) {
      errors.push({
        type: 'invalid_input_type',
        message: `Failed to convert an input value to a ${String(spec.type)} value`,
        details: `${name}, ${formatPython(value)}, ${converted.error}`,
        extra_info: { input_name: name, input_config: inputConfig, received_value: value, exception_message: converted.error },
      });
      continue;
    }
    value = converted.value;
    inputs[name] = value;
    const { min, max } = spec.options;
    const numberType = typeof spec.type === 'string' ? spec.type : undefined;
    if (typeof min === 'number' && typeof value === 'number' && value < min) {
      errors.push({
        type: 'value_smaller_than_min',
        message: `Value ${formatPython(value, numberType)} smaller than min of ${formatPython(min, numberType)}`,
        details: name,
        extra_info: { input_name: name, input_config: inputConfig, received_value: value },
      });
      continue;
    }
    if (typeof max === 'number' && typeof value === 'number' && value > max) {
      errors.push({
        type: 'value_bigger_than_max',
        message: `Value ${formatPython(value, numberType)} bigger than max of ${formatPython(max, numberType)}`,
        details: name,
        extra_info: { input_name: name, input_config: inputConfig, received_value: value },
      });
      continue;
    }
    // 0.3.64 checks only classic combos here; a V3 combo's missing file fails at execution.
    if (Array.isArray(spec.type) && !spec.v3Combo && !spec.type.includes(value as string)) {
      // ComfyUI does not echo long lists such as every installed model file.
      const long = spec.type.length > 20;
      errors.push({
        type: 'value_not_in_list',
        message: 'Value not in list',
        details: `${name}: '${formatPython(value)}' not in ${long ? `(list of length ${spec.type.length})` : formatPython(spec.type)}`,
        extra_info: { input_name: name, input_config: long ? null : inputConfig, received_value: value },
      });
    }
  }
  const verdict = { valid: valid && errors.length === 0, reasons: errors };
  validated.set(id, verdict);
  return verdict;
}

function invalidPrompt(message: string, id: string): ComfyError {
  return { type: 'invalid_prompt', message, details: `Node ID '#${id}'`, extra_info: {} };
}

function typesMatch(received: string, expected: string | string[]): boolean {
  if (Array.isArray(expected)) return received === 'COMBO' || received === '*';
  if (received === '*' || expected === '*' || received === expected) return true;
  const receivedSet = received.split(',');
  const expectedSet = expected.split(',');
  return receivedSet.every((t) => expectedSet.includes(t));
}

/** Python's `int()`, `float()` and `str()` conversions as ComfyUI applies them before range checks. */
function convertValue(value: unknown, type: string | string[]): { value: unknown } | { error: string } {
  if (type === 'INT' || type === 'FLOAT') {
    const fn = type === 'INT' ? 'int' : 'float';
    if (typeof value === 'boolean') return { value: value ? 1 : 0 };
    if (typeof value === 'number') return { value: type === 'INT' ? Math.trunc(value) : value };
    if (typeof value === 'string') {
      const trimmed = value.trim();
      const ok = type === 'INT' ? /^[+-]?\d+$/.test(trimmed) : trimmed !== '' && !Number.isNaN(Number(trimmed));
      if (ok) return { value: Number(trimmed) };
      return {
        error: type === 'INT' ? `invalid literal for int() with base 10: ${reprPython(value)}` : `could not convert string to float: ${reprPython(value)}`,
      };
    }
    return { error: `${fn}() argument must be a string, a bytes-like object or a real number, not '${pythonTypeName(value)}'` };
  }
  if (type === 'STRING') return { value: typeof value === 'string' ? value : formatPython(value) };
  if (type === 'BOOLEAN') return { value: Boolean(value) };
  return { value };
}

function pythonTypeName(value: unknown): string {
  if (value === null) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  return typeof value === 'object' ? 'dict' : typeof value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
