import { comboOptionsOf } from './read-combo-options.js';
import type { ApiWorkflow, ObjectInfo } from './types.js';

/**
 * How a server spells `value`, one of its files: as given, or with the other path separator. ComfyUI
 * lists a file in a subfolder of `models/checkpoints` as `sd3.5/x.safetensors` on Linux and macOS but as
 * `sd3.5\x.safetensors` on Windows (Python's os.path.relpath), and refuses any other spelling ("Value not
 * in list"). One config then serves GPU machines of both kinds. Undefined when the server has no such
 * file, or more than one that reads the same.
 */
export function serverSpellingOf(value: string, allowed: readonly string[]): string | undefined {
  if (allowed.includes(value)) return value;
  if (!/[\\/]/.test(value)) return undefined;
  const wanted = value.replaceAll('\\', '/');
  const same = allowed.filter((option) => option.replaceAll('\\', '/') === wanted);
  return same.length === 1 ? same[0] : undefined;
}

/** The workflow with each file name as this server spells it: the same object when none differs. */
export function respellForServer(workflow: ApiWorkflow, objectInfo: ObjectInfo): ApiWorkflow {
  let respelled: ApiWorkflow | undefined;
  for (const [nodeId, node] of Object.entries(workflow)) {
    for (const [input, value] of Object.entries(node.inputs)) {
      if (typeof value !== 'string' || !/[\\/]/.test(value)) continue;
      const allowed = comboOptionsOf(objectInfo, node.class_type, input);
      const spelled = allowed && serverSpellingOf(value, allowed);
      if (spelled === undefined || spelled === value) continue;
      respelled ??= structuredClone(workflow);
      respelled[nodeId]!.inputs[input] = spelled;
    }
  }
  return respelled ?? workflow;
}
